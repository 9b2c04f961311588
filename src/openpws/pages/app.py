"""The admin pages under ``/_openpws/`` (docs/admin.md): the sandbox seen and steered in a browser.

Server-rendered HTML (Jinja2, autoescaped: everything that comes from the data is text), forms
that post back and redirect (POST → 303 → GET), and a little plain JavaScript only where it earns
its keep (copy buttons, the live request view); every page reads without it.

``Pages`` is the ASGI application the HTTP edge hands ``/_openpws/`` (beside the JSON API under
``/_openpws/api/``): it checks the sign-in cookie (``pages.session``) before FastAPI sees a request,
and adds the headers every page carries (a strict Content-Security-Policy: no inline script, no
framing). The routes (``pages.accounts``, ``pages.tree``, ``pages.activity``) act only through the
control plane's operations (``sandbox.control``, ``sandbox.journal``) and the read services
(``services.browse``), as the API and the CLI do, on the server's worker threads; a refusal is
shown on the page with the message the API gives.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote, urlencode

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from pydantic import BaseModel, ValidationError
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException

from openpws import __version__
from openpws.clock import real_now, utc
from openpws.pages import session as sessions
from openpws.pages.session import Session, Signer
from openpws.sandbox.api import _path, _validation_message, run_logged
from openpws.sandbox.changes import ChangesControl
from openpws.sandbox.control import Control
from openpws.sandbox.journal import JournalControl
from openpws.services.context import Environment as ServiceEnvironment
from openpws.services.sandbox import SandboxError

PREFIX = "/_openpws"
STATIC = PREFIX + "/static/"
LOGIN = PREFIX + "/login"
# What may be seen without signing in: the sign-in page and the stylesheet and script it uses.
OPEN_PATHS = (LOGIN, STATIC)
STATUS = {"not_found": 404, "conflict": 409, "invalid": 422}
HEADERS = [
    (b"content-security-policy", b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                                 b"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
]
# Pages within an account, in the navigation's order: (name, title, path under the account).
# The change journal and the rate limits join them here when the control plane has their calls.
ACCOUNT_NAV = (("overview", "Overview", ""), ("tree", "Tree", "/tree"), ("locks", "Locks", "/locks"),
               ("requests", "Requests", "/requests"), ("changes", "Changes", "/changes"),
               ("faults", "Faults and rate limits", "/faults"))

T = TypeVar("T")
Run = Callable[[Callable[[], T]], Awaitable[T]]
Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class Stale(Exception):
    """A form posted without its session's form token (another site's, or an old page's)."""


@dataclass(frozen=True)
class Problem:
    """A refusal to show on a page: the API's error code, message and the member at fault."""

    code: str
    message: str
    path: str | None = None

    @property
    def status(self) -> int:
        return STATUS.get(self.code, 422)

    @staticmethod
    def of(error: SandboxError) -> Problem:
        return Problem(error.code, error.message, error.path)

    @staticmethod
    def of_validation(error: ValidationError) -> Problem:
        """As the API words a body it refuses (``sandbox.api``)."""
        found = list(error.errors())
        paths = [_path(tuple(e.get("loc", ()))) for e in found]
        shown = "; ".join(f"{path}: {_validation_message(dict(e))}" if path else _validation_message(dict(e))
                          for path, e in zip(paths, found, strict=True))
        return Problem("invalid", shown or "invalid request", paths[0] if paths else None)


def shown_time(moment: datetime | None) -> str:
    if moment is None:
        return "-"
    return f"{utc(moment):%Y-%m-%d %H:%M:%S}Z"


def hours(minutes: int | None) -> str:
    if minutes is None:
        return ""
    whole, part = divmod(minutes, 60)
    return f"{whole}:{part:02d}"


