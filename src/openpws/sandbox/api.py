"""The control plane's JSON API under ``/_openpws/api/``, with its OpenAPI document at
``/_openpws/api/openapi.json`` (docs/sandbox.md describes every call).

The HTTP edge (``soap/http.py``) hands this application every request whose path starts with
``/_openpws/``, after it has looked for the PWS endpoint, so PWS requests never reach FastAPI.
``ControlPlane`` checks the admin token before anything else (everything but the OpenAPI document
needs it) and then hands the request to FastAPI. Every error is answered with one JSON shape,
``{"error": {"code", "message", "path"}}``, and this module is the one place that shapes it: the
sandbox's own errors (``services.sandbox.SandboxError``), FastAPI's validation errors (422),
unknown paths and methods, and anything unexpected (500, logged).

The routes are thin: each turns its body into the arguments of one ``Control`` operation, runs it
on the server's worker threads (``run``: they hold the database connections) and turns the
answer into JSON.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal, Protocol, TypeVar

from fastapi import APIRouter, FastAPI, Path, Query, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator
from starlette.exceptions import HTTPException

from openpws import __version__
from openpws.sandbox.control import FIXTURES, LIST_LIMIT, Control
from openpws.sandbox.fixtures import read_text
from openpws.services import faults
from openpws.services.sandbox import (
    AccountView,
    Advance,
    ClockChange,
    ClockView,
    FreezeAt,
    Invalid,
    RealTime,
    RunFrom,
    SandboxError,
)
from openpws.services.snapshots import NAME_LENGTH, SnapshotView
from openpws.soap.http import SERVICE_PATH

log = logging.getLogger("openpws")

PREFIX = "/_openpws/api"
OPENAPI_PATH = PREFIX + "/openapi.json"
_STATUS = {"not_found": 404, "conflict": 409, "invalid": 422}

T = TypeVar("T")


class Run(Protocol):
    """Runs work on the server's worker threads."""

    def __call__(self, work: Callable[[], T], /) -> Awaitable[T]: ...


Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


# --- bodies and answers ----------------------------------------------------------------------------

def parse_time(value: object) -> datetime:
    """An ISO 8601 time; one without an offset is taken as UTC."""
    if not isinstance(value, str):
        raise ValueError("expected an ISO 8601 time as a string, e.g. 2026-01-05T09:00:00Z")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is not an ISO 8601 time, e.g. 2026-01-05T09:00:00Z") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


Time = Annotated[datetime, BeforeValidator(parse_time)]
Seconds = Annotated[float, Field(strict=True, allow_inf_nan=False)]
CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"


class Body(BaseModel):
    # A member the API does not know is refused, not ignored: a misspelt "ttl_second" would
    # otherwise make an account that never expires.
    model_config = ConfigDict(extra="forbid")


class NewAccount(Body):
    code: Annotated[str | None, Field(min_length=1, max_length=30, pattern=CODE_PATTERN, description=(
        "The AccountCode (letters, digits, '.', '_', '-'); generated when absent. Codes match "
        "case-insensitively; one that is taken answers 409."))] = None
    fixture_name: Annotated[str | None, Field(description=(
        f"A packaged fixture to load: {', '.join(FIXTURES)}. Absent: an empty account with one user "
        "admin@CODE holding every permission."))] = None
    fixture: Annotated[dict[str, Any] | None, Field(description=(
        "A fixture document (docs/fixtures.md; its JSON Schema is openpws/fixtures/fixture.schema.json in the "
        "package): the account's settings, users, client tree, hours, invoices and locks. Not with fixture_name."
    ))] = None
    ttl_seconds: Annotated[Seconds | None, Field(gt=0, le=1e9, description=(
        "Remove the account this many seconds (real time) after its creation."))] = None


