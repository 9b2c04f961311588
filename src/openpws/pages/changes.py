"""The pages of an account's change journal: each write request's change tree, newest first
(filtered by kind and code), one request's tree with the undo of a delete (previewed first, or
done; refused with the list of conflicts), and the preview of a pasted PWS envelope (the response
it would get, indented, with the tree it would change and, for a delete that would fail, every
blocker). Everything goes through the control plane's own operations (``sandbox.changes``)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from openpws.pages.app import PREFIX, Problem, Site, text
from openpws.pages.xml import pretty
from openpws.services.change_tree import KINDS
from openpws.services.sandbox import Invalid, SandboxError
from openpws.services.undo import Refused, Undone

# Requests a page of the journal lists, and change items a page shows at most (a cascade's tree
# holds tens of thousands: the JSON API gives it whole).
CHANGES_PAGE = 50
SHOWN_ITEMS = 500
# The longest envelope the preview form takes (the PWS endpoint's own limit still applies).
MAX_ENVELOPE = 1_000_000
Id = Annotated[int, Path(ge=1, le=2**63 - 1)]
Text = Annotated[str | None, Query(max_length=200)]


@dataclass(frozen=True)
class Line:
    """One change item as a line of the page: its depth in the tree, and the item."""

    depth: int
    item: dict[str, Any]


def lines(items: Sequence[dict[str, Any]], limit: int = SHOWN_ITEMS) -> tuple[list[Line], int]:
    """The tree's items depth first, at most ``limit`` of them, and how many were left out."""
    shown: list[Line] = []
    total = 0

    def walk(level: Sequence[dict[str, Any]], depth: int) -> Iterator[Line]:
        for item in level:
            yield Line(depth, item)
            yield from walk(item.get("children") or (), depth + 1)

    for line in walk(items, 0):
        total += 1
        if len(shown) < limit:
            shown.append(line)
    return shown, total - len(shown)


def routes(site: Site) -> APIRouter:
    router = APIRouter(prefix=PREFIX + "/accounts/{code}")
    changes = site.changes

    def show(request: Request, template: str, code: str, *, status: int = 200, problem: Problem | None = None,
             **context: object) -> HTMLResponse:
        return site.render(request, template, status=status, problem=problem, code=code, page="changes", **context)

    @router.get("/changes")
    async def list_changes(request: Request, code: str, entity: Text = None, named: Annotated[
            str | None, Query(alias="code_of", max_length=200)] = None) -> HTMLResponse:
        kind = entity if entity in KINDS else None
        found = await site.call(lambda: changes.entries(code, entity=kind, named=named or None, limit=CHANGES_PAGE))
        shown = [(entry, *lines(entry.changes, 20)) for entry in found]
        return show(request, "changes.html", code, entries=shown, kinds=KINDS, entity=kind or "",
                    named=named or "")

    async def entry_page(request: Request, code: str, ident: int, *, status: int = 200,
                         problem: Problem | None = None, undo: Undone | None = None) -> HTMLResponse:
        entry = await site.call(lambda: changes.entry(code, ident))
        tree, left_out = lines(entry.changes)
        undo_tree = lines(undo.changes or []) if undo is not None else None
        return show(request, "change.html", code, status=status, problem=problem, entry=entry, tree=tree,
                    left_out=left_out, undo=undo, undo_tree=undo_tree,
                    undoable=entry.operation is not None and entry.operation.startswith("PwsDelete")
                    and entry.undone_by is None and not entry.preview)

    @router.get("/changes/{ident}")
    async def one_change(request: Request, code: str, ident: Id) -> HTMLResponse:
        return await entry_page(request, code, ident)

    @router.post("/changes/{ident}/undo")
    async def undo(request: Request, code: str, ident: Id) -> Response:
        form = await site.form(request)
        preview = text(form, "preview") is not None
        try:
            done = await site.call(lambda: changes.undo(code, ident, preview=preview))
        except Refused as refused:
            return await entry_page(request, code, ident, status=409, problem=Problem.of(refused),
                                    undo=Undone(None, ident, 0, {}, conflicts=list(refused.conflicts)))
        except SandboxError as error:
            return await entry_page(request, code, ident, status=Problem.of(error).status,
                                    problem=Problem.of(error))
        if preview:
            return await entry_page(request, code, ident, undo=done)
        return site.redirect(request, f"{PREFIX}/accounts/{code}/changes/{done.id}",
                             f"Undo {done.id} put back what request {ident} deleted: {done.rows} rows.")

    @router.get("/preview")
    async def preview_form(request: Request, code: str) -> HTMLResponse:
        return show(request, "preview.html", code, envelope="", action="", result=None)

    @router.post("/preview")
    async def preview(request: Request, code: str) -> HTMLResponse:
        form = await site.form(request)
        given = form.get("envelope")
        envelope = given if isinstance(given, str) else ""
        action = text(form, "soap_action") or ""
        try:
            if len(envelope) > MAX_ENVELOPE:
                raise Invalid(f"the envelope is longer than {MAX_ENVELOPE} characters", "body")
            result = await site.call(lambda: changes.preview(code, envelope.encode(), action or None))
        except SandboxError as error:
            return show(request, "preview.html", code, status=Problem.of(error).status, problem=Problem.of(error),
                        envelope=envelope, action=action, result=None)
        tree, left_out = lines(result.changes)
        return show(request, "preview.html", code, envelope=envelope, action=action, result=result,
                    response_xml=pretty(result.response), tree=tree, left_out=left_out)

    return router

