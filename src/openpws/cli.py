"""The ``openpws`` command: serve the PWS API, and administer accounts, users, locks, clocks and
the request journal, fault rules (``cli_faults``), rate limits (``cli_rate_limits``) and the change
journal (``cli_changes``)."""

from __future__ import annotations

import os
import re
import secrets
import sys
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, BinaryIO, TypeVar

import click
from sqlalchemy import Connection

from openpws import __version__
from openpws.config import SETTINGS, Settings, load_settings
from openpws.sandbox.control import FIXTURES, Control
from openpws.sandbox.export import as_json, as_yaml
from openpws.sandbox.fixtures import for_account, packaged, read_text, schema
from openpws.sandbox.journal import JournalControl
from openpws.services import admin, sandbox
from openpws.services.context import Environment
from openpws.services.journal import Entry, Filter, Journals
from openpws.services.permissions import ALL, VIEW_ONLY, Permission
from openpws.services.sandbox import Advance, ClockChange, ClockView, FreezeAt, RealTime, RunFrom
from openpws.services.weeks import DAY_NAMES, day_name, day_number
from openpws.store import migrate
from openpws.store.engine import DatabaseUrlError
from openpws.store.transactions import Store

if TYPE_CHECKING:
    from openpws.soap.dispatch import Dispatcher

T = TypeVar("T")
_DEFAULTS = {s.name: s for s in SETTINGS}
FIXTURE_MEMBERS = frozenset(schema()["properties"])
_database_option = click.option(
    "--database", "database_url", metavar="URL", envvar="OPENPWS_DATABASE_URL",
    default=_DEFAULTS["database_url"].default, show_default=True,
    help="sqlite:///FILE or postgresql://USER@HOST:PORT/DB (also OPENPWS_DATABASE_URL).",
)


def _open(database_url: str, threads: int = 1) -> Store:
    try:
        store = Store.open(database_url, threads=threads, sql_log=load_settings().sql_log)
        migrate.upgrade(store.engine)
    except DatabaseUrlError as error:
        raise click.UsageError(str(error)) from None
    except Exception as error:  # the database could not be reached or migrated
        raise click.ClickException(f"cannot open the database {database_url}: {error}") from None
    return store


def _admin(database_url: str, work: Callable[[Connection], T], *, write: bool = True) -> T:
    """``work`` in one transaction on the database; an AdminError is the command's error message."""
    store = _open(database_url)
    try:
        with store.write() if write else store.read() as tx:
            return work(tx)
    except admin.AdminError as error:
        raise click.ClickException(str(error)) from None


def _control(database_url: str, work: Callable[[Control], T]) -> T:
    """``work`` with the control plane's operations on the database (the same the JSON API
    calls); an AdminError is the command's error message."""
    store = _open(database_url)
    environment = Environment(store, load_settings().with_changes(database_url=database_url))
    dispatcher: Dispatcher[Any] | None = None

    def handle(body: bytes) -> tuple[int, bytes]:
        # The PWS requests that load a fixture, answered in this process. The server's modules
        # are imported only then: the other commands start faster without them.
        nonlocal dispatcher
        if dispatcher is None:
            from openpws.app import create_dispatcher

            dispatcher = create_dispatcher(environment)
        return dispatcher.handle(body, None)

    try:
        return work(Control(environment, handle))
    except sandbox.Invalid as error:
        # A fixture's error names the item at fault by its path in the document.
        if error.path is not None and error.path.split(".")[0].split("[")[0] in FIXTURE_MEMBERS:
            raise click.ClickException(f"{error.message} (at {error.path} in the fixture)") from None
        raise click.ClickException(str(error)) from None
    except admin.AdminError as error:
        raise click.ClickException(str(error)) from None
    finally:
        store.dispose()


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _account_now(tx: Connection, account_code: str) -> datetime:
    """Now on the account's clock: locks are taken, listed and released at the account's time."""
    return sandbox.now_in(tx, account_code, datetime.now(UTC))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="openpws")
def main() -> None:
    """openpws: a self-hostable Projector PSA Web Services (PWS) SOAP server.

    \b
    Example:
      openpws serve --demo
    """


@main.command()
@click.option("--host", default=_DEFAULTS["host"].default, show_default=True, envvar="OPENPWS_HOST",
              help="Address to listen on.")