class ClockSetting(Body):
    """Exactly one of the four members."""

    frozen_at: Annotated[Time | None, Field(description="Freeze the clock at this instant.")] = None
    set_: Annotated[Time | None, Field(alias="set", description="Run on from this instant.")] = None
    advance_seconds: Annotated[Seconds | None, Field(ge=0, le=1e9, description=(
        "Move the clock forward this many seconds, frozen or running as it is."))] = None
    real: Annotated[Literal[True] | None, Field(description="Back to real time.")] = None

    @model_validator(mode="after")
    def _one(self) -> ClockSetting:
        given = [name for name in ("frozen_at", "set_", "advance_seconds", "real") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of frozen_at, set, advance_seconds and real")
        return self

    def change(self) -> ClockChange:
        if self.frozen_at is not None:
            return FreezeAt(self.frozen_at)
        if self.set_ is not None:
            return RunFrom(self.set_)
        if self.advance_seconds is not None:
            return Advance(timedelta(seconds=self.advance_seconds))
        return RealTime()


class NewSnapshot(Body):
    name: Annotated[str | None, Field(min_length=1, max_length=NAME_LENGTH, description=(
        "A name to tell the snapshot by."))] = None


class FaultAnswer(Body):
    """How the rule answers: exactly one of error, lock_held_by (with stealable), soap_fault,
    http_status, delay_ms and drop_connection."""

    error: Annotated[int | None, Field(strict=True, description=(
        "A documented error number (docs/errors.md): its message, Status Fail."))] = None
    lock_held_by: Annotated[str | None, Field(min_length=1, description=(
        "A user's login: the lock conflict PwsFault naming that user in LockHolders."))] = None
    stealable: Annotated[bool | None, Field(description=(
        "With lock_held_by: whether LocksToSteal (or StealLockFlag) passes the rule; default true."))] = None
    soap_fault: Annotated[Literal["Server", "Client"] | None, Field(description=(
        "An s:Server (internal error) or s:Client SOAP fault."))] = None
    http_status: Annotated[int | None, Field(strict=True, ge=400, le=599, description=(
        "This HTTP status with an empty body."))] = None
    delay_ms: Annotated[int | None, Field(strict=True, ge=0, le=faults.MAX_DELAY_MS, description=(
        "Answer normally, this many milliseconds late."))] = None
    drop_connection: Annotated[Literal[True] | None, Field(description=(
        "Close the connection after the status line and headers, without the body."))] = None

    @model_validator(mode="after")
    def _one(self) -> FaultAnswer:
        kinds = ("error", "lock_held_by", "soap_fault", "http_status", "delay_ms", "drop_connection")
        given = [name for name in kinds if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of {', '.join(kinds)}")
        if self.stealable is not None and self.lock_held_by is None:
            raise ValueError("stealable goes with lock_held_by")
        return self

    def then(self) -> faults.Then:
        if self.error is not None:
            return faults.Error(self.error)
        if self.lock_held_by is not None:
            return faults.LockHeld(self.lock_held_by, self.stealable is not False)
        if self.soap_fault is not None:
            return faults.SoapFault(self.soap_fault)
        if self.http_status is not None:
            return faults.HttpStatus(self.http_status)
        if self.delay_ms is not None:
            return faults.Delay(self.delay_ms)
        return faults.Drop()


class NewFault(Body):
    operation: Annotated[str, Field(min_length=1, description="The operation it matches, e.g. PwsSaveProjectRole.")]
    user: Annotated[str | None, Field(min_length=1, description=(
        "Only this user's requests (a login; for PwsAuthenticate, its UserName)."))] = None
    times: Annotated[int | None, Field(strict=True, ge=1, le=2**31 - 1, description=(
        "The matching calls it answers before it expires; absent: no limit."))] = None
    probability: Annotated[float | None, Field(ge=0, le=1, allow_inf_nan=False, description=(
        "The chance (0-1) that it answers a matching call; absent: 1."))] = None
    then: FaultAnswer


class Answer(BaseModel):
    pass


class FaultRule(Answer):
    id: int = Field(description="What DELETE …/faults/{id} takes; the request log's fault_rule.")
    operation: str
    user: str | None = Field(description="The login it is limited to (lower case), if any.")
    times: int | None = Field(description="The calls it still answers; null: no limit.")
    probability: float | None
    then: dict[str, Any]
    answered: int = Field(description="The calls it has answered.")
    created_at: datetime


class FaultRules(Answer):
    items: list[FaultRule] = Field(description="Newest first.")


class User(Answer):
    login: str
    password: str
    display_name: str
    permissions: list[str]


class CreatedAccount(Answer):
    code: str
    endpoint: str = Field(description="The PWS endpoint to send this account's requests to.")
    wsdl: str
    users: list[User] = Field(description="The account's users with their passwords, which are shown only here.")


class ClockState(Answer):
    now: datetime = Field(description="The account's time now (UTC).")
    frozen: bool
    offset_seconds: float = Field(description="The account's now minus real now.")


class Account(Answer):
    code: str
    name: str
    endpoint: str
    wsdl: str
    created_at: datetime
    expires_at: datetime | None = Field(description="When the account is removed (real time); null: never.")
    fixture_name: str | None
    clock: ClockState
    counts: dict[str, int] = Field(description="Rows of each kind: users, clients, engagements, projects, "
                                               "roles (not deleted), invoices, locks (live).")


class Accounts(Answer):
    items: list[Account] = Field(description="Newest first.")


class Snapshot(Answer):
    id: int = Field(description="What restore takes.")
    account: str
    name: str | None
    creation: bool = Field(description="Taken as the account was created: the snapshot reset restores.")
    taken_at: datetime = Field(description="When it was taken, on the account's clock.")
    rows: int = Field(description="Rows of the account it holds.")
    counts: dict[str, int] = Field(description="The account's counts when it was taken (as GET …/accounts/{code} "
                                               "shows them).")
    bytes: int = Field(description="The space its compressed image takes in the database.")


class Snapshots(Answer):
    items: list[Snapshot] = Field(description="Newest first.")


class ErrorDetail(Answer):
    code: str = Field(description="unauthorized, not_found, invalid, conflict, method_not_allowed or internal.")
    message: str
    path: str | None = Field(description="The member of the request at fault (e.g. ttl_seconds, set), if one is.")


class Error(Answer):
    error: ErrorDetail


def _clock(view: ClockView) -> ClockState:
    return ClockState(now=view.now, frozen=view.frozen, offset_seconds=view.offset.total_seconds())


def _endpoint(request: Request) -> str:
    return str(request.base_url).rstrip("/") + SERVICE_PATH


def _account(view: AccountView, endpoint: str) -> Account:
    return Account(code=view.code, name=view.name, endpoint=endpoint, wsdl=endpoint + "?wsdl",
                   created_at=view.created_at, expires_at=view.expires_at, fixture_name=view.fixture_name,
                   clock=_clock(view.clock), counts=dict(view.counts))


def _fault(rule: faults.Rule) -> FaultRule:
    return FaultRule(id=rule.id, operation=rule.operation, user=rule.user_key, times=rule.remaining,
                     probability=rule.probability, then=faults.then_json(rule.then), answered=rule.answered,
                     created_at=rule.created_at.replace(tzinfo=UTC))


def _snapshot(view: SnapshotView) -> Snapshot:
    return Snapshot(id=view.id, account=view.account, name=view.name, creation=view.creation, taken_at=view.taken_at,
                    rows=view.rows, counts=dict(view.counts), bytes=view.size)


# --- errors -----------------------------------------------------------------------------------------

def error_body(code: str, message: str, path: str | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "path": path}}


def _error(status: int, code: str, message: str, path: str | None = None,
           headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(error_body(code, message, path), status_code=status, headers=headers)


def _path(location: tuple[int | str, ...]) -> str | None:
    """A validation error's location as a path within its part of the request (the body, the
    query string, the URL): ttl_seconds, clients[0].name, limit."""
    parts = list(location[1:] if location and location[0] in ("body", "query", "path") else location)
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or None


def _validation_message(error: dict[str, Any]) -> str:
    if error.get("type") == "json_invalid":
        return f"the body is not JSON: {error.get('ctx', {}).get('error', error.get('msg'))}"
    if tuple(error.get("loc", ())) == ("body",):
        if error.get("type") == "missing":
            return "a JSON object is required as the body"
        if error.get("type") in ("model_attributes_type", "dict_type", "model_type"):
            return "the body is not a JSON object (send one, with Content-Type: application/json)"
    message = str(error.get("msg", "invalid"))
    return message.removeprefix("Value error, ")


async def _invalid(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    errors = list(error.errors())
    paths = [None if e.get("type") == "json_invalid" else _path(tuple(e.get("loc", ()))) for e in errors]
    shown = "; ".join(f"{path}: {_validation_message(e)}" if path else _validation_message(e)
                      for path, e in zip(paths, errors, strict=True))
    return _error(422, "invalid", shown or "invalid request", paths[0] if paths else None)


async def _sandbox_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, SandboxError)
    return _error(_STATUS[error.code], error.code, error.message, error.path)


async def _http_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, HTTPException)
    if error.status_code == 404:
        return _error(404, "not_found", "no such path in the control plane (see /_openpws/api/openapi.json)")
    if error.status_code == 405:
        return _error(405, "method_not_allowed", f"the path does not take this method: {error.detail}",
                      headers=dict(error.headers or {}))
    return _error(error.status_code, "invalid", str(error.detail))


async def _unexpected(_request: Request, _error_: Exception) -> JSONResponse:
    return _error(500, "internal", "internal error (logged by the server)")


# --- the application --------------------------------------------------------------------------------

_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": Error, "description": description} for status, description in (
        (401, "A missing or wrong admin token."), (404, "No such account (or snapshot, or fault rule)."),
        (422, "A malformed body or value."))
}
_CONFLICT: dict[int | str, dict[str, Any]] = {409: {"model": Error, "description": "The code is taken."}}
_BUSY: dict[int | str, dict[str, Any]] = {409: {"model": Error, "description": (
    "Requests under way held the account's rows for seconds, or the snapshot predates what the tables need.")}}
