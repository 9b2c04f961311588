"""A client of a running openpws server's control plane (``/_openpws/api/``, docs/sandbox.md):
throwaway accounts, their users, clocks, snapshots and fault rules, and a login to the PWS endpoint.

It speaks plain HTTP with the standard library's ``urllib``: the plugin is loaded into every
pytest run of every project that installs openpws, so importing it must cost next to nothing and
must not pull in an HTTP stack the project does not otherwise need. zeep is imported only when
``Account.zeep()`` is called.
"""

from __future__ import annotations

import ipaddress
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode
from xml.sax.saxutils import escape

if TYPE_CHECKING:
    import zeep

API = "/_openpws/api"
SnapshotId = str | int


class OpenpwsError(Exception):
    """The sandbox could not do what a test asked."""


class ControlPlaneError(OpenpwsError):
    """A control-plane call answered with an error: its HTTP status and the JSON error's
    ``code``, ``message`` and ``path`` (the member of the request at fault, if one is)."""

    def __init__(self, call: str, status: int, code: str, message: str, path: str | None) -> None:
        where = f" (at {path})" if path else ""
        super().__init__(f"{call} answered {status} {code}: {message}{where}")
        self.status = status
        self.code = code
        self.message = message
        self.path = path


class UndoRefused(ControlPlaneError):
    """An undo that later changes stand in the way of (409): ``conflicts`` names each, as the
    control plane does (``kind``, ``code``, ``uid``, ``name``, ``reason``, ``request_id``)."""

    def __init__(self, call: str, status: int, code: str, message: str, path: str | None,
                 conflicts: list[dict[str, Any]]) -> None:
        super().__init__(call, status, code, message, path)
        self.conflicts = conflicts


class LoginFailed(OpenpwsError):
    """PwsAuthenticate did not answer Ok: its Status and its messages' error numbers and texts."""

    def __init__(self, login: str, status: str, errors: list[tuple[int, str]]) -> None:
        shown = "; ".join(f"{number} {text}" for number, text in errors) or "no message"
        super().__init__(f"PwsAuthenticate of {login} answered {status}: {shown}")
        self.status = status
        self.errors = errors


@dataclass(frozen=True)
class User:
    """A user of an account, with the password the account's creation generated (or the fixture gave)."""

    login: str
    password: str
    display_name: str
    permissions: tuple[str, ...]


@dataclass(frozen=True)
class ClockState:
    """An account's clock: its time now, whether it is frozen, and how far it is from real time."""

    now: datetime
    frozen: bool
    offset: timedelta


@dataclass(frozen=True)
class _Answer:
    status: int
    body: bytes


def _loopback(url: str) -> bool:
    host = urllib.parse.urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Http:
    """One request at a time over urllib. A server on this machine is reached directly, whatever
    proxy the environment names (a proxy would not know 127.0.0.1 as the test means it)."""

    def __init__(self, base_url: str, timeout: float) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        handlers = [urllib.request.ProxyHandler({})] if _loopback(self.base_url) else []
        self._opener = urllib.request.build_opener(*handlers)

    def send(self, method: str, url: str, body: bytes | None = None,
             headers: Mapping[str, str] | None = None) -> _Answer:
        """The answer, whatever its status; OpenpwsError when the server cannot be reached."""
        request = urllib.request.Request(url, data=body, method=method, headers=dict(headers or {}))  # noqa: S310
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                return _Answer(response.status, response.read())
        except urllib.error.HTTPError as error:
            with error:
                return _Answer(error.code, error.read())
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise OpenpwsError(f"cannot reach openpws at {self.base_url}: {reason}") from None


def _instant(at: datetime | str) -> str:
    """An ISO 8601 instant for the API; a naive datetime is UTC, as the API takes it."""
    if isinstance(at, str):
        return at
    return (at if at.tzinfo is not None else at.replace(tzinfo=UTC)).isoformat()


