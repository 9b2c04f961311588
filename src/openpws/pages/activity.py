"""The pages of what goes on in an account: its live locks (take one as any user, release any),
its request journal (filtered, a page at a time, each exchange's XML indented and highlighted, and
a live view that follows new requests), and its fault rules (list, add, remove) and rate limits
(set, forget the hits counted) on one page. The server-wide
journal (requests that named no account) has the same journal pages under ``/_openpws/requests``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import TypeAdapter, ValidationError

from openpws.pages.app import PREFIX, Problem, Site, number, text, with_query
from openpws.pages.xml import pretty
from openpws.sandbox.api import NewFault
from openpws.sandbox.rate_limits_api import RateLimitsBody
from openpws.services import browse, faults, rate_limits
from openpws.services.journal import Entry, Filter
from openpws.services.sandbox import Invalid, SandboxError

# Exchanges a page of the journal lists; the live view shows the newest of them.
JOURNAL_PAGE = 50
STATUSES = ("Ok", "OkWithWarnings", "Fail", "FailSessionInvalid", "PwsFault", "s:Client", "s:Server", "dropped")
FAULT_ANSWERS = (("error", "a documented error (number)"), ("lock_held_by", "a lock held by (login)"),
                 ("soap_fault", "a SOAP fault (Server or Client)"), ("http_status", "an HTTP status (400-599)"),
                 ("delay_ms", "a delay (milliseconds)"), ("drop_connection", "a dropped connection"))
LOCK_TYPES = (("E", "engagement (code)"), ("P", "project (code)"), ("R", "role (ExternalSystemIdentifier)"))
Id = Annotated[int, Path(ge=1, le=2**63 - 1)]
Text = Annotated[str | None, Query(max_length=200)]
_INT: TypeAdapter[int] = TypeAdapter(int)


def _cursor(entry: Entry) -> str:
    return f"{entry.real_at.isoformat()}~{entry.id}"


def _before(given: str | None) -> tuple[datetime, int] | None:
    if not given:
        return None
    at, _, ident = given.partition("~")
    try:
        return datetime.fromisoformat(at), int(ident)
    except ValueError:
        raise Invalid("before is the position a page of the journal goes on from", "before") from None


def _error_number(given: str | None) -> int | None:
    if not given:
        return None
    try:
        return _INT.validate_python(given.strip())
    except ValidationError as error:
        raise Invalid(f"error: {error.errors()[0]['msg']}", "error") from None


def journal_routes(site: Site, router: APIRouter, base: str, account: bool) -> None:
    """The journal's pages under ``base`` (an account's, or the server-wide one's)."""

    def code_of(code: str | None) -> str | None:
        return code if account else None

    def filtered(operation: str | None, status: str | None, error: str | None,
                 before: str | None = None) -> Filter:
        return Filter(operation=operation or None, status=status or None, error=_error_number(error),
                      before=_before(before))

    def context(code: str | None, operation: str | None, status: str | None, error: str | None) -> dict[str, Any]:
        return {"code": code, "page": "requests", "operations": site.operations, "statuses": STATUSES,
                "chosen": {"operation": operation or "", "status": status or "", "error": error or ""},
                "journal_base": PREFIX + (f"/accounts/{code}/requests" if code else "/requests")}

    async def listing(request: Request, code: str | None = None, operation: Text = None, status: Text = None,
                      error: Text = None, before: Text = None) -> HTMLResponse:
        shown = context(code_of(code), operation, status, error)
        try:
            given = filtered(operation, status, error, before)
        except SandboxError as refusal:
            problem = Problem.of(refusal)
            return site.render(request, "requests.html", status=problem.status, problem=problem, entries=[],
                               older=None, **shown)
        entries = await site.call(lambda: site.journal.entries(code_of(code), given, JOURNAL_PAGE + 1))
        older = None
        if len(entries) > JOURNAL_PAGE:
            entries = entries[:JOURNAL_PAGE]
            older = with_query(shown["journal_base"], operation=operation, status=status, error=error,
                               before=_cursor(entries[-1]))
        return site.render(request, "requests.html", entries=entries, older=older, **shown)

    async def newest(code: str | None, operation: str | None, status: str | None, error: str | None
                     ) -> tuple[dict[str, Any], list[Entry]]:
        """What the live view shows: the page's context, and the newest exchanges the filters let through."""
        given = filtered(operation, status, error)
        entries = await site.call(lambda: site.journal.entries(code_of(code), given, JOURNAL_PAGE))
        return context(code_of(code), operation, status, error), entries

    async def live(request: Request, code: str | None = None, operation: Text = None, status: Text = None,
                   error: Text = None) -> HTMLResponse:
        shown, entries = await newest(code, operation, status, error)
        feed = with_query(shown["journal_base"] + "/feed", operation=operation, status=status, error=error)
        return site.render(request, "requests_live.html", entries=entries, feed=feed, **shown)

    async def feed(request: Request, code: str | None = None, operation: Text = None, status: Text = None,
                   error: Text = None) -> HTMLResponse:
        """The newest exchanges as table rows, for the live view's script to add the new ones of."""
        shown, entries = await newest(code, operation, status, error)
        return site.render(request, "requests_rows.html", entries=entries, **shown)

    async def detail(request: Request, ident: Id, code: str | None = None) -> HTMLResponse:
        entry = await site.call(lambda: site.journal.entry(code_of(code), ident))
        return site.render(request, "request.html", entry=entry, request_xml=pretty(entry.request_xml or ""),
                           response_xml=pretty(entry.response_xml or ""), **context(code_of(code), None, None, None))

    router.add_api_route(base, listing, methods=["GET"])
    router.add_api_route(base + "/live", live, methods=["GET"])
    router.add_api_route(base + "/feed", feed, methods=["GET"])
    router.add_api_route(base + "/{ident}", detail, methods=["GET"])