AccountCode = Annotated[str, Path(description="The account's code (case-insensitive).")]
# Snapshot ids are 32-bit row ids: a larger number is refused here, where PostgreSQL would fail on it.
SnapshotId = Annotated[int, Path(ge=1, le=2**31 - 1, description="The snapshot's id.")]
FaultId = Annotated[int, Path(ge=1, le=2**31 - 1, description="The fault rule's id.")]


def make_api(control: Control, run: Run, routers: Sequence[APIRouter] = ()) -> FastAPI:
    # No redirects from a path with a trailing slash: an unknown path is a JSON 404 like any other.
    api = FastAPI(title="openpws control plane", version=__version__, openapi_url=OPENAPI_PATH, docs_url=None,
                  redoc_url=None, redirect_slashes=False,
                  description="Throwaway accounts, their snapshots and their clocks (docs/sandbox.md). Every call "
                  "needs the header Authorization: Bearer <admin token>.")
    router = APIRouter(prefix=PREFIX, responses=_ERRORS)

    @router.post("/accounts", status_code=201, responses=_CONFLICT)
    async def create_account(request: Request, body: NewAccount | None = None) -> CreatedAccount:
        """Create an account, empty or from a packaged fixture, with generated passwords."""
        given = body or NewAccount()
        created = await run(lambda: control.create_account(
            code=given.code, fixture_name=given.fixture_name, fixture=given.fixture, ttl_seconds=given.ttl_seconds))
        endpoint = _endpoint(request)
        return CreatedAccount(code=created.code, endpoint=endpoint, wsdl=endpoint + "?wsdl", users=[
            User(login=u.login, password=u.password, display_name=u.display_name, permissions=list(u.permissions))
            for u in created.users])

    @router.get("/accounts")
    async def list_accounts(request: Request, limit: Annotated[int, Query(ge=1, le=LIST_LIMIT)] = 100) -> Accounts:
        """The accounts, newest first (expired ones are gone)."""
        views = await run(lambda: control.accounts(limit))
        endpoint = _endpoint(request)
        return Accounts(items=[_account(view, endpoint) for view in views])

    @router.get("/accounts/{code}")
    async def get_account(request: Request, code: AccountCode) -> Account:
        """One account: its counts per entity, clock, creation time and expiry."""
        return _account(await run(lambda: control.account(code)), _endpoint(request))

    @router.delete("/accounts/{code}", status_code=204, response_class=Response)
    async def delete_account(code: AccountCode) -> Response:
        """Remove the account and everything of it (one transaction)."""
        await run(lambda: control.delete_account(code))
        return Response(status_code=204)

    @router.get("/accounts/{code}/fixture", responses={409: {"model": Error, "description": (
        "A lock the format cannot name (on a role without an ExternalSystemIdentifier).")}})
    async def export_account(code: AccountCode) -> dict[str, Any]:
        """The account as a fixture document (docs/fixtures.md): creating an account from it gives
        the same tree (codes, names, hierarchy, hours, invoices, locks). Passwords are not in it."""
        return await run(lambda: control.export_account(code))

    @router.get("/accounts/{code}/clock")
    async def get_clock(code: AccountCode) -> ClockState:
        """The account's clock."""
        return _clock(await run(lambda: control.get_clock(code)))

    @router.put("/accounts/{code}/clock")
    async def set_clock(code: AccountCode, body: ClockSetting) -> ClockState:
        """Freeze, set, advance or return the account's clock to real time."""
        change = body.change()
        return _clock(await run(lambda: control.set_clock(code, change)))

    @router.post("/accounts/{code}/snapshots", status_code=201)
    async def take_snapshot(code: AccountCode, body: NewSnapshot | None = None) -> Snapshot:
        """Snapshot the account: its data, locks and settings (not its sessions, clock or expiry)."""
        name = (body or NewSnapshot()).name
        return _snapshot(await run(lambda: control.take_snapshot(code, name)))

    @router.get("/accounts/{code}/snapshots")
    async def list_snapshots(code: AccountCode,
                             limit: Annotated[int, Query(ge=1, le=LIST_LIMIT)] = 100) -> Snapshots:
        """The account's snapshots, newest first."""
        return Snapshots(items=[_snapshot(view) for view in await run(lambda: control.snapshots(code, limit))])

    @router.post("/accounts/{code}/snapshots/{id}/restore", responses=_BUSY)
    async def restore_snapshot(code: AccountCode, id: SnapshotId) -> Snapshot:
        """Put the account back exactly as the snapshot holds it (one transaction); its sessions live on."""
        return _snapshot(await run(lambda: control.restore_snapshot(code, id)))

    @router.post("/accounts/{code}/reset", responses=_BUSY)
    async def reset_account(code: AccountCode) -> Snapshot:
        """Put the account back as it was created (its creation snapshot)."""
        return _snapshot(await run(lambda: control.reset_account(code)))

    @router.post("/accounts/{code}/faults", status_code=201)
    async def add_fault(code: AccountCode, body: NewFault) -> FaultRule:
        """A fault rule: the account's requests of the operation (and user) it matches are answered
        as it says, without their work, until it has answered ``times`` of them."""
        rule = faults.NewRule(body.operation, body.then.then(), body.user, body.times, body.probability)
        return _fault(await run(lambda: control.add_fault(code, rule)))

    @router.get("/accounts/{code}/faults")
    async def list_faults(code: AccountCode) -> FaultRules:
        """The account's fault rules, newest first (the newest matching rule answers)."""
        return FaultRules(items=[_fault(rule) for rule in await run(lambda: control.fault_rules(code))])

    @router.delete("/accounts/{code}/faults/{id}", status_code=204, response_class=Response)
    async def remove_fault(code: AccountCode, id: FaultId) -> Response:
        """Remove one fault rule."""
        await run(lambda: control.remove_fault(code, id))
        return Response(status_code=204)

    @router.delete("/accounts/{code}/faults", status_code=204, response_class=Response)
    async def clear_faults(code: AccountCode) -> Response:
        """Remove every fault rule of the account."""
        await run(lambda: control.clear_faults(code))
        return Response(status_code=204)

    api.include_router(router)
    for more in routers:  # the calls of other parts of the sandbox (the request journal)
        api.include_router(more)
    api.add_exception_handler(RequestValidationError, _invalid)
    api.add_exception_handler(SandboxError, _sandbox_error)
    api.add_exception_handler(HTTPException, _http_error)
    api.add_exception_handler(Exception, _unexpected)
    original = api.openapi

    def openapi() -> dict[str, Any]:
        if api.openapi_schema is None:
            document = original()
            document.setdefault("components", {})["securitySchemes"] = {
                "adminToken": {"type": "http", "scheme": "bearer",
                               "description": "OPENPWS_ADMIN_TOKEN, or the token `openpws serve` printed."}}
            document["security"] = [{"adminToken": []}]
            api.openapi_schema = document
        return api.openapi_schema

    api.openapi = openapi  # type: ignore[method-assign]
    return api