@click.option("--port", type=int, default=_DEFAULTS["port"].default, show_default=True, envvar="OPENPWS_PORT",
              help="TCP port to listen on.")
@_database_option
@click.option("--workers", type=click.IntRange(min=1), default=_DEFAULTS["workers"].default, show_default=True,
              envvar="OPENPWS_WORKERS", help="Server processes sharing the database.")
@click.option("--threads", type=click.IntRange(min=1), default=None,
              help="Writes worked on at once per process (a thread and a database connection each).")
@click.option("--demo", is_flag=True, help="Create the demo account from the packaged fixture demo if it is absent: "
              "account demo, users admin@demo, viewer@demo and dev@demo with the password demo, and its "
              "client/engagement/project/role tree.")
def serve(host: str, port: int, database_url: str, workers: int, threads: int | None, demo: bool) -> None:
    """Create or migrate the schema, then serve PWS over HTTP.

    Any number of workers can share one PostgreSQL database. With SQLite they share one file on
    one host, and write transactions take turns on its lock.

    \b
    Example:
      openpws serve --demo --port 8080
      openpws serve --database postgresql://postgres@127.0.0.1:5432/pws --workers 2
    """
    import uvicorn

    from openpws.app import create_app

    settings = load_settings().with_changes(
        host=host, port=port, database_url=database_url, workers=workers, threads=threads
    )
    generated = not settings.admin_token
    if generated:
        settings = settings.with_changes(admin_token=secrets.token_urlsafe(24))
    store = _open(settings.database_url, settings.threads)
    if demo:
        _demo(settings, store)
    shown_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host  # noqa: S104
    endpoint = f"http://{shown_host}:{port}/OpsProjectorWcfSvc/PwsProjectorServices.svc"
    click.echo(f"Database: {store.engine.url.render_as_string(hide_password=True)}")
    if workers > 1 and store.dialect == "sqlite":
        click.echo(f"Workers:  {workers} processes share this SQLite file on this host; SQLite lets one "
                   "write transaction run at a time, so writes take turns (use PostgreSQL to scale writes).")
    click.echo(f"Endpoint: {endpoint}")
    click.echo(f"WSDL:     {endpoint}?wsdl   (single file: {endpoint}?singleWsdl)")
    control_plane = f"http://{shown_host}:{port}/_openpws/api/"
    if generated or demo:
        click.echo(f"Admin:    {control_plane}   (Authorization: Bearer {settings.admin_token})")
    else:
        click.echo(f"Admin:    {control_plane}   (Authorization: Bearer <OPENPWS_ADMIN_TOKEN>)")
    click.echo(f"Pages:    http://{shown_host}:{port}/_openpws/   (sign in with the admin token)")
    sys.stdout.flush()
    if workers == 1:
        uvicorn.run(create_app(settings, store), host=host, port=port, access_log=False, log_level="warning",
                    lifespan="on")
        return
    store.dispose()
    os.environ.update(settings.environment())
    from openpws.observability.metrics import shared_by_workers

    with shared_by_workers(workers):  # /metrics of any worker sums them all
        uvicorn.run("openpws.app:app_from_environment", factory=True, host=host, port=port, workers=workers,
                    access_log=False, log_level="warning", lifespan="on")


# The demo account serve --demo makes from the packaged fixture demo, with one published password.
DEMO_ACCOUNT, DEMO_NAME, DEMO_PASSWORD = "demo", "openpws demo", "demo"


def _demo(settings: Settings, store: Store) -> None:
    """Create the demo account from the packaged fixture ``demo`` if it is absent; print its users."""
    from openpws.app import create_dispatcher

    dispatcher = create_dispatcher(Environment(store, settings))
    control = Control(Environment(store, settings), lambda body: dispatcher.handle(body, None))
    created = None
    try:
        control.account(DEMO_ACCOUNT)
    except sandbox.NotFound:
        try:
            created = control.create_account(code=DEMO_ACCOUNT, name=DEMO_NAME, fixture_name="demo",
                                              password=DEMO_PASSWORD)
        except sandbox.Conflict:
            pass  # another process made it meanwhile
    if created is not None:
        click.echo(f"Loaded the demo tree ({created.requests} requests): clients C000117 and its child C000118, "
                   "engagements, projects, roles with hours, an invoice.")
    click.echo(("Created" if created else "Using") + f" demo account '{DEMO_ACCOUNT}':")
    for user in packaged("demo").users:
        held = ", ".join(sorted(user.permissions)) or "no permissions: a resource to staff roles with"
        click.echo(f"  user {for_account(user.login, DEMO_ACCOUNT)} / password {DEMO_PASSWORD}  ({held})")


