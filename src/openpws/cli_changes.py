"""``openpws changes``, ``openpws preview`` and ``openpws undo``: the change journal from the
command line (docs/sandbox.md, "The change journal"), through the same control-plane operations as
the JSON API, on the database directly."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any, BinaryIO, TypeVar

import click

from openpws.cli import _account_option, _database_option, _instant, _open, _shown, main
from openpws.config import load_settings
from openpws.sandbox.changes import ChangesControl
from openpws.services import admin
from openpws.services.change_tree import KINDS
from openpws.services.context import Environment
from openpws.services.journal import Recorder
from openpws.services.undo import Refused

T = TypeVar("T")


def _changes(database_url: str, work: Callable[[ChangesControl], T]) -> T:
    """``work`` with the change journal's operations on the database."""
    store = _open(database_url)
    settings = load_settings().with_changes(database_url=database_url)
    environment = Environment(store, settings)

    def preview(body: bytes, soap_action: str | None) -> Any:
        # The server's modules, imported only for a preview: the other commands start faster.
        from openpws.app import create_dispatcher, previewer

        return previewer(create_dispatcher(environment))(body, soap_action)

    try:
        return work(ChangesControl(environment, preview, Recorder(store, settings).next_id,
                                   max_body_bytes=settings.max_body_bytes))
    except Refused:
        raise
    except admin.AdminError as error:
        raise click.ClickException(str(error)) from None
    finally:
        store.dispose()


def _value(value: Any) -> str:
    return "null" if value is None else (repr(value) if isinstance(value, str) else str(value).lower()
                                         if isinstance(value, bool) else str(value))


def _label(item: dict[str, Any]) -> str:
    code = item["code"] if item["code"] is not None else "-"
    shown = f"{item['action']} {item['kind']} {code}"
    if item["uid"] is not None:
        shown += f" (Uid {item['uid']})"
    if item["name"]:
        shown += f" {item['name']!r}"
    return shown


def _members(item: dict[str, Any]) -> str:
    before, after = item["before"], item["after"]
    if before is not None and after is not None:
        return ", ".join(f"{name} {_value(before.get(name))} -> {_value(value)}" for name, value in after.items())
    shown = after if after is not None else before or {}
    return ", ".join(f"{name} {_value(value)}" for name, value in shown.items()
                     if name not in ("uid", "code", "name", "number", "external_system_identifier"))


def tree_lines(items: Sequence[dict[str, Any]], depth: int = 0, *, members: bool = True) -> list[str]:
    """A change tree, one line an item, indented under its parent."""
    lines = []
    for item in items:
        line = "  " * depth + _label(item)
        if members and (detail := _members(item)):
            line += ": " + detail
        lines.append(line)
        lines.extend(tree_lines(item["children"], depth + 1, members=members))
    return lines


def _count(items: Sequence[dict[str, Any]]) -> int:
    return sum(1 + _count(item["children"]) for item in items)


@main.command("preview")
@_account_option
@click.argument("envelope", type=click.File("rb"))
@click.option("--soap-action", metavar="ACTION", help="The SOAPAction to send with it (default: none).")
@click.option("--response", "show_response", is_flag=True, help="Print the SOAP response too.")
@_database_option
def preview(account_code: str, envelope: BinaryIO, soap_action: str | None, show_response: bool,
            database_url: str) -> None:
    """Run the PWS request in the file ENVELOPE (a SOAP envelope with a session ticket of the
    account inside, - for standard input) exactly as the PWS endpoint would, roll it back, and
    print what it answered, the rows it would have changed (a tree: client, engagement, contract
    line item and project, role, hours) and, for a delete that would fail, every blocker with the
    request member that clears it. Nothing is changed.

    \b
    Example:
      openpws preview --account demo delete-engagement.xml
    """
    body = envelope.read()
    done = _changes(database_url, lambda control: control.preview(account_code, body, soap_action))
    status = re.search(r"<(?:\w+:)?Status(?:\s[^>]*)?>([^<]*)<", done.response)
    errors = re.findall(r"<(?:\w+:)?ErrorNumber(?:\s[^>]*)?>([^<]*)<", done.response)
    summary = f"HTTP {done.http_status}"
    if status:
        summary += f", Status {status.group(1)}"
    elif "faultcode" in done.response:
        summary += ", a SOAP fault"
    if errors:
        summary += f" ({', '.join(errors)})"
    click.echo(f"{summary}; nothing was changed.")
    click.echo(f"Changes ({_count(done.changes)} rows):" if done.changes else "Changes: none.")
    for line in tree_lines(done.changes, 1):
        click.echo(line)
    if done.blockers:
        click.echo(f"Blockers ({len(done.blockers)}):")
        for blocker in done.blockers:
            line = f"  {blocker['kind']} {blocker['code'] or '-'}"
            if blocker["uid"] is not None:
                line += f" (Uid {blocker['uid']})"
            if blocker.get("holder"):
                line += f" held by {blocker['holder']}"
            click.echo(f"{line}: {blocker['reason']}, cleared by {blocker['cleared_by']}")
    if show_response:
        click.echo(f"--- response\n{done.response}")


