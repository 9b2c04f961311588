"""What soak.py and crash.py share: a scratch database named after the script, ``openpws serve``
with its log kept (the tracebacks of ``s:Server`` answers are there) and stopped or killed as a
whole process group, more users of the bench account, an asyncio keep-alive HTTP connection, and
the classification of every answer (Ok, OkWithWarnings, each error number, PwsFault, s:Client,
s:Server, HTTP status, timeout, connection error).

All traffic goes to 127.0.0.1; every wait is bounded.
"""

from __future__ import annotations

import asyncio
import functools
import http.client
import os
import signal
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from _common import ACCOUNT, NAMESPACES, PASSWORD, PATH, SCHEDULING, SCRYPT_COST, envelope, free_port, now, wait_ready
from lxml import etree

from openpws.contract import load_contract
from openpws.services import admin
from openpws.services.permissions import ALL
from openpws.store.transactions import Store

POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
BILLING = "http://projectorpsa.com/DataContracts/Shared/Billing/"
NS = {
    "s": "http://schemas.xmlsoap.org/soap/envelope/",
    "cs": "http://projectorpsa.com/CommonServices/",
    "com": "http://projectorpsa.com/DataContracts/Shared/Common/",
    "sch": "http://projectorpsa.com/DataContracts/Shared/Scheduling/",
    "rs": "http://projectorpsa.com/DataContracts/Responses/",
    "req": "http://projectorpsa.com/DataContracts/Requests/",
}
COM = "{" + NS["com"] + "}"
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


# --- scratch databases and users -------------------------------------------------------------------




def add_users(store: Store, logins: Sequence[str]) -> None:
    """More users of the bench account, each with every permission and the bench password."""
    with store.write() as tx:
        for n, login in enumerate(logins):
            admin.create_user(tx, ACCOUNT, login=login, display_name=f"User {login}", password=PASSWORD,
                              permissions=ALL, reference_id=f"U{n + 2}", email=None, scrypt_cost=SCRYPT_COST,
                              now=now())


# --- the server under test -----------------------------------------------------------------------


class LoggedServer:
    """``openpws serve`` on ``database`` in a process group of its own, its stdout and stderr
    appended to ``log``; ``stop()`` ends the group with SIGTERM (SIGKILL after 20 s), ``kill()``
    with SIGKILL at once."""

    def __init__(self, database: str, workers: int, log: Path, *, port: int | None = None,
                 threads: int | None = None, ready_seconds: float = 60) -> None:
        self.workers = workers
        self.port = port or free_port()
        self.log = log
        env = {**os.environ, "OPENPWS_SCRYPT_COST": str(SCRYPT_COST), "PYTHONUNBUFFERED": "1"}
        command = [sys.executable, "-m", "openpws", "serve", "--database", database, "--port", str(self.port),
                   "--workers", str(workers)]
        if threads:
            command += ["--threads", str(threads)]
        self._killed = False
        self._log_file: IO[bytes] = log.open("ab")
        self.process = subprocess.Popen(command, stdout=self._log_file, stderr=subprocess.STDOUT, env=env,
                                        start_new_session=True)
        try:
            self._wait_ready(ready_seconds)
        except BaseException:
            self.kill()
            raise

    def _wait_ready(self, seconds: float) -> None:
        wait_ready(self.process, self.port, self.workers, seconds, self.log)

    def _signal(self, sig: int) -> None:
        if self._killed:
            return
        try:
            os.killpg(self.process.pid, sig)
        except ProcessLookupError:
            pass

    def kill(self) -> None:
        self._signal(signal.SIGKILL)
        self._killed = True
        self.process.wait()
        self._log_file.close()

    def stop(self) -> None:
        if self.process.poll() is None:
            self._signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                pass
        self.kill()  # also whatever of the group outlived its parent

    def __enter__(self) -> LoggedServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def tracebacks(log: Path, limit: int = 5) -> list[str]:
    """The first ``limit`` tracebacks the server wrote to its log (with the line before each)."""
    try:
        lines = log.read_text(errors="replace").splitlines()
    except OSError:
        return []
    found: list[str] = []
    i = 0
    while i < len(lines) and len(found) < limit:
        if lines[i].startswith("Traceback (most recent call last)"):
            start = max(0, i - 1)
            j = i + 1
            while j < len(lines) and (lines[j].startswith((" ", "\t")) or not lines[j].strip()
                                      or lines[j].startswith(("During handling", "The above exception",
                                                              "Traceback"))):
                j += 1
            found.append("\n".join(lines[start:j + 1]))
            i = j + 1
        else:
            i += 1
    return found


# --- requests and answers ------------------------------------------------------------------------


@functools.cache
def _member_order(operation: str) -> dict[str, int]:
    contract = load_contract()
    request = contract.types.complex(contract.operations[operation].request_type)
    return {member.name: place for place, member in enumerate(request.members)}


def in_order(operation: str, members: str) -> str:
    """The request members ``members`` (sibling elements written with the envelope's prefixes) of
    ``operation`` in the contract's member order, production's: a member that comes after one it
    precedes would not be read. Lock members a script appends (ProjectorLockSetId, StealLockFlag,
    LocksToSteal) land where the request's type orders them."""
    wrapper = etree.fromstring(f"<w {NAMESPACES} {SCHEDULING}>{members}</w>")
    order = _member_order(operation)
    children = list(wrapper)
    ordered = sorted(children, key=lambda child: order.get(etree.QName(child).localname, len(order)))
    if ordered == children:
        return members
    wrapper[:] = ordered
    written = etree.tostring(wrapper).decode()  # <w xmlns:...>the members</w>, prefixes declared once
    return written[written.index(">") + 1:-len("</w>")]