@main.group()
def account() -> None:
    """Manage accounts (each a separate installation: nothing is shared between accounts)."""


@account.command("create")
@click.argument("code")
@click.option("--name", help="Account name (defaults to the fixture's, or to the code).")
@click.option("--week-starts", "week_starts", type=click.Choice([d.lower() for d in DAY_NAMES], case_sensitive=False),
              help="The first day of the account's weeks: every hours bucket (BucketStartDate) starts on it, and "
                   "DailyMinutes and allocation notes are indexed from it. Default: the fixture's, else monday.")
@click.option("--fixture", "fixture_file", type=click.File("rb"), metavar="FILE",
              help="Load a fixture document, YAML or JSON (docs/fixtures.md; - reads standard input): its users "
                   "(with generated passwords where it gives none), client tree, hours, invoices and locks.")
@click.option("--fixture-name", type=click.Choice(FIXTURES),
              help="Load a packaged fixture: demo is the demo tree, with users admin@CODE, viewer@CODE and dev@CODE "
                   "and generated passwords (its weeks start on Monday). Without a fixture the account is empty and "
                   "has no users.")
@click.option("--ttl-seconds", type=click.FloatRange(min=0, min_open=True),
              help="Remove the account this many seconds from now (real time).")
@_database_option
def account_create(code: str, name: str | None, week_starts: str | None, fixture_file: BinaryIO | None,
                   fixture_name: str | None, ttl_seconds: float | None, database_url: str) -> None:
    """Create the account CODE (the AccountCode clients send to PwsAuthenticate), and print its
    users and their passwords, if it has any.

    \b
    Example:
      openpws account create acme --name "Acme Consulting"
      openpws account create acme-us --week-starts sunday
      openpws account create scratch --fixture-name demo --ttl-seconds 3600
      openpws account create staging --fixture staging.yaml
    """
    week_start = None if week_starts is None else day_number(week_starts)
    document = None if fixture_file is None else _fixture_document(fixture_file.read())
    created = _control(database_url, lambda control: control.create_account(
        code=code, name=name, fixture_name=fixture_name, fixture=document, ttl_seconds=ttl_seconds,
        administrator=False, week_start=week_start))
    removal = f"; removed in {ttl_seconds:g} s." if ttl_seconds is not None else "."
    click.echo(f"Created account {created.code} (AccountUid {created.uid}); its weeks start on "
               f"{day_name(created.week_start)}{removal}")
    if created.requests:
        click.echo(f"Loaded its fixture with {created.requests} PWS requests.")
    for user in created.users:
        click.echo(f"  user {user.login} / password {user.password}  ({', '.join(user.permissions)})")


def _fixture_document(text: bytes) -> object:
    try:
        return read_text(text)
    except sandbox.Invalid as error:
        raise click.ClickException(f"the fixture cannot be read: {error.message}") from None


@account.command("export")
@click.argument("code")
@click.option("--format", "shape", type=click.Choice(["yaml", "json"]), default="yaml", show_default=True,
              help="The document's format.")
@_database_option
def account_export(code: str, shape: str, database_url: str) -> None:
    """Print the account CODE as a fixture document (docs/fixtures.md): its settings, users
    (without passwords), client tree, hours, invoices and live locks. Loading it into another
    account (account create --fixture) gives the same tree.

    \b
    Example:
      openpws account export scratch > scratch.yaml
      openpws account export scratch --format json
    """
    document = _control(database_url, lambda control: control.export_account(code))
    click.echo(as_json(document) if shape == "json" else as_yaml(document), nl=False)


@account.command("delete")
@click.argument("code")
@_database_option
def account_delete(code: str, database_url: str) -> None:
    """Remove the account CODE and everything of it: users, sessions, clients, engagements,
    projects, roles, hours, invoices and locks. Other accounts are untouched.

    \b
    Example:
      openpws account delete scratch
    """
    _control(database_url, lambda control: control.delete_account(code))
    click.echo(f"Deleted account {code}.")