@main.command("undo")
@_account_option
@click.argument("request_id", type=int)
@click.option("--preview", "preview_only", is_flag=True, help="Print what the undo would put back, and change nothing.")
@_database_option
def undo(account_code: str, request_id: int, preview_only: bool, database_url: str) -> None:
    """Put back what the delete request REQUEST_ID (its X-Openpws-Request-Id) removed or
    inactivated: the same codes and Uids, hours, links and flags, with new row versions, in one
    transaction. Refused, naming each conflict, when later changes stand in the way.

    \b
    Example:
      openpws undo --account demo 1002
      openpws undo --account demo 1002 --preview
    """
    try:
        done = _changes(database_url, lambda control: control.undo(account_code, request_id, preview=preview_only))
    except Refused as refused:
        click.echo(f"Error: {refused.message}:", err=True)
        for conflict in refused.conflicts:
            click.echo(f"  {conflict.kind} {conflict.code or '-'}"
                       f"{f' (Uid {conflict.uid})' if conflict.uid is not None else ''}: {conflict.reason}", err=True)
        raise SystemExit(1) from None
    counts = ", ".join(f"{n} {kind}" for kind, n in done.counts.items())
    if preview_only:
        if done.conflicts:
            click.echo(f"Request {request_id} could not be undone now:")
            for conflict in done.conflicts:
                click.echo(f"  {conflict.kind} {conflict.code or '-'}: {conflict.reason}")
            return
        click.echo(f"Undoing request {request_id} would change {done.rows} rows ({counts}); nothing was changed.")
        for line in tree_lines(done.changes or [], 1, members=False):
            click.echo(line)
        return
    click.echo(f"Undid request {request_id}: {done.rows} rows ({counts}); the undo is request {done.id} "
               "in the change journal.")


@main.group()
def changes() -> None:
    """See what an account's write requests changed (the change journal), newest first: each
    request's rows inserted, updated, deleted, inactivated or undeleted, before and after."""


def _entry_line(entry: Any) -> str:
    extra = " (preview)" if entry.preview else ""
    if entry.undoes is not None:
        extra += f" (undoes {entry.undoes})"
    if entry.undone_by is not None:
        extra += f" (undone by {entry.undone_by})"
    return (f"{entry.id}\t{_shown(entry.time)}\t{entry.user or '-'}\t{entry.operation or '-'}\t"
            f"{entry.rows} rows{extra}")


@changes.command("list")
@_account_option
@click.option("--entity", type=click.Choice(KINDS), help="Only requests that changed rows of this kind.")
@click.option("--code", "named", help="Only requests that changed a row with this code (or Uid).")
@click.option("--since", metavar="TIME", help="At or after this ISO 8601 time (the account's clock).")
@click.option("--limit", type=click.IntRange(1, 1000), default=100, show_default=True)
@_database_option
def changes_list(account_code: str, entity: str | None, named: str | None, since: str | None, limit: int,
                 database_url: str) -> None:
    """List write requests, newest first, one line each: id (the X-Openpws-Request-Id), time (the
    account's clock), user, operation, rows changed.

    \b
    Example:
      openpws changes list --account demo --entity project --code P001323-001
    """
    moment = None if since is None else _instant(since)
    found = _changes(database_url, lambda control: control.entries(account_code, since=moment, entity=entity,
                                                                   named=named, limit=limit))
    for entry in found:
        click.echo(_entry_line(entry))


@changes.command("show")
@_account_option
@click.argument("request_id", type=int)
@_database_option
def changes_show(account_code: str, request_id: int, database_url: str) -> None:
    """Print one request's change tree.

    \b
    Example:
      openpws changes show --account demo 1002
    """
    entry = _changes(database_url, lambda control: control.entry(account_code, request_id))
    click.echo(_entry_line(entry))
    for line in tree_lines(entry.changes, 1):
        click.echo(line)
