"""``openpws rate-limits``: an account's rate limiting from the command line (docs/sandbox.md,
"Rate limits"), through the same control-plane operations as the JSON API. A server sees a change
within a second."""

from __future__ import annotations

import click

from openpws.cli import _account_option, _control, _database_option, main
from openpws.services import rate_limits
from openpws.services.rate_limits import DEFAULT_LIMITS, MAX_HITS, MODES, WINDOW_SECONDS

_HITS = click.IntRange(1, MAX_HITS)


@main.group("rate-limits")
def rate_limits_group() -> None:
    """Rate limiting as Projector does it: weighted hits per account, user and session over a
    60-second window on the account's clock; over a limit, a 10016 warning (warning mode) or the
    10016 PwsFault before any work (error mode). Off by default."""


def _show(limits: rate_limits.Limits) -> None:
    click.echo(f"mode\t{limits.mode}")
    click.echo(f"limits\tinstallation {limits.installation}\tuser {limits.user}\tsession {limits.session}")
    click.echo(f"window\t{WINDOW_SECONDS} s")
    for operation, hits in sorted(limits.weights.items()):
        click.echo(f"weight\t{operation}\t{hits}")


def _weight(text: str) -> tuple[str, int]:
    operation, sep, hits = text.partition("=")
    if not sep or not operation or not hits.isdigit() or int(hits) > MAX_HITS:
        raise click.BadParameter(f"{text!r} is not OPERATION=HITS (hits from 0 to {MAX_HITS})", param_hint="--weight")
    return operation, int(hits)


@rate_limits_group.command("set")
@_account_option
@click.option("--mode", type=click.Choice(MODES), required=True, help="off, warning or error.")
@click.option("--installation", type=_HITS, default=DEFAULT_LIMITS[0], show_default=True,
              help="Hits of the whole account in the window.")
@click.option("--user", type=_HITS, default=DEFAULT_LIMITS[1], show_default=True, help="Hits of one user.")
@click.option("--session", type=_HITS, default=DEFAULT_LIMITS[2], show_default=True, help="Hits of one session.")
@click.option("--weight", "weights", multiple=True, metavar="OPERATION=HITS",
              help="Hits per call of an operation (others weigh 1); repeatable.")
@_database_option
def rate_limits_set(account_code: str, mode: str, installation: int, user: int, session: int,
                    weights: tuple[str, ...], database_url: str) -> None:
    """Set the account's rate limiting (the whole of it: what is not given takes the defaults),
    and print it.

    \b
    Example:
      openpws rate-limits set --account scratch --mode error --user 10 --weight PwsGetProjectList=3
    """
    limits = rate_limits.Limits(mode, installation, user, session, dict(_weight(w) for w in weights))
    _show(_control(database_url, lambda control: control.set_rate_limits(account_code, limits)))


@rate_limits_group.command("show")
@_account_option
@_database_option
def rate_limits_show(account_code: str, database_url: str) -> None:
    """Print the account's rate limiting: mode, limits, window, weights.

    \b
    Example:
      openpws rate-limits show --account scratch
    """
    _show(_control(database_url, lambda control: control.rate_limits(account_code)))


@rate_limits_group.command("clear-hits")
@_account_option
@_database_option
def rate_limits_clear_hits(account_code: str, database_url: str) -> None:
    """Forget the hits counted against the account, its users and sessions.

    \b
    Example:
      openpws rate-limits clear-hits --account scratch
    """
    _control(database_url, lambda control: control.clear_rate_limit_hits(account_code))
    click.echo(f"Cleared the rate-limit hits of {account_code}.")
