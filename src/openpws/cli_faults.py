"""``openpws faults``: an account's fault rules from the command line (docs/sandbox.md,
"Faults"), through the same control-plane operations as the JSON API. A server sees a change
within a second."""

from __future__ import annotations

import json

import click

from openpws.cli import _account_option, _control, _database_option, _shown, main
from openpws.services import faults as rules
from openpws.services.faults import MAX_DELAY_MS, SOAP_FAULT_CODES


@main.group()
def faults() -> None:
    """Fault rules: an account's requests of an operation (optionally of one user) answered with a
    documented error, a lock held by another user, a SOAP fault, an HTTP status, a delay or a
    dropped connection, without touching its data."""


def _line(rule: rules.Rule) -> str:
    return "\t".join((str(rule.id), rule.operation, rule.user_key or "-",
                      "-" if rule.remaining is None else str(rule.remaining),
                      "-" if rule.probability is None else f"{rule.probability:g}",
                      json.dumps(rules.then_json(rule.then)), str(rule.answered), _shown(rule.created_at)))


def _then(error: int | None, lock_held_by: str | None, stealable: bool, soap_fault: str | None,
          http_status: int | None, delay_ms: int | None, drop_connection: bool) -> rules.Then:
    given: list[rules.Then] = []
    if error is not None:
        given.append(rules.Error(error))
    if lock_held_by is not None:
        given.append(rules.LockHeld(lock_held_by, stealable))
    if soap_fault is not None:
        given.append(rules.SoapFault(soap_fault))
    if http_status is not None:
        given.append(rules.HttpStatus(http_status))
    if delay_ms is not None:
        given.append(rules.Delay(delay_ms))
    if drop_connection:
        given.append(rules.Drop())
    if len(given) != 1:
        raise click.UsageError("give exactly one of --error, --lock-held-by, --soap-fault, --http-status, "
                               "--delay-ms and --drop-connection")
    if not stealable and lock_held_by is None:
        raise click.UsageError("--not-stealable goes with --lock-held-by")
    return given[0]


@faults.command("add")
@_account_option
@click.argument("operation")
@click.option("--user", help="Only this user's requests (a login).")
@click.option("--times", type=click.IntRange(min=1), help="Answer this many matching calls, then go.")
@click.option("--probability", type=click.FloatRange(0, 1), help="The chance that it answers a matching call.")
@click.option("--error", type=int, metavar="N", help="Answer the catalogue's message N, Status Fail.")
@click.option("--lock-held-by", metavar="LOGIN", help="Answer the lock conflict PwsFault naming this user.")
@click.option("--not-stealable", "stealable", flag_value=False, default=True,
              help="With --lock-held-by: LocksToSteal and StealLockFlag do not pass it.")
@click.option("--soap-fault", type=click.Choice(SOAP_FAULT_CODES), help="Answer an s:Server or s:Client fault.")
@click.option("--http-status", type=click.IntRange(400, 599), help="Answer this HTTP status, with no body.")
@click.option("--delay-ms", type=click.IntRange(0, MAX_DELAY_MS), help="Answer normally, this late.")
@click.option("--drop-connection", is_flag=True, help="Close the connection without the answer's body.")
@_database_option
def faults_add(account_code: str, operation: str, user: str | None, times: int | None, probability: float | None,
               error: int | None, lock_held_by: str | None, stealable: bool, soap_fault: str | None,
               http_status: int | None, delay_ms: int | None, drop_connection: bool, database_url: str) -> None:
    """Add a rule for OPERATION, and print it: id, operation, user, calls left, probability (- for
    none), its answer, calls answered, created.

    \b
    Example:
      openpws faults add --account scratch PwsSaveProjectRole --times 1 --error 50046
    """
    then = _then(error, lock_held_by, stealable, soap_fault, http_status, delay_ms, drop_connection)
    new = rules.NewRule(operation, then, user, times, probability)
    click.echo(_line(_control(database_url, lambda control: control.add_fault(account_code, new))))


@faults.command("list")
@_account_option
@_database_option
def faults_list(account_code: str, database_url: str) -> None:
    """List the account's rules, newest first, one line each (as `faults add` prints them).

    \b
    Example:
      openpws faults list --account scratch
    """
    for rule in _control(database_url, lambda control: control.fault_rules(account_code)):
        click.echo(_line(rule))


@faults.command("remove")
@_account_option
@click.argument("rule_id", metavar="ID", type=click.IntRange(min=1, max=2**31 - 1))
@_database_option
def faults_remove(account_code: str, rule_id: int, database_url: str) -> None:
    """Remove the rule ID.

    \b
    Example:
      openpws faults remove --account scratch 7
    """
    _control(database_url, lambda control: control.remove_fault(account_code, rule_id))
    click.echo(f"Removed fault rule {rule_id} of {account_code}.")


@faults.command("clear")
@_account_option
@_database_option
def faults_clear(account_code: str, database_url: str) -> None:
    """Remove every rule of the account.

    \b
    Example:
      openpws faults clear --account scratch
    """
    _control(database_url, lambda control: control.clear_faults(account_code))
    click.echo(f"Removed the fault rules of {account_code}.")