class ControlPlane:
    """Everything under ``/_openpws/``: the admin token checked first, then the API. With no
    token configured every call is refused: the control plane is off."""

    def __init__(self, api: ASGIApp, token: str) -> None:
        self.api = api
        self.token = token.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["path"] != OPENAPI_PATH and not self._authorised(scope):
            message = ("a control-plane call needs the header Authorization: Bearer <admin token>"
                       if self.token else "the control plane is off: no admin token is set (OPENPWS_ADMIN_TOKEN)")
            await _send_json(send, 401, error_body("unauthorized", message), [(b"www-authenticate", b"Bearer")])
            return
        if _is_yaml(scope):
            try:
                scope, receive = await _as_json(scope, receive)
            except SandboxError as error:
                await _send_json(send, 422, error_body("invalid", error.message, error.path))
                return
        await run_logged(self.api, scope, receive, send, "the control plane", lambda: _send_json(
            send, 500, error_body("internal", "internal error (logged by the server)")))

    def _authorised(self, scope: Scope) -> bool:
        if not self.token:
            return False
        for name, value in scope.get("headers", []):
            if name.lower() == b"authorization":
                scheme, _, given = value.partition(b" ")
                return scheme.lower() == b"bearer" and hmac.compare_digest(given.strip(), self.token)
        return False


