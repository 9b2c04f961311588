"""The change journal's calls in the JSON API (docs/sandbox.md, "The change journal", "Preview"
and "Undo"): an account's changes under ``/accounts/{code}/changes``, the preview of any PWS
request at ``/accounts/{code}/preview``, and the undo of a delete at
``/accounts/{code}/changes/{id}/undo``.

Change trees can be large (a cascade over a thousand projects is tens of thousands of items, 11 MB
of JSON), so the answers are written as JSON directly, by orjson (a fifth of json's time on such a
tree, measured by bench/changes.py); their models below are what the OpenAPI document shows.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import Field

from openpws.bulk import collector_paused
from openpws.sandbox.api import _ERRORS, PREFIX, AccountCode, Answer, Error, Run, Time, error_body
from openpws.sandbox.changes import LIST_LIMIT, ChangesControl
from openpws.services.change_tree import KINDS
from openpws.services.undo import Refused

RequestId = Annotated[int, Path(description="The request's id: the X-Openpws-Request-Id of its response.")]
Entity = Literal["client", "engagement", "contract_line_item", "project", "role", "hours", "note", "invoice", "lock"]
assert set(Entity.__args__) == set(KINDS)  # type: ignore[attr-defined]


class ChangeItem(Answer):
    kind: Entity
    code: str | None = Field(description="The row's code (client number, engagement, contract line item or project "
                                         "code, role ExternalSystemIdentifier, draft number; a week of hours, a lock's "
                                         "TYPE:CODE).")
    uid: int | None = Field(description="Its Uid (an exact 64-bit integer).")
    name: str | None
    action: Literal["insert", "update", "delete", "inactivate", "undelete"]
    before: dict[str, Any] | None = Field(description="Every member of a row deleted; the changed members of one "
                                                      "updated; null for one inserted.")
    after: dict[str, Any] | None = Field(description="Every member of a row inserted; the changed members of one "
                                                     "updated; null for one deleted.")
    children: list[ChangeItem] = Field(description="The changed rows under it in the account's tree.")


class ChangeEntry(Answer):
    id: int = Field(description="The request's id (X-Openpws-Request-Id), or the undo's own.")
    time: datetime = Field(description="When it happened, on the account's clock.")
    user: str | None
    operation: str | None = Field(description="The PWS operation, or Undo.")
    preview: bool = Field(description="A preview (X-Openpws-Preview): rolled back, it changed nothing.")
    undoes: int | None = Field(description="An undo: the request whose delete it put back.")
    undone_by: int | None = Field(description="A delete that was undone: the undo's id.")
    rows: int = Field(description="Rows it changed.")
    changes: list[ChangeItem]


class ChangeEntries(Answer):
    items: list[ChangeEntry] = Field(description="Newest first.")


class BlockerItem(Answer):
    kind: str
    code: str | None
    uid: int | None
    name: str | None
    reason: str = Field(description="The documented error it causes, number and code: 54537 EngagementHasProjects.")
    cleared_by: str = Field(description="The request member that clears it (CascadeDeleteFlag, ZeroOutHoursFlag, "
                                        "InactivateIfInuseFlag, LocksToSteal), or none.")
    holder: str | None = Field(None, description="A lock's holder.")


class PreviewAnswer(Answer):
    http_status: int = Field(description="The HTTP status the PWS endpoint would have answered with.")
    response: str = Field(description="The SOAP response it would have given.")
    changes: list[ChangeItem] = Field(description="What it would have changed (nothing was).")
    blockers: list[BlockerItem] = Field(description="For a delete that would fail: everything that blocks it.")


class ConflictItem(Answer):
    kind: str
    code: str | None
    uid: int | None
    name: str | None
    reason: str
    request_id: int | None = Field(description="The later request that stands in the way, when the journal holds it.")


class UndoAnswer(Answer):
    id: int = Field(description="The undo's own id in the change journal: GET …/changes/{id} shows what it changed.")
    undoes: int
    rows: int = Field(description="Rows it put back or changed back (with the engagements whose graphs it bumped).")
    counts: dict[str, int] = Field(description="The same, by kind.")


class UndoPreview(Answer):
    http_status: int = Field(description="What the undo would answer: 200, or 409 when conflicts refuse it.")
    undoes: int
    rows: int
    counts: dict[str, int]
    changes: list[ChangeItem] = Field(description="What the undo would change.")
    conflicts: list[ConflictItem]


def _json(value: Any, status: int = 200) -> Response:
    # Keys that are not str are written as json.dumps writes them (as text).
    with collector_paused():
        text = orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)
    return Response(text, status_code=status, media_type="application/json")


_REFUSED: dict[int | str, dict[str, Any]] = {409: {"model": Error, "description": (
    "Later changes stand in the way (each is in error.conflicts), or the request is not a delete, a preview, "
    "or was undone already.")}}


def changes_router(control: ChangesControl, run: Run) -> APIRouter:
    router = APIRouter(prefix=PREFIX, responses=_ERRORS, tags=["change journal"])

    @router.get("/accounts/{code}/changes", response_model=ChangeEntries)
    async def list_changes(
            code: AccountCode,
            since: Annotated[Time | None, Query(description="At or after this time (the account's clock).")] = None,
            entity: Annotated[Entity | None, Query(description="Only requests that changed rows of this kind.")] = None,
            named: Annotated[str | None, Query(alias="code", min_length=1, description=(
                "Only requests that changed a row with this code (or Uid); with entity, a row of that kind."))] = None,
            limit: Annotated[int, Query(ge=1, le=LIST_LIMIT)] = 100) -> Response:
        """The account's write requests with their change trees, newest first."""
        found = await run(lambda: control.entries(code, since=since, entity=entity, named=named, limit=limit))
        return _json({"items": [entry.json() for entry in found]})

    @router.get("/accounts/{code}/changes/{id}", response_model=ChangeEntry)
    async def get_changes(code: AccountCode, id: RequestId) -> Response:
        """One request's change tree."""
        return _json((await run(lambda: control.entry(code, id))).json())

    @router.delete("/accounts/{code}/changes", status_code=204, response_class=Response)
    async def clear_changes(code: AccountCode) -> Response:
        """Empty the account's change journal (nothing can be undone afterwards)."""
        await run(lambda: control.clear(code))
        return Response(status_code=204)

    @router.post("/accounts/{code}/preview", response_model=PreviewAnswer, openapi_extra={"requestBody": {
        "required": True, "content": {"text/xml": {"schema": {"type": "string"}}},
        "description": "A PWS request: the SOAP envelope as the PWS endpoint takes it, the caller's ticket in it."}})
    async def preview(code: AccountCode, request: Request) -> Response:
        """Run a PWS request exactly as the PWS endpoint would, roll it back, and answer what it would
        have answered and changed (SOAPAction as for the PWS endpoint)."""
        body = await request.body()
        action = request.headers.get("soapaction")
        return _json((await run(lambda: control.preview(code, body, action))).json())

    @router.post("/accounts/{code}/changes/{id}/undo", response_model=UndoAnswer | UndoPreview, responses=_REFUSED)
    async def undo(code: AccountCode, id: RequestId, preview: Annotated[bool, Query(description=(
            "Say what the undo would do (or what refuses it), and change nothing."))] = False) -> Response:
        """Put back what a delete request removed or inactivated (one transaction)."""
        try:
            done = await run(lambda: control.undo(code, id, preview=preview))
        except Refused as refused:
            body = error_body(refused.code, refused.message, refused.path)
            body["error"]["conflicts"] = [c.json() for c in refused.conflicts]
            return _json(body, 409)
        if preview:
            return _json({"http_status": 409 if done.conflicts else 200, "undoes": done.undoes, "rows": done.rows,
                          "counts": done.counts, "changes": done.changes or [],
                          "conflicts": [c.json() for c in done.conflicts]})
        return _json({"id": done.id, "undoes": done.undoes, "rows": done.rows, "counts": done.counts})

    return router