class Server:
    """A running openpws server, reached at ``url`` (``http://host:port``) with its admin token."""

    def __init__(self, url: str, token: str, *, timeout: float = 60.0) -> None:
        self.url = url.rstrip("/")
        self.token = token
        self.http = Http(self.url, timeout)

    def __repr__(self) -> str:
        return f"Server({self.url!r})"

    def call(self, method: str, path: str, body: object = None, *, raw: bytes | None = None,
             content_type: str = "application/json", expect: int = 200) -> Any:
        """A control-plane call (``path`` under /_openpws/api): its JSON answer (None for a 204);
        ControlPlaneError for any other status than ``expect``."""
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = content_type
        answer = self.http.send(method, self.url + API + path, data, headers)
        if answer.status != expect:
            raise _refused(f"{method} {API}{path}", answer)
        if answer.status == 204 or not answer.body:
            return None
        return json.loads(answer.body)

    def healthy(self) -> bool:
        try:
            return self.http.send("GET", self.url + "/health").status == 200
        except OpenpwsError:
            return False

    def check(self) -> None:
        """That the server answers and takes the token: OpenpwsError saying which is not so."""
        if not self.healthy():
            raise OpenpwsError(f"no openpws server answers at {self.url} (GET /health)")
        try:
            self.call("GET", "/accounts?limit=1")
        except ControlPlaneError as error:
            if error.status == 401:
                raise OpenpwsError(f"the openpws server at {self.url} refuses the admin token given "
                                   f"(--openpws-token, or OPENPWS_ADMIN_TOKEN): {error.message}") from None
            raise

    def create_account(self, *, fixture: str | Path | Mapping[str, Any] | None = None,
                       fixture_name: str | None = None, ttl_seconds: float | None = None,
                       code: str | None = None) -> Account:
        """A new account: from the packaged fixture ``fixture_name`` (e.g. "demo"), from
        ``fixture`` (a .yaml, .yml or .json file, or a fixture document as a mapping), or empty
        (one user with every permission) when neither is given."""
        if fixture is not None and fixture_name is not None:
            raise OpenpwsError("give a fixture or a fixture_name, not both")
        body: dict[str, Any] = {}
        if code is not None:
            body["code"] = code
        if fixture_name is not None:
            body["fixture_name"] = fixture_name
        if ttl_seconds is not None:
            body["ttl_seconds"] = ttl_seconds
        if isinstance(fixture, str | Path):
            path = Path(fixture)
            suffix = path.suffix.lower()
            if suffix in (".yaml", ".yml", ".json") and not path.is_file():
                raise OpenpwsError(f"there is no fixture file {path}")
            if suffix in (".yaml", ".yml"):
                raw = yaml_body(path.read_text(encoding="utf-8"), body)
                return self._created(self.call("POST", "/accounts", raw=raw, content_type="application/yaml",
                                               expect=201))
            if suffix != ".json":
                raise OpenpwsError(f"a fixture file is .yaml, .yml or .json: {path}")
            try:
                body["fixture"] = json.loads(path.read_text(encoding="utf-8"))
            except json.JSONDecodeError as error:
                raise OpenpwsError(f"{path} is not JSON: {error}") from None
        elif fixture is not None:
            body["fixture"] = dict(fixture)
        return self._created(self.call("POST", "/accounts", body, expect=201))

    def _created(self, created: dict[str, Any]) -> Account:
        users = {str(u["login"]): User(str(u["login"]), str(u["password"]), str(u["display_name"]),
                                       tuple(str(p) for p in u["permissions"])) for u in created["users"]}
        return Account(self, str(created["code"]), str(created["endpoint"]), str(created["wsdl"]), users)


def _refused(call: str, answer: _Answer) -> ControlPlaneError:
    try:
        error = json.loads(answer.body)["error"]
        return ControlPlaneError(call, answer.status, str(error["code"]), str(error["message"]), error.get("path"))
    except (ValueError, KeyError, TypeError):
        text = answer.body.decode("utf-8", "replace").strip()[:500]
        return ControlPlaneError(call, answer.status, "http", text or "(no body)", None)