YAML_TYPES = frozenset({b"application/yaml", b"application/x-yaml", b"text/yaml", b"text/x-yaml"})


def _is_yaml(scope: Scope) -> bool:
    for name, value in scope.get("headers", []):
        if name.lower() == b"content-type":
            return value.partition(b";")[0].strip().lower() in YAML_TYPES
    return False


async def _as_json(scope: Scope, receive: Receive) -> tuple[Scope, Receive]:
    """A request whose body is YAML as the same request in JSON (SPEC: the API takes JSON, and
    YAML with Content-Type: application/yaml): the routes and their validation see one format."""
    body = b""
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    document = read_text(body)
    try:
        payload = json.dumps(document, allow_nan=False).encode()
    except (TypeError, ValueError):
        raise Invalid("the YAML body holds a value JSON has no form for (a set, binary data, NaN)") from None
    headers = [(name, value) for name, value in scope.get("headers", [])
               if name.lower() not in (b"content-type", b"content-length")]
    headers += [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    sent = False

    async def replay() -> MutableMapping[str, Any]:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": payload, "more_body": False}

    return {**scope, "headers": headers}, replay


async def run_logged(app: ASGIApp, scope: Scope, receive: Receive, send: Send, what: str,
                     failed: Callable[[], Awaitable[None]]) -> None:
    """Run ``app``; an unexpected error is logged here and goes no further (Starlette answers it
    and raises it again for the server to log), answered by ``failed`` if nothing was sent yet."""
    started = False

    async def watched(message: MutableMapping[str, Any]) -> None:
        nonlocal started
        started = started or message["type"] == "http.response.start"
        await send(message)

    try:
        await app(scope, receive, watched)
    except Exception:
        log.exception("unexpected error in %s", what)
        if not started:
            await failed()


async def _send_json(send: Send, status: int, body: dict[str, Any],
                     extra: list[tuple[bytes, bytes]] | None = None) -> None:
    payload = json.dumps(jsonable_encoder(body), separators=(",", ":")).encode()
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode()), *(extra or [])]})
    await send({"type": "http.response.body", "body": payload})


def control_plane(control: Control, run: Run, token: str, routers: Sequence[APIRouter] = ()) -> ControlPlane:
    return ControlPlane(make_api(control, run, routers), token)
