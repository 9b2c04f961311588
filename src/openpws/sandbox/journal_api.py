"""The request journal's calls in the JSON API (docs/sandbox.md, "The request journal"): an
account's journal under ``/accounts/{code}/requests``, the server-wide one (requests that named no
account) under ``/requests``; the same four calls on each."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response
from pydantic import Field

from openpws.clock import utc
from openpws.sandbox.api import _ERRORS, PREFIX, AccountCode, Answer, Body, Run, Time
from openpws.sandbox.journal import LIST_LIMIT, JournalControl
from openpws.services.journal import Entry, Filter

Operation = Annotated[str | None, Query(description="Only this operation, e.g. PwsDeleteProject.")]
Status = Annotated[str | None, Query(description="Only this Status (Ok, Fail, …, PwsFault, s:Client).")]
Error = Annotated[int | None, Query(description="Only exchanges whose messages carry this ErrorNumber.")]
Since = Annotated[Time | None, Query(description="At or after this ISO 8601 time (the account's clock).")]
Limit = Annotated[int, Query(ge=1, le=LIST_LIMIT)]

RequestId = Annotated[int, Path(description="The request's id: its X-Openpws-Request-Id.")]


class JournalEntry(Answer):
    id: int = Field(description="The X-Openpws-Request-Id its response carried.")
    time: datetime = Field(description="When it was answered, on the account's clock (UTC).")
    user: str | None = Field(description="The login it acted as (or that PwsAuthenticate named).")
    operation: str | None = Field(description="Null when the body named no operation.")
    status: str = Field(description="The response's Status, or PwsFault, s:Client or s:Server for a SOAP fault.")
    http_status: int
    errors: list[int] = Field(description="The ErrorNumbers of its messages.")
    duration_ms: float
    not_modelled: list[str] = Field(description="Members it sent that openpws does not model.")
    fault_rule: int | None = Field(description="The fault rule that answered it, if one did.")


class JournalDetail(JournalEntry):
    request_xml: str = Field(description="As received, session tickets and passwords masked.")
    response_xml: str = Field(description="As sent, session tickets masked.")


class JournalEntries(Answer):
    items: list[JournalEntry] = Field(description="Newest first.")


class Matcher(Body):
    operation: str | None = None
    status: str | None = None
    error: int | None = None
    body_contains: Annotated[str | None, Field(min_length=1, description=(
        "Text the request's XML (as kept: masked) holds, e.g. CascadeDeleteFlag>true<."))] = None
    since: Annotated[Time | None, Field(description="At or after this time on the account's clock.")] = None


class Count(Answer):
    count: int


def _entry(entry: Entry) -> JournalEntry:
    return JournalEntry(id=entry.id, time=utc(entry.time), user=entry.login, operation=entry.operation,
                        status=entry.status, http_status=entry.http_status, errors=list(entry.errors),
                        duration_ms=entry.duration_ms, not_modelled=list(entry.not_modelled),
                        fault_rule=entry.fault_rule)


def _detail(entry: Entry) -> JournalDetail:
    return JournalDetail(**_entry(entry).model_dump(), request_xml=entry.request_xml or "",
                         response_xml=entry.response_xml or "")


def _filter(operation: str | None, status: str | None, error: int | None, since: datetime | None) -> Filter:
    return Filter(operation=operation, status=status, error=error,
                  since=None if since is None else since.replace(tzinfo=None))


def journal_router(journal: JournalControl, run: Run) -> APIRouter:
    router = APIRouter(prefix=PREFIX, responses=_ERRORS, tags=["request journal"])

    async def listed(code: str | None, operation: str | None, status: str | None, error: int | None,
                     since: datetime | None, limit: int) -> JournalEntries:
        given = _filter(operation, status, error, since)
        return JournalEntries(items=[_entry(e) for e in await run(lambda: journal.entries(code, given, limit))])

    async def counted(code: str | None, body: Matcher) -> Count:
        given = _filter(body.operation, body.status, body.error, body.since)
        return Count(count=await run(lambda: journal.count(code, given, body.body_contains)))

    async def cleared(code: str | None) -> Response:
        await run(lambda: journal.clear(code))
        return Response(status_code=204)

    async def detail(code: str | None, ident: int) -> JournalDetail:
        return _detail(await run(lambda: journal.entry(code, ident)))

    @router.get("/accounts/{code}/requests")
    async def list_requests(code: AccountCode, operation: Operation = None, status: Status = None,
                            error: Error = None, since: Since = None, limit: Limit = 100) -> JournalEntries:
        """The account's PWS exchanges, newest first."""
        return await listed(code, operation, status, error, since, limit)

    @router.get("/accounts/{code}/requests/{id}")
    async def get_request(code: AccountCode, id: RequestId) -> JournalDetail:
        """One exchange, with its request and response XML (masked)."""
        return await detail(code, id)

    @router.post("/accounts/{code}/requests/count")
    async def count_requests(code: AccountCode, body: Matcher) -> Count:
        """How many of the account's exchanges the matcher matches (every member it gives)."""
        return await counted(code, body)

    @router.delete("/accounts/{code}/requests", status_code=204, response_class=Response)
    async def clear_requests(code: AccountCode) -> Response:
        """Empty the account's journal."""
        return await cleared(code)

    @router.get("/requests")
    async def list_server_requests(operation: Operation = None, status: Status = None, error: Error = None,
                                   since: Since = None, limit: Limit = 100) -> JournalEntries:
        """The exchanges that named no account the server knows (a bad ticket, a bad envelope), newest first."""
        return await listed(None, operation, status, error, since, limit)

    @router.get("/requests/{id}")
    async def get_server_request(id: RequestId) -> JournalDetail:
        """One exchange of the server-wide journal."""
        return await detail(None, id)

    @router.post("/requests/count")
    async def count_server_requests(body: Matcher) -> Count:
        """How many exchanges of the server-wide journal the matcher matches."""
        return await counted(None, body)

    @router.delete("/requests", status_code=204, response_class=Response)
    async def clear_server_requests() -> Response:
        """Empty the server-wide journal."""
        return await cleared(None)

    return router