def routes(site: Site) -> APIRouter:
    router = APIRouter(prefix=PREFIX)
    journal_routes(site, router, "/accounts/{code}/requests", account=True)
    journal_routes(site, router, "/requests", account=False)

    # --- locks ------------------------------------------------------------------------------------

    async def locks_page(request: Request, code: str, *, status: int = 200, problem: Problem | None = None,
                         form: dict[str, Any] | None = None) -> HTMLResponse:
        sets = await site.call(lambda: browse.lock_sets_of(site.environment, code, site.now()))
        users = await site.call(lambda: browse.users(site.environment, code, site.now()))
        return site.render(request, "locks.html", status=status, problem=problem, code=code, page="locks",
                           sets=sets, users=users, lock_types=LOCK_TYPES, form=form or {})

    @router.get("/accounts/{code}/locks")
    async def locks(request: Request, code: str) -> HTMLResponse:
        return await locks_page(request, code)

    @router.post("/accounts/{code}/locks")
    async def take_lock(request: Request, code: str) -> Response:
        form = await site.form(request)
        shown = {name: text(form, name) or "" for name in ("user", "type", "entity", "seconds")}
        shown["internal"] = "on" if text(form, "internal") else ""
        try:
            login, kind, entity = text(form, "user"), text(form, "type"), text(form, "entity")
            if login is None:
                raise Invalid("choose the user who is to hold the lock", "user")
            if kind not in {k for k, _ in LOCK_TYPES} or entity is None:
                raise Invalid("name what to lock: its type (E, P or R) and its code", "entity")
            seconds = number(form, "seconds")
            seconds = 3600 if seconds is None else seconds
            if not isinstance(seconds, int):
                raise Invalid("seconds: a whole number of seconds", "seconds")
            internal = text(form, "internal") is not None
            set_id = await site.call(lambda: browse.take_lock(site.environment, code, login, f"{kind}:{entity}",
                                                              seconds, internal, site.now()))
        except SandboxError as error:
            return await locks_page(request, code, status=Problem.of(error).status, problem=Problem.of(error),
                                    form=shown)
        return site.redirect(request, f"{PREFIX}/accounts/{code}/locks",
                             f"{login} holds {kind}:{entity} (ProjectorLockSetId {set_id}).")

    @router.post("/accounts/{code}/locks/{set_id}/release")
    async def release_lock(request: Request, code: str, set_id: Annotated[int, Path(ge=1, le=2**31 - 1)]
                           ) -> Response:
        await site.form(request)
        live = await site.call(lambda: browse.release_lock(site.environment, code, set_id, site.now()))
        return site.redirect(request, f"{PREFIX}/accounts/{code}/locks",
                             f"Released lock set {set_id}." if live else f"Lock set {set_id} had already ended.")

    # --- fault rules ------------------------------------------------------------------------------

    async def faults_page(request: Request, code: str, *, status: int = 200, problem: Problem | None = None,
                          form: dict[str, Any] | None = None, limits_form: dict[str, str] | None = None
                          ) -> HTMLResponse:
        rules = await site.call(lambda: site.control.fault_rules(code))
        limits = await site.call(lambda: site.control.rate_limits(code))
        return site.render(request, "faults.html", status=status, problem=problem, code=code, page="faults",
                           rules=[(rule, faults.then_json(rule.then)) for rule in rules], answers=FAULT_ANSWERS,
                           operations=site.operations, form=form or {"stealable": "on"}, limits=limits,
                           limits_form=limits_form or _limits_form(limits), modes=rate_limits.MODES,
                           window=rate_limits.WINDOW_SECONDS)

    @router.get("/accounts/{code}/faults")
    async def fault_rules(request: Request, code: str) -> HTMLResponse:
        return await faults_page(request, code)

    def new_fault(form: Any) -> faults.NewRule:
        kind = text(form, "then") or ""
        value: Any = True if kind == "drop_connection" else (
            text(form, "value") if kind in ("lock_held_by", "soap_fault") else number(form, "value"))
        then: dict[str, Any] = {kind: value}
        if kind == "lock_held_by":
            then["stealable"] = text(form, "stealable") is not None
        body = site.validate(NewFault, {k: v for k, v in {
            "operation": text(form, "operation"), "user": text(form, "user"), "times": number(form, "times"),
            "probability": number(form, "probability"), "then": then}.items() if v is not None})
        return faults.NewRule(body.operation, body.then.then(), body.user, body.times, body.probability)

    @router.post("/accounts/{code}/faults")
    async def add_fault(request: Request, code: str) -> Response:
        form = await site.form(request)
        shown = {name: text(form, name) or "" for name in ("operation", "user", "times", "probability", "then",
                                                              "value", "stealable")}
        try:
            rule = new_fault(form)
            added = await site.call(lambda: site.control.add_fault(code, rule))
        except SandboxError as error:
            return await faults_page(request, code, status=Problem.of(error).status, problem=Problem.of(error),
                                     form=shown)
        except ValidationError as error:
            return await faults_page(request, code, status=422, problem=Problem.of_validation(error), form=shown)
        return site.redirect(request, f"{PREFIX}/accounts/{code}/faults",
                             f"Fault rule {added.id} answers {added.operation}.")

    @router.post("/accounts/{code}/faults/{rule}/remove")
    async def remove_fault(request: Request, code: str, rule: Annotated[int, Path(ge=1, le=2**31 - 1)]) -> Response:
        await site.form(request)
        await site.call(lambda: site.control.remove_fault(code, rule))
        return site.redirect(request, f"{PREFIX}/accounts/{code}/faults", f"Fault rule {rule} removed.")

    @router.post("/accounts/{code}/faults/clear")
    async def clear_faults(request: Request, code: str) -> Response:
        await site.form(request)
        await site.call(lambda: site.control.clear_faults(code))
        return site.redirect(request, f"{PREFIX}/accounts/{code}/faults", "Every fault rule removed.")

    # --- rate limits ------------------------------------------------------------------------------

    @router.post("/accounts/{code}/rate-limits")
    async def set_rate_limits(request: Request, code: str) -> Response:
        form = await site.form(request)
        shown = {name: text(form, name) or "" for name in ("mode", "installation", "user", "session", "weights")}
        try:
            weights = _weights(shown["weights"])
            limits_given = {name: number(form, name) for name in ("installation", "user", "session")}
            body = site.validate(RateLimitsBody, {
                "mode": text(form, "mode"), "weights": weights,
                "limits": {name: value for name, value in limits_given.items() if value is not None}})
            limits = rate_limits.Limits(body.mode, body.limits.installation, body.limits.user, body.limits.session,
                                        dict(body.weights))
            await site.call(lambda: site.control.set_rate_limits(code, limits))
        except SandboxError as error:
            return await faults_page(request, code, status=Problem.of(error).status, problem=Problem.of(error),
                                     limits_form=shown)
        except ValidationError as error:
            return await faults_page(request, code, status=422, problem=Problem.of_validation(error),
                                     limits_form=shown)
        return site.redirect(request, f"{PREFIX}/accounts/{code}/faults", f"Rate limiting is {limits.mode}.")

    @router.post("/accounts/{code}/rate-limits/clear-hits")
    async def clear_rate_limit_hits(request: Request, code: str) -> Response:
        await site.form(request)
        await site.call(lambda: site.control.clear_rate_limit_hits(code))
        return site.redirect(request, f"{PREFIX}/accounts/{code}/faults", "The hits counted so far are forgotten.")

    return router


def _limits_form(limits: rate_limits.Limits) -> dict[str, str]:
    return {"mode": limits.mode, "installation": str(limits.installation), "user": str(limits.user),
            "session": str(limits.session),
            "weights": "\n".join(f"{operation}={hits}" for operation, hits in sorted(limits.weights.items()))}


def _weights(given: str) -> dict[str, Any]:
    """The weights field, one OPERATION=HITS a line, as the API's body holds them (its model checks the
    numbers, the contract the operations)."""
    weights: dict[str, Any] = {}
    for line in given.splitlines():
        if not line.strip():
            continue
        operation, sep, hits = line.partition("=")
        if not sep or not operation.strip():
            raise Invalid(f"{line.strip()!r} is not OPERATION=HITS", "weights")
        try:
            weights[operation.strip()] = int(hits.strip())
        except ValueError:
            weights[operation.strip()] = hits.strip()  # refused by the API's model, in its words
    return weights