@account.command("list")
@_database_option
def account_list(database_url: str) -> None:
    """List the accounts, newest first, one line each: code, created (UTC), expires (real time,
    or -), the account's clock now (with 'frozen' or its offset from real time), and how many
    users, clients, engagements, projects, roles (not deleted), invoices and live locks it holds.

    \b
    Example:
      openpws account list
    """
    for view in _control(database_url, lambda control: control.accounts()):
        counts = " ".join(f"{name}={count}" for name, count in view.counts.items())
        expires = _shown(view.expires_at) if view.expires_at is not None else "-"
        click.echo(f"{view.code}\t{_shown(view.created_at)}\t{expires}\t{_clock_text(view.clock)}\t{counts}")


@main.group()
def user() -> None:
    """Manage the users of an account."""


def _read_password() -> str:
    if sys.stdin is not None and sys.stdin.isatty():
        return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))
    line = sys.stdin.readline() if sys.stdin is not None else ""
    return line.rstrip("\r\n")


@user.command("create")
@click.option("--account", "account_code", required=True, help="Account code.")
@click.option("--login", required=True, help="Login name sent as UserName to PwsAuthenticate.")
@click.option("--display-name", required=True, help="Name shown as UserDisplayName.")
@click.option("--reference-id", help="Reference system id (employee id), UserReferenceSystemId.")
@click.option("--email", help="E-mail address.")
@click.option("--permission", "permissions", multiple=True,
              type=click.Choice([p.value for p in Permission] + ["all"]),
              help="A permission to grant; repeat for several. 'all' grants every one. "
                   "Without any, the user gets view-only access (web-services, clients-view, projects-view).")
@_database_option
def user_create(account_code: str, login: str, display_name: str, reference_id: str | None, email: str | None,
                permissions: tuple[str, ...], database_url: str) -> None:
    """Create a user. The password is read from standard input (or asked for at a terminal),
    never taken from the command line.

    \b
    Example:
      echo 's3cret' | openpws user create --account acme --login pm@acme \\
          --display-name "Pat Manager" --reference-id E123 --permission all
    """
    granted = ALL if "all" in permissions else (
        frozenset(Permission(p) for p in permissions) if permissions else VIEW_ONLY
    )
    password = _read_password()
    settings: Settings = load_settings()
    created = _admin(database_url, lambda tx: admin.create_user(
        tx, account_code, login=login, display_name=display_name, password=password, permissions=granted,
        reference_id=reference_id, email=email, scrypt_cost=settings.scrypt_cost, now=_now(),
    ))
    click.echo(f"Created user {created.login} in account {account_code} (UserUid {created.uid}).")


@user.command("list")
@click.option("--account", "account_code", required=True, help="Account code.")
@_database_option
def user_list(account_code: str, database_url: str) -> None:
    """List an account's users with their Uids and permissions.

    \b
    Example:
      openpws user list --account demo
    """
    rows = _admin(database_url, lambda tx: admin.list_users(tx, account_code), write=False)
    for row in rows:
        click.echo(f"{row.login}\t{row.display_name}\t{row.reference_id or '-'}\t{row.uid}\t"
                   f"{','.join(sorted(row.permissions)) or '-'}")


@main.group()
def lock() -> None:
    """See and take pessimistic locks (what PwsAcquireProjectorLocks takes) in an account."""


def _shown(moment: datetime) -> str:
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}Z"


@lock.command("list")
@click.option("--account", "account_code", required=True, help="Account code.")
@_database_option
def lock_list(account_code: str, database_url: str) -> None:
    """List the live locks of an account, one line each: ProjectorLockSetId, holder login and
    display name, TYPE:CODE of the locked entity, acquired, expires (UTC), internal or -.

    \b
    Example:
      openpws lock list --account demo
    """
    rows = _admin(database_url, lambda tx: admin.list_locks(tx, account_code, _account_now(tx, account_code)),
                  write=False)
    for row in rows:
        held = row.lock
        click.echo(f"{held.lock_set_id}\t{row.login}\t{row.display_name}\t"
                   f"{held.entity_type}:{held.entity_code or held.entity_uid}\t{_shown(held.acquired_at)}\t"
                   f"{_shown(row.expires_at)}\t{'internal' if row.internal else '-'}")


@lock.command("take")
@click.option("--account", "account_code", required=True, help="Account code.")
@click.option("--user", "login", required=True, help="Login of the user who is to hold the lock.")
@click.option("--entity", required=True, metavar="TYPE:CODE",
              help="E:ENGAGEMENT_CODE, P:PROJECT_CODE or R:ROLE_EXTERNAL_SYSTEM_IDENTIFIER.")