def yaml_body(document: str, members: Mapping[str, Any]) -> bytes:
    """A request body in YAML: ``members`` (as JSON, which is YAML) and the fixture file's text as
    the member ``fixture``. The file is not parsed here, so that no YAML library is needed: its
    lines are indented under ``fixture:``, after dropping what may only stand at the start of a
    stream (directives, the ``---`` marker) and stopping at a document end (``...``)."""
    lines: list[str] = []
    started = False
    for line in document.removeprefix("\ufeff").splitlines():
        if not started:
            if line.startswith("%"):
                continue
            if line == "---" or line.startswith(("--- ", "---\t")):
                started, line = True, line[4:]
            elif line.strip() and not line.lstrip().startswith("#"):
                started = True
        elif line == "---" or line.startswith(("--- ", "---\t")):
            raise OpenpwsError("a fixture file holds one YAML document; this one holds more")
        if line.rstrip() == "...":
            break
        lines.append(f"  {line}" if line.strip() else "")
    head = "".join(f"{json.dumps(name)}: {json.dumps(value)}\n" for name, value in members.items())
    return (head + "fixture:\n" + "\n".join(lines) + "\n").encode()


class Account:
    """A throwaway account of a sandbox: its code, endpoint, WSDL and users; log in, snapshot,
    restore, reset, move its clock, inject faults, set rate limits, read its request journal,
    delete it."""

    def __init__(self, server: Server, code: str, endpoint: str, wsdl: str, users: dict[str, User]) -> None:
        self.server = server
        self.code = code
        self.endpoint = endpoint
        self.wsdl = wsdl
        self.users = users
        self.clock = Clock(self)
        self.faults = Faults(self)
        self.requests = Requests(self)
        self.rate_limits = RateLimits(self)
        self.changes = Changes(self)

    def __repr__(self) -> str:
        return f"Account({self.code!r} at {self.server.url!r})"

    @property
    def _path(self) -> str:
        return "/accounts/" + urllib.parse.quote(self.code, safe="")

    def user(self, login: str | None = None) -> User:
        """The user ``login``, or the first with every permission."""
        if login is not None:
            try:
                return self.users[login]
            except KeyError:
                raise OpenpwsError(f"account {self.code} has no user {login!r}; its users: "
                                   f"{', '.join(self.users) or 'none'}") from None
        from openpws.services.permissions import ALL

        every = {permission.value for permission in ALL}
        for user in self.users.values():
            if every <= set(user.permissions):
                return user
        raise OpenpwsError(f"account {self.code} has no user with every permission: name one, e.g. "
                           f"login({next(iter(self.users), 'LOGIN')!r})")

    def login(self, login: str | None = None) -> str:
        """A session ticket of ``login`` (the first user with every permission when None), from
        PwsAuthenticate over HTTP; LoginFailed when it does not answer Ok."""
        user = self.user(login)
        from openpws.contract import ns

        request = (
            f'<s:Envelope xmlns:s="{ns.SOAP_ENV}" xmlns:pws="{ns.PWS}" xmlns:req="{ns.REQUESTS}"><s:Body>'
            "<pws:PwsAuthenticate><pws:serviceRequest>"
            f"<req:AccountCode>{escape(self.code)}</req:AccountCode>"
            f"<req:Password>{escape(user.password)}</req:Password>"
            f"<req:UserName>{escape(user.login)}</req:UserName>"
            "</pws:serviceRequest></pws:PwsAuthenticate></s:Body></s:Envelope>"
        )
        answer = self.server.http.send("POST", self.endpoint, request.encode(), {
            "Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{ns.SOAP_ACTION_PREFIX}PwsAuthenticate"'})
        return _ticket(user.login, answer)

    def zeep(self, *, preview: bool = False, **options: Any) -> zeep.Client:
        """A zeep client of the account's endpoint, from its WSDL (``options`` go to zeep.Client).
        With ``preview``, every request it sends carries ``X-Openpws-Preview: true``: answered as
        usual, changing nothing (what it would have changed is in the change journal)."""
        try:
            import zeep
        except ImportError:
            raise OpenpwsError("Account.zeep() needs zeep, which is not installed: pip install zeep "
                               "(or pip install 'openpws[zeep]')") from None
        client: zeep.Client = zeep.Client(self.wsdl, **options)  # type: ignore[no-untyped-call]
        if preview:
            client.transport.session.headers["X-Openpws-Preview"] = "true"
        return client

    def preview(self, envelope: str | bytes, soap_action: str | None = None) -> dict[str, Any]:
        """Run a PWS request (its SOAP envelope, a session ticket of this account inside) exactly
        as the endpoint would, and roll it back: ``http_status``, ``response`` (the SOAP text),
        ``changes`` (the change tree it would have made) and ``blockers`` (for a delete that would
        fail: everything that blocks it, each with ``cleared_by``)."""
        body = envelope.encode() if isinstance(envelope, str) else envelope
        headers = {"Authorization": f"Bearer {self.server.token}", "Content-Type": "text/xml; charset=utf-8"}
        if soap_action is not None:
            headers["SOAPAction"] = soap_action
        path = f"{API}{self._path}/preview"
        answer = self.server.http.send("POST", self.server.url + path, body, headers)
        if answer.status != 200:
            raise _refused(f"POST {path}", answer)
        found: dict[str, Any] = json.loads(answer.body)
        return found

    def undo(self, request_id: int | str, *, preview: bool = False) -> dict[str, Any]:
        """Put back what the delete request ``request_id`` (its X-Openpws-Request-Id) removed or
        inactivated: the answer's ``id`` is the undo's own, ``rows`` and ``counts`` what it put
        back. UndoRefused, naming each conflict, when later changes stand in the way. With
        ``preview``: what it would do (``changes``) or what refuses it (``conflicts``), changing nothing."""
        path = f"{self._path}/changes/{urllib.parse.quote(str(request_id), safe='')}/undo"
        if preview:
            path += "?preview=true"
        answer = self.server.http.send("POST", self.server.url + API + path, None, {
            "Authorization": f"Bearer {self.server.token}", "Accept": "application/json"})
        if answer.status == 409:
            refused = _refused(f"POST {API}{path}", answer)
            try:
                conflicts = list(json.loads(answer.body)["error"].get("conflicts", []))
            except (ValueError, KeyError, TypeError, AttributeError):
                conflicts = []
            raise UndoRefused(f"POST {API}{path}", refused.status, refused.code, refused.message, refused.path,
                              conflicts)
        if answer.status != 200:
            raise _refused(f"POST {API}{path}", answer)
        found: dict[str, Any] = json.loads(answer.body)
        return found

    def snapshot(self) -> SnapshotId:
        """Snapshot the account's data, locks and settings: the id to restore."""
        taken = self.server.call("POST", self._path + "/snapshots", expect=201)
        snapshot = taken["id"] if isinstance(taken, dict) else None
        if not isinstance(snapshot, str | int) or isinstance(snapshot, bool):
            raise OpenpwsError(f"the snapshot call answered no id: {taken!r}")
        return snapshot

    def restore(self, snapshot: SnapshotId) -> None:
        """Put the account back exactly as it was at ``snapshot`` (sessions live on)."""
        quoted = urllib.parse.quote(str(snapshot), safe="")
        self.server.call("POST", f"{self._path}/snapshots/{quoted}/restore")

    def reset(self) -> None:
        """Put the account back as its fixture made it (sessions live on)."""
        self.server.call("POST", self._path + "/reset")

    def details(self) -> dict[str, Any]:
        """The control plane's description of the account: counts per entity, clock, creation, expiry."""
        described: dict[str, Any] = self.server.call("GET", self._path)
        return described

    def delete(self) -> None:
        """Remove the account and everything of it; one that is gone already is fine."""
        try:
            self.server.call("DELETE", self._path, expect=204)
        except ControlPlaneError as error:
            if error.status != 404:
                raise


def _ticket(login: str, answer: _Answer) -> str:
    from openpws.contract import ns
    from openpws.errors import RequestFault
    from openpws.soap.xml import parse_message

    try:
        root = parse_message(answer.body)
    except RequestFault:
        text = answer.body.decode("utf-8", "replace").strip()[:500]
        raise OpenpwsError(f"PwsAuthenticate of {login} answered HTTP {answer.status}, not SOAP: {text}") from None
    fault = root.find(f"{{{ns.SOAP_ENV}}}Body/{{{ns.SOAP_ENV}}}Fault")
    if fault is not None:
        raise LoginFailed(login, f"a SOAP fault (HTTP {answer.status})", [(0, fault.findtext("faultstring") or "")])
    status = root.findtext(f".//{{{ns.COMMON_SERVICES}}}Status") or ""
    ticket = root.findtext(f".//{{{ns.RESPONSES}}}SessionTicket")
    if status == "Ok" and ticket:
        return str(ticket)
    errors = [(int(message.findtext(f"{{{ns.COMMON}}}ErrorNumber") or 0), message.findtext(f"{{{ns.COMMON}}}ErrorText")
               or "") for message in root.iterfind(f".//{{{ns.COMMON}}}PwsMessage")]
    raise LoginFailed(login, status or "no Status", errors)


class Clock:
    """An account's clock (real time until moved): everything time-dependent in the account
    follows it, in that account only."""

    def __init__(self, account: Account) -> None:
        self.account = account

    def _put(self, change: dict[str, Any]) -> ClockState:
        return _state(self.account.server.call("PUT", self.account._path + "/clock", change))

    def state(self) -> ClockState:
        return _state(self.account.server.call("GET", self.account._path + "/clock"))

    def now(self) -> datetime:
        """The account's time now (UTC)."""
        return self.state().now

    def freeze(self, at: datetime | str | None = None) -> ClockState:
        """Stop the clock at ``at`` (a naive datetime is UTC), or where it is now."""
        return self._put({"frozen_at": _instant(self.now() if at is None else at)})

    def set(self, at: datetime | str) -> ClockState:
        """Run the clock on from ``at``."""
        return self._put({"set": _instant(at)})

    def advance(self, by: float | timedelta) -> ClockState:
        """Move the clock forward ``by`` (seconds, or a timedelta), frozen or running as it is."""
        seconds = by.total_seconds() if isinstance(by, timedelta) else float(by)
        return self._put({"advance_seconds": seconds})

    def real(self) -> ClockState:
        """Back to real time."""
        return self._put({"real": True})


class Faults:
    """The account's fault rules (docs/sandbox.md, "Faults"): requests they match are answered as
    they say instead of by their operation."""

    def __init__(self, account: Account) -> None:
        self.account = account

    def add(self, operation: str, *, user: str | None = None, times: int | None = None,
            probability: float | None = None, **then: Any) -> int:
        """A rule for ``operation``; ``then`` is how it answers, one of ``error=50046``,
        ``lock_held_by=login`` (with ``stealable=False`` to refuse steals), ``soap_fault="Server"``,
        ``http_status=503``, ``delay_ms=500``, ``drop_connection=True``. Its id."""
        body: dict[str, Any] = {"operation": operation, "then": then}
        for name, value in (("user", user), ("times", times), ("probability", probability)):
            if value is not None:
                body[name] = value
        rule = self.account.server.call("POST", self.account._path + "/faults", body, expect=201)
        rule_id = rule.get("id") if isinstance(rule, dict) else None
        if not isinstance(rule_id, int) or isinstance(rule_id, bool):
            raise OpenpwsError(f"the fault call answered no id: {rule!r}")
        return rule_id

    def list(self) -> list[dict[str, Any]]:
        """The rules as the control plane describes them, newest first."""
        answer = self.account.server.call("GET", self.account._path + "/faults")
        return list(answer["items"])

    def remove(self, rule_id: int) -> None:
        self.account.server.call("DELETE", f"{self.account._path}/faults/{rule_id}", expect=204)

    def clear(self) -> None:
        self.account.server.call("DELETE", self.account._path + "/faults", expect=204)


class Requests:
    """The account's request journal (docs/sandbox.md, "The request journal"): what its clients
    sent and what came back, newest first."""

    def __init__(self, account: Account) -> None:
        self.account = account

    @staticmethod
    def _matcher(operation: str | None, status: str | None, error: int | None, since: datetime | None
                 ) -> dict[str, Any]:
        given = {"operation": operation, "status": status, "error": error,
                 "since": None if since is None else since.isoformat()}
        return {name: value for name, value in given.items() if value is not None}

    def list(self, *, operation: str | None = None, status: str | None = None, error: int | None = None,
             since: datetime | None = None, limit: int | None = None) -> list[dict[str, Any]]:
        """The entries that fit every filter given, newest first (without their XML)."""
        query = self._matcher(operation, status, error, since) | ({} if limit is None else {"limit": limit})
        path = self.account._path + "/requests" + ("?" + urlencode(query) if query else "")
        return list(self.account.server.call("GET", path)["items"])

    def get(self, request_id: int | str) -> dict[str, Any]:
        """One entry with its request and response XML (tickets and passwords masked)."""
        entry: dict[str, Any] = self.account.server.call("GET", f"{self.account._path}/requests/{request_id}")
        return entry

    def count(self, *, operation: str | None = None, status: str | None = None, error: int | None = None,
              since: datetime | None = None, body_contains: str | None = None) -> int:
        """How many entries fit every member given: to verify what the code under test sent."""
        matcher = self._matcher(operation, status, error, since)
        if body_contains is not None:
            matcher["body_contains"] = body_contains
        answer = self.account.server.call("POST", self.account._path + "/requests/count", matcher)
        return int(answer["count"])

    def clear(self) -> None:
        self.account.server.call("DELETE", self.account._path + "/requests", expect=204)


class RateLimits:
    """The account's rate limiting (docs/sandbox.md, "Rate limits"): weighted hits per account,
    user and session over a 60-second window on the account's clock."""

    def __init__(self, account: Account) -> None:
        self.account = account

    def set(self, mode: str, *, installation: int | None = None, user: int | None = None,
            session: int | None = None, weights: Mapping[str, int] | None = None) -> dict[str, Any]:
        """Set the whole of it (``mode`` off, warning or error; limits not given take the
        defaults, operations not weighted weigh 1); the settings as the control plane took them."""
        given = {"installation": installation, "user": user, "session": session}
        body = {"mode": mode, "limits": {name: value for name, value in given.items() if value is not None},
                "weights": dict(weights or {})}
        answer: dict[str, Any] = self.account.server.call("PUT", self.account._path + "/rate-limits", body)
        return answer

    def get(self) -> dict[str, Any]:
        answer: dict[str, Any] = self.account.server.call("GET", self.account._path + "/rate-limits")
        return answer

    def clear_hits(self) -> None:
        """Forget the hits counted so far (a fresh window)."""
        self.account.server.call("DELETE", self.account._path + "/rate-limits/hits", expect=204)


class Changes:
    """The account's change journal (docs/sandbox.md, "The change journal"): what each write
    request changed, as a tree, newest first. Calling it lists (as ``list``)."""

    def __init__(self, account: Account) -> None:
        self.account = account

    def __call__(self, *, entity: str | None = None, code: str | None = None, since: datetime | None = None,
                 limit: int | None = None) -> list[dict[str, Any]]:
        return self.list(entity=entity, code=code, since=since, limit=limit)

    def list(self, *, entity: str | None = None, code: str | None = None, since: datetime | None = None,
             limit: int | None = None) -> list[dict[str, Any]]:
        """The write requests, newest first, each with its change tree: those that changed rows
        of ``entity`` (client, engagement, contract_line_item, project, role, hours, note,
        invoice, lock), and with ``code`` a row of that code (or Uid)."""
        given = {"entity": entity, "code": code, "since": None if since is None else since.isoformat(),
                 "limit": limit}
        query = {name: value for name, value in given.items() if value is not None}
        path = self.account._path + "/changes" + ("?" + urlencode(query) if query else "")
        return list(self.account.server.call("GET", path)["items"])

    def get(self, request_id: int | str) -> dict[str, Any]:
        """One request's changes (a preview's too): its ``changes`` tree."""
        entry: dict[str, Any] = self.account.server.call(
            "GET", f"{self.account._path}/changes/{urllib.parse.quote(str(request_id), safe='')}")
        return entry

    def clear(self) -> None:
        self.account.server.call("DELETE", self.account._path + "/changes", expect=204)


def _state(answer: dict[str, Any]) -> ClockState:
    return ClockState(datetime.fromisoformat(str(answer["now"])), bool(answer["frozen"]),
                      timedelta(seconds=float(answer["offset_seconds"])))