def soap_body(ticket: str, operation: str, members: str) -> bytes:
    if "<bil:" in members and "xmlns:bil" not in members:
        raise ValueError("declare the bil prefix on the element that uses it")
    return envelope(operation, f"<req:SessionTicket>{ticket}</req:SessionTicket>{members}")


def login(port: int, user: str) -> str:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.request("POST", PATH, envelope("PwsAuthenticate", f"<req:AccountCode>{ACCOUNT}</req:AccountCode>"
                                              f"<req:Password>{PASSWORD}</req:Password><req:UserName>{user}"
                                              "</req:UserName>"), {"Content-Type": "text/xml; charset=utf-8"})
    data = connection.getresponse().read()
    connection.close()
    root = etree.fromstring(data, _PARSER)
    ticket = root.findtext(".//rs:SessionTicket", namespaces=NS)
    if not ticket:
        raise RuntimeError(f"PwsAuthenticate of {user} failed: {data[:500]!r}")
    return ticket


# Outcomes: what an answer says about whether the request changed anything.
OK, FAIL, FAULT, UNKNOWN = "ok", "fail", "fault", "unknown"


@dataclass
class Answer:
    kind: str  # Ok, OkWithWarnings, error N[+M], PwsFault N, s:Client, s:Server, HTTP N, timeout, connection error
    outcome: str  # OK (the work is done), FAIL / FAULT (nothing was changed), UNKNOWN
    http: int = 0
    root: etree._Element | None = None
    numbers: tuple[int, ...] = ()
    detail: str = ""  # faultstring, or what went wrong on the wire

    def find(self, path: str) -> etree._Element | None:
        return None if self.root is None else self.root.find(path, NS)

    def text(self, path: str) -> str | None:
        return None if self.root is None else self.root.findtext(path, namespaces=NS)

    def messages(self) -> list[tuple[int, str]]:
        """(ErrorNumber, AdditionalErrorText) of each PwsMessage of a Status answer."""
        if self.root is None:
            return []
        return [(int(m.findtext("com:ErrorNumber", "0", NS) or 0), m.findtext("com:AdditionalErrorText", "", NS) or "")
                for m in self.root.iterfind(".//cs:Messages/com:PwsMessage", NS)]

    @property
    def pws_fault(self) -> etree._Element | None:
        return self.find("s:Body/s:Fault/detail/com:PwsFault")


def classify(status: int, body: bytes) -> Answer:
    try:
        root = etree.fromstring(body, _PARSER)
    except etree.XMLSyntaxError:
        return Answer(f"HTTP {status}", UNKNOWN, status, detail=body[:300].decode(errors="replace"))
    if status == 200:
        state = root.findtext(".//cs:Status", namespaces=NS)
        numbers = tuple(int(n) for n in root.xpath(".//cs:Messages/com:PwsMessage/com:ErrorNumber/text()",
                                                   namespaces=NS))
        if state in ("Ok", "OkWithWarnings"):
            return Answer(state, OK, status, root, numbers)
        if state in ("Fail", "FailSessionInvalid"):
            label = "error " + "+".join(str(n) for n in numbers) if numbers else f"{state} (no message)"
            return Answer(label, FAIL, status, root, numbers)
        return Answer(f"HTTP 200 Status {state}", UNKNOWN, status, root)
    fault_code = root.findtext("s:Body/s:Fault/faultcode", namespaces=NS)
    fault_string = root.findtext("s:Body/s:Fault/faultstring", namespaces=NS) or ""
    if status == 500 and fault_code is not None:
        detail = root.find("s:Body/s:Fault/detail/com:PwsFault", NS)
        if detail is not None:
            numbers = tuple(int(n) for n in detail.xpath("com:Messages/com:PwsMessage/com:ErrorNumber/text()",
                                                         namespaces=NS))
            return Answer("PwsFault " + "+".join(str(n) for n in numbers), FAULT, status, root, numbers, fault_string)
        if fault_code.endswith(":Client") or fault_code == "Client":
            return Answer("s:Client", FAULT, status, root, detail=fault_string)
        if fault_code.endswith(":Server") or fault_code == "Server":
            return Answer("s:Server", UNKNOWN, status, root, detail=fault_string)
        return Answer(f"fault {fault_code}", UNKNOWN, status, root, detail=fault_string)
    return Answer(f"HTTP {status}", UNKNOWN, status, root, detail=fault_string)


class Connection:
    """One keep-alive HTTP/1.1 connection to the server, reopened after an error."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def _open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def _exchange(self, body: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            await self._open()
        assert self.reader is not None and self.writer is not None
        self.writer.write(f"POST {PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/xml; charset=utf-8\r\n"
                          f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
        await self.writer.drain()
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
        if "content-length" in headers:
            data = await self.reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            parts = []
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                parts.append(await self.reader.readexactly(size + 2))
                if size == 0:
                    break
            data = b"".join(p[:-2] for p in parts)
        else:
            data = await self.reader.read()
            self.close()
        if headers.get("connection", "").lower() == "close":
            self.close()
        return status, data

    async def call(self, body: bytes, timeout: float) -> Answer:
        try:
            status, data = await asyncio.wait_for(self._exchange(body), timeout)
        except TimeoutError:
            self.close()
            return Answer("timeout", UNKNOWN, detail=f"no answer within {timeout:g} s")
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError, IndexError) as error:
            self.close()
            return Answer("connection error", UNKNOWN, detail=f"{type(error).__name__}: {error}")
        return classify(status, data)