@click.option("--seconds", type=int, default=3600, show_default=True, help="Lock duration (1 to 86400).")
@click.option("--internal", is_flag=True,
              help="Hold it as a back-office process would: nobody can steal it (AllowLocksToBeStolenFlag false).")
@_database_option
def lock_take(account_code: str, login: str, entity: str, seconds: int, internal: bool, database_url: str) -> None:
    """Lock an engagement, project or role as the given user (whatever their permissions), as if
    they were editing it, and print the ProjectorLockSetId (alone on standard output, so a script
    can keep it). Other users' writes to it then fail with a PwsFault until the lock expires or is
    released.

    \b
    Example:
      openpws lock take --account demo --user viewer@demo --entity E:P001323
      openpws lock take --account demo --user viewer@demo --entity R:Role-301 --seconds 600 --internal
    """
    set_id = _admin(database_url,
                    lambda tx: admin.take_lock(tx, account_code, login, entity, seconds, internal=internal,
                                               now=_account_now(tx, account_code)))
    click.echo(f"{login} holds {entity} for {seconds} s{' (internal)' if internal else ''}: "
               f"ProjectorLockSetId {set_id}", err=True)
    click.echo(str(set_id))


@lock.command("release")
@click.option("--account", "account_code", required=True, help="Account code.")
@click.option("--set", "set_id", type=int, required=True, help="The ProjectorLockSetId to release.")
@_database_option
def lock_release(account_code: str, set_id: int, database_url: str) -> None:
    """Release a lock set, whoever holds it: its locks end now, and its holder finds it released
    (as after PwsReleaseProjectorLocks).

    \b
    Example:
      openpws lock release --account demo --set 1
    """
    live = _admin(database_url, lambda tx: admin.release_lock(tx, account_code, set_id,
                                                             _account_now(tx, account_code)))
    click.echo(f"Released lock set {set_id}." if live else f"Lock set {set_id} had already ended.")


@main.command()
def operations() -> None:
    """List the operations of the served contract with their SOAPActions.

    \b
    Example:
      openpws operations
    """
    from openpws.contract import load_contract

    for operation in load_contract().operations.values():
        click.echo(f"{operation.name}\t{operation.soap_action}")


# --- clocks ---------------------------------------------------------------------------------------

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def _duration(text: str) -> timedelta:
    found = _DURATION.match(text)
    if found is None:
        raise click.BadParameter(f"{text!r} is not a duration: seconds, or a number with s, m, h or d (e.g. 61m)")
    return timedelta(seconds=float(found.group(1)) * _UNIT_SECONDS[found.group(2)])