class Site:
    """What every route of the pages shares: the operations they call, how they run, the signer
    of their cookies, and the templates."""

    def __init__(self, control: Control, journal: JournalControl, changes: ChangesControl, run: Run[Any], token: str,
                 operations: Sequence[str]) -> None:
        self.control = control
        self.journal = journal
        self.changes = changes
        self.run = run
        self.signer = Signer(token)
        self.operations = tuple(sorted(operations))
        self.templates = Environment(loader=PackageLoader("openpws.pages", "templates"),
                                     autoescape=select_autoescape(default=True, default_for_string=True),
                                     undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
        self.templates.filters.update(time=shown_time, hours=hours, q=lambda s: quote(str(s), safe=""))
        self.templates.globals.update(prefix=PREFIX, version=__version__, account_nav=ACCOUNT_NAV)

    @property
    def environment(self) -> ServiceEnvironment:
        return self.control.environment

    @staticmethod
    def now() -> datetime:
        return real_now()

    async def call(self, work: Callable[[], T]) -> T:
        result: T = await self.run(work)
        return result

    def session(self, request: Request) -> Session | None:
        found = request.scope.get("state", {}).get("session")
        return found if isinstance(found, Session) else None

    def render(self, request: Request, template: str, *, status: int = 200, problem: Problem | None = None,
               **context: Any) -> HTMLResponse:
        session = self.session(request)
        flash = self.signer.read_flash(request.cookies.get(sessions.FLASH_COOKIE))
        page = self.templates.get_template(template).render(
            request_path=request.url.path, csrf=self.signer.form_token(session) if session else "",
            signed_in=session is not None, flash=flash, problem=problem, **context)
        response = HTMLResponse(page, status_code=status)
        if flash is not None:
            response.delete_cookie(sessions.FLASH_COOKIE, path=sessions.PATH)
        return response

    def redirect(self, request: Request, to: str, message: str | None = None) -> RedirectResponse:
        """303 to ``to`` (under the pages), with ``message`` shown there once."""
        response = RedirectResponse(to, status_code=303)
        if message is not None:
            response.set_cookie(sessions.FLASH_COOKIE, self.signer.flash("done", message), path=sessions.PATH,
                                httponly=True, samesite="strict", secure=request.url.scheme == "https")
        return response

    async def form(self, request: Request) -> FormData:
        """The posted form, once its form token is checked."""
        form = await request.form(max_files=1, max_fields=50)
        session = self.session(request)
        given = form.get("csrf")
        if session is None or not self.signer.form_token_matches(session, given if isinstance(given, str) else None):
            raise Stale
        return form

    def validate(self, model: type[BaseModel], data: dict[str, Any]) -> Any:
        """``data`` read by the API's own body model, so that a form is refused as the API refuses the body."""
        return model.model_validate(data)


def text(form: FormData, name: str) -> str | None:
    """A form field's text, None when absent or blank."""
    value = form.get(name)
    if not isinstance(value, str) or not value.strip():
        return None
    return value.strip()


def number(form: FormData, name: str) -> int | float | str | None:
    """A form field as a number where it reads as one (else its text, which the API's model refuses
    as it would in JSON)."""
    value = text(form, name)
    if value is None:
        return None
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            continue
    return value


def with_query(path: str, **params: str | int | None) -> str:
    given = {k: v for k, v in params.items() if v not in (None, "")}
    return f"{path}?{urlencode(given)}" if given else path


def make_pages(site: Site, routers: Sequence[Callable[[Site], Any]]) -> FastAPI:
    pages = FastAPI(title="openpws admin pages", openapi_url=None, docs_url=None, redoc_url=None,
                    redirect_slashes=False)

    @pages.get(LOGIN)
    async def sign_in_page(request: Request, next: str | None = None) -> HTMLResponse:
        return site.render(request, "login.html", next=_local(next))

    @pages.post(LOGIN)
    async def sign_in(request: Request) -> Response:
        form = await request.form(max_files=0, max_fields=10)
        given, goto = form.get("token"), _local(text(form, "next"))
        if not site.signer.token:
            return site.render(request, "login.html", status=401, next=goto, problem=Problem(
                "unauthorized", "the control plane is off: no admin token is set (OPENPWS_ADMIN_TOKEN)"))
        if not isinstance(given, str) or not site.signer.token_matches(given):
            return site.render(request, "login.html", status=401, next=goto, problem=Problem(
                "unauthorized", "that is not the admin token: use the token `openpws serve` printed, or "
                                "OPENPWS_ADMIN_TOKEN", "token"))
        response = RedirectResponse(goto or PREFIX + "/", status_code=303)
        response.set_cookie(sessions.COOKIE, site.signer.issue(), max_age=sessions.LIFETIME, path=sessions.PATH,
                            httponly=True, samesite="strict", secure=request.url.scheme == "https")
        return response

    @pages.post(PREFIX + "/logout")
    async def sign_out(request: Request) -> Response:
        await site.form(request)
        response = RedirectResponse(LOGIN, status_code=303)
        response.delete_cookie(sessions.COOKIE, path=sessions.PATH)
        return response

    @pages.get(STATIC + "{name}")
    async def static(name: str) -> Response:
        kinds = {"admin.css": "text/css; charset=utf-8", "admin.js": "text/javascript; charset=utf-8"}
        if name not in kinds:
            raise HTTPException(404)
        body = (_STATIC_DIR / name).read_bytes()
        return Response(body, media_type=kinds[name], headers={"cache-control": "max-age=300"})

    for router in routers:
        pages.include_router(router(site))

    async def stale(request: Request, _error: Exception) -> HTMLResponse:
        return site.render(request, "error.html", status=403, problem=Problem(
            "forbidden", "the form was not sent from a page of this session (reload the page and send it again)"))

    async def refused(request: Request, error: Exception) -> HTMLResponse:
        assert isinstance(error, SandboxError)
        problem = Problem.of(error)
        return site.render(request, "error.html", status=problem.status, problem=problem)

    async def http_error(request: Request, error: Exception) -> HTMLResponse:
        assert isinstance(error, HTTPException)
        if error.status_code == 405:
            return site.render(request, "error.html", status=405, problem=Problem(
                "method_not_allowed", "this page does not take that method"))
        if error.status_code == 404:
            return site.render(request, "error.html", status=404, problem=Problem(
                "not_found", "there is no such page"))
        return site.render(request, "error.html", status=error.status_code,
                           problem=Problem("invalid", str(error.detail)))

    async def invalid(request: Request, error: Exception) -> HTMLResponse:
        assert isinstance(error, RequestValidationError)
        found = list(error.errors())
        shown = "; ".join(f"{_path(tuple(e.get('loc', ())))}: {_validation_message(dict(e))}" for e in found)
        return site.render(request, "error.html", status=422, problem=Problem("invalid", shown or "invalid request"))

    async def unexpected(request: Request, _error: Exception) -> HTMLResponse:
        return site.render(request, "error.html", status=500, problem=Problem(
            "internal", "internal error (logged by the server)"))

    pages.add_exception_handler(Stale, stale)
    pages.add_exception_handler(SandboxError, refused)
    pages.add_exception_handler(HTTPException, http_error)
    pages.add_exception_handler(RequestValidationError, invalid)
    pages.add_exception_handler(Exception, unexpected)
    return pages


def _local(goto: str | None) -> str | None:
    """A page to go to after signing in: only a path of the pages themselves."""
    if goto is None or not goto.startswith(PREFIX + "/") or goto.startswith("//") or "\\" in goto:
        return None
    if goto.startswith(PREFIX + "/api") or goto.startswith(LOGIN):
        return None
    return goto


_STATIC_DIR = Path(__file__).resolve().parent / "static"


class Pages:
    """Everything under ``/_openpws/`` but the JSON API: the sign-in checked first (a page asked
    for without it goes to the sign-in page; anything else is refused with 401), then FastAPI."""

    def __init__(self, site: Site, app: ASGIApp) -> None:
        self.site = site
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope["path"]
        session = self.site.signer.session(_cookie(scope, sessions.COOKIE))
        scope = {**scope, "state": {**scope.get("state", {}), "session": session}}

        async def guarded(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = [*message.get("headers", []), *HEADERS]
                if not path.startswith(STATIC):
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        if session is None and not path.startswith(OPEN_PATHS):
            if scope["method"] in ("GET", "HEAD"):
                goto = path + ("?" + scope["query_string"].decode("latin-1") if scope.get("query_string") else "")
                target = with_query(LOGIN, next=goto if _local(goto) else None)
                await guarded({"type": "http.response.start", "status": 303,
                               "headers": [(b"location", target.encode("latin-1")), (b"content-length", b"0")]})
                await send({"type": "http.response.body", "body": b""})
                return
            body = b"Sign in first: " + LOGIN.encode() + b"\n"
            await guarded({"type": "http.response.start", "status": 401, "headers": [
                (b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})
            return

        async def failed() -> None:
            body = b"internal error (logged by the server)\n"
            await guarded({"type": "http.response.start", "status": 500, "headers": [
                (b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})

        await run_logged(self.app, scope, receive, guarded, "the admin pages", failed)


def _cookie(scope: Scope, name: str) -> str | None:
    for header, value in scope.get("headers", []):
        if header.lower() == b"cookie":
            jar: SimpleCookie = SimpleCookie()
            try:
                jar.load(value.decode("latin-1"))
            except Exception:  # noqa: S112 - a malformed cookie header is no session
                continue
            if name in jar:
                return jar[name].value
    return None


def pages_app(control: Control, journal: JournalControl, changes: ChangesControl, run: Run[Any], token: str,
              operations: Sequence[str]) -> Pages:
    from openpws.pages import accounts, activity, tree
    from openpws.pages import changes as change_pages

    site = Site(control, journal, changes, run, token, operations)
    return Pages(site, make_pages(site, [accounts.routes, tree.routes, activity.routes, change_pages.routes]))