def _instant(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(f"{text!r} is not an ISO 8601 time, e.g. 2026-01-05T09:00:00Z") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _clock_text(view: ClockView) -> str:
    if view.frozen:
        return f"{_shown(view.now)} frozen"
    seconds = view.offset.total_seconds()
    return f"{_shown(view.now)} " + ("real time" if seconds == 0 else f"running, offset {seconds:+.3f} s")


@main.group()
def clock() -> None:
    """See and move an account's clock. Everything time-dependent in the account follows it:
    session expiry, lock expiry, ServerTimestampUtc, last-updated stamps, invoice dates. Other
    accounts keep their own clocks."""


_account_option = click.option("--account", "account_code", required=True, help="Account code.")


def _change_clock(database_url: str, account_code: str, change: ClockChange) -> None:
    view = _control(database_url, lambda control: control.set_clock(account_code, change))
    click.echo(f"{account_code}: {_clock_text(view)}")


@clock.command("show")
@_account_option
@_database_option
def clock_show(account_code: str, database_url: str) -> None:
    """Print the account's time now (UTC), and whether it is frozen or its offset from real time.

    \b
    Example:
      openpws clock show --account demo
    """
    view = _control(database_url, lambda control: control.get_clock(account_code))
    click.echo(f"{account_code}: {_clock_text(view)}")


@clock.command("freeze")
@_account_option
@click.option("--at", "at", metavar="TIME", help="ISO 8601 instant to freeze at (UTC unless it has an offset); "
              "default: the time the account's clock shows now.")
@_database_option
def clock_freeze(account_code: str, at: str | None, database_url: str) -> None:
    """Stop the account's clock, at TIME or where it is.

    \b
    Example:
      openpws clock freeze --account demo --at 2026-01-05T09:00:00Z
    """
    _change_clock(database_url, account_code, FreezeAt(None if at is None else _instant(at)))


@clock.command("set")
@_account_option
@click.argument("time")
@_database_option
def clock_set(account_code: str, time: str, database_url: str) -> None:
    """Set the account's clock to TIME (ISO 8601, UTC unless it has an offset); it runs on from there.

    \b
    Example:
      openpws clock set --account demo 2026-01-05T09:00:00Z
    """
    _change_clock(database_url, account_code, RunFrom(_instant(time)))


@clock.command("advance")
@_account_option
@click.argument("duration")
@_database_option
def clock_advance(account_code: str, duration: str, database_url: str) -> None:
    """Move the account's clock forward by DURATION (seconds, or a number with s, m, h or d),
    frozen or running as it is.

    \b
    Example:
      openpws clock advance --account demo 61m
    """
    _change_clock(database_url, account_code, Advance(_duration(duration)))


@clock.command("real")
@_account_option
@_database_option
def clock_real(account_code: str, database_url: str) -> None:
    """Return the account's clock to real time.

    \b
    Example:
      openpws clock real --account demo
    """
    _change_clock(database_url, account_code, RealTime())


# --- snapshots ------------------------------------------------------------------------------------

@main.group()
def snapshot() -> None:
    """Snapshot an account and restore it later, exactly: its data, locks and settings, with the
    same codes, Uids and row versions. Sessions are not part of a snapshot: they live on across a
    restore while their user exists. The account's clock and expiry stay as they are."""


def _counts_text(counts: Mapping[str, int]) -> str:
    return " ".join(f"{name}={count}" for name, count in counts.items())


@snapshot.command("create")
@_account_option
@click.option("--name", help="A name to tell the snapshot by (up to 100 characters).")
@_database_option
def snapshot_create(account_code: str, name: str | None, database_url: str) -> None:
    """Snapshot the account, and print the snapshot's id (what restore takes).

    \b
    Example:
      openpws snapshot create --account scratch --name before-import
    """
    view = _control(database_url, lambda control: control.take_snapshot(account_code, name))
    click.echo(f"Snapshot {view.id} of {view.account}: {view.rows} rows ({_counts_text(view.counts)}).")


@snapshot.command("list")
@_account_option
@_database_option
def snapshot_list(account_code: str, database_url: str) -> None:
    """List the account's snapshots, newest first, one line each: id, taken (on the account's
    clock), name (or -), 'creation' for the one reset restores (or -), rows, and the account's
    counts then.

    \b
    Example:
      openpws snapshot list --account scratch
    """
    for view in _control(database_url, lambda control: control.snapshots(account_code)):
        click.echo(f"{view.id}\t{_shown(view.taken_at)}\t{view.name or '-'}\t{'creation' if view.creation else '-'}"
                   f"\t{view.rows}\t{_counts_text(view.counts)}")


@snapshot.command("restore")
@_account_option
@click.argument("snapshot_id", metavar="ID", type=click.IntRange(min=1, max=2**31 - 1))
@_database_option
def snapshot_restore(account_code: str, snapshot_id: int, database_url: str) -> None:
    """Put the account back exactly as snapshot ID holds it, in one transaction.

    \b
    Example:
      openpws snapshot restore --account scratch 12
    """
    view = _control(database_url, lambda control: control.restore_snapshot(account_code, snapshot_id))
    click.echo(f"Restored {view.account} to snapshot {view.id} (taken {_shown(view.taken_at)}).")


@account.command("reset")
@click.argument("code")
@_database_option
def account_reset(code: str, database_url: str) -> None:
    """Put the account CODE back as it was created: the restore of the snapshot taken then (by
    `account create`, the control plane, or `serve --demo`).

    \b
    Example:
      openpws account reset scratch
    """
    view = _control(database_url, lambda control: control.reset_account(code))
    click.echo(f"Reset {view.account} to its creation (snapshot {view.id}, taken {_shown(view.taken_at)}).")
# --- the request journal --------------------------------------------------------------------------

@main.group()
def requests() -> None:
    """See the PWS exchanges an account's clients made (the request journal), newest first:
    list, show, clear, or tail them as they happen. Without --account: the server-wide journal
    of the requests that named no account (a bad ticket, a bad envelope)."""


_journal_account = click.option("--account", "account_code", help="Account code (default: the server-wide journal).")


def _journal(database_url: str, work: Callable[[JournalControl], T]) -> T:
    """``work`` with the journal's operations on the database (the same the JSON API calls)."""
    store = _open(database_url)
    try:
        return work(JournalControl(Journals(store, load_settings().with_changes(database_url=database_url))))
    except admin.AdminError as error:
        raise click.ClickException(str(error)) from None
    finally:
        store.dispose()


def _entry_line(entry: Entry) -> str:
    errors = ",".join(str(n) for n in entry.errors) or "-"
    return (f"{entry.id}\t{_shown(entry.time)}\t{entry.login or '-'}\t{entry.operation or '-'}\t{entry.status}\t"
            f"{errors}\t{entry.duration_ms:.1f} ms")


@requests.command("list")
@_journal_account
@click.option("--operation", help="Only this operation, e.g. PwsDeleteProject.")
@click.option("--status", help="Only this Status: Ok, OkWithWarnings, Fail, FailSessionInvalid, PwsFault, "
              "s:Client or s:Server.")
@click.option("--error", type=int, help="Only exchanges whose messages carry this ErrorNumber.")
@click.option("--since", metavar="TIME", help="At or after this ISO 8601 time (the account's clock).")
@click.option("--limit", type=click.IntRange(1, 1000), default=100, show_default=True)
@_database_option
def requests_list(account_code: str | None, operation: str | None, status: str | None, error: int | None,
                  since: str | None, limit: int, database_url: str) -> None:
    """List exchanges, newest first, one line each: id (the X-Openpws-Request-Id), time (the
    account's clock), user, operation, status, error numbers, duration.

    \b
    Example:
      openpws requests list --account demo --status Fail
    """
    given = Filter(operation=operation, status=status, error=error,
                   since=None if since is None else _instant(since).replace(tzinfo=None))
    for entry in _journal(database_url, lambda journal: journal.entries(account_code, given, limit)):
        click.echo(_entry_line(entry))


@requests.command("show")
@_journal_account
@click.argument("request_id", type=int)
@_database_option
def requests_show(account_code: str | None, request_id: int, database_url: str) -> None:
    """Print one exchange: its line, the members it sent that openpws does not model, and its
    request and response XML (session tickets and passwords masked).

    \b
    Example:
      openpws requests show --account demo 1001
    """
    entry = _journal(database_url, lambda journal: journal.entry(account_code, request_id))
    click.echo(_entry_line(entry))
    if entry.not_modelled:
        click.echo("not modelled: " + ", ".join(entry.not_modelled))
    click.echo(f"--- request\n{entry.request_xml}\n--- response (HTTP {entry.http_status})\n{entry.response_xml}")


@requests.command("clear")
@_journal_account
@_database_option
def requests_clear(account_code: str | None, database_url: str) -> None:
    """Empty the journal.

    \b
    Example:
      openpws requests clear --account demo
    """
    _journal(database_url, lambda journal: journal.clear(account_code))
    click.echo(f"Cleared the request journal of {account_code or 'the server'}.")


@requests.command("tail")
@_journal_account
@click.option("--xml", is_flag=True, help="Print each exchange's request and response XML too.")
@click.option("--seconds", type=click.FloatRange(min=0, min_open=True), help="Stop after this long (default: never).")
@click.option("--every", type=click.FloatRange(min=0.05), default=0.5, show_default=True,
              help="Seconds between looks at the database.")
@_database_option
def requests_tail(account_code: str | None, xml: bool, seconds: float | None, every: float,
                  database_url: str) -> None:
    """Print each exchange as it happens (from any server process on the database), one line
    each as in list, oldest first; stop with Ctrl-C.

    \b
    Example:
      openpws requests tail --account demo
      openpws requests tail --account demo --xml
    """

    def follow(journal: JournalControl) -> None:
        for entry in journal.follow(account_code, every=every, seconds=seconds, xml=xml):
            click.echo(_entry_line(entry))
            if xml:
                click.echo(f"--- request\n{entry.request_xml}\n--- response\n{entry.response_xml}")
            sys.stdout.flush()

    try:
        _journal(database_url, follow)
    except KeyboardInterrupt:
        pass


# The fault rule, rate limit and change journal commands live in modules of their own, which add
# them to ``main``.
from openpws import cli_changes, cli_faults, cli_rate_limits  # noqa: E402, F401
