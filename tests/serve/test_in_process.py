"""The in-process transport (tests/asgi.py) that most tests use answers as the server process does:
the same status, headers and body for the same request, good or bad, whatever the method."""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterator

import httpx
import pytest

from openpws.contract import ns
from tests.asgi import AsgiTransport
from tests.conftest import IN_PROCESS_URL, Server
from tests.pws import SERVICE_PATH, envelope

pytestmark = pytest.mark.serve

XML = {"Content-Type": "text/xml; charset=utf-8"}
AUTHENTICATE = envelope("PwsAuthenticate", "<req:AccountCode>nobody</req:AccountCode><req:Password>y</req:Password>"
                        "<req:UserName>x</req:UserName>")


ROCKET = envelope("PwsLaunchRocket", "")


def chunked() -> Iterator[bytes]:
    """A whole request in pieces: an unknown operation, named at the end of the body."""
    yield ROCKET[:100]
    yield ROCKET[100:]


REQUESTS: list[tuple[str, str, bytes | None, dict[str, str]]] = [
    ("GET", "/health", None, {}),
    ("HEAD", "/health", None, {}),
    ("GET", SERVICE_PATH + "?wsdl", None, {}),
    ("GET", SERVICE_PATH.lower() + "?singleWsdl", None, {}),
    ("GET", SERVICE_PATH + "?xsd=xsd0", None, {}),
    ("GET", SERVICE_PATH + "?xsd=xsd99", None, {}),
    ("HEAD", SERVICE_PATH, None, {}),
    ("GET", "/nothing/here", None, {}),
    ("PUT", SERVICE_PATH, b"x", {}),
    ("DELETE", SERVICE_PATH, None, {}),
    ("POST", SERVICE_PATH, b"not xml", XML),
    ("POST", SERVICE_PATH, b"", XML),
    ("POST", SERVICE_PATH, AUTHENTICATE, {**XML, "SOAPAction": f'"{ns.SOAP_ACTION_PREFIX}PwsUnauthenticate"'}),
    ("POST", SERVICE_PATH, AUTHENTICATE, {"Content-Type": "application/soap+xml; charset=utf-8"}),
    ("POST", SERVICE_PATH, gzip.compress(AUTHENTICATE), {**XML, "Content-Encoding": "gzip"}),
    ("POST", SERVICE_PATH, AUTHENTICATE + b" " * (10 * 1024 * 1024), XML),
    ("POST", SERVICE_PATH, ROCKET, XML),
]


def answer(client: httpx.Client, method: str, path: str, body: bytes | None, headers: dict[str, str],
           base_url: str) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body, with the address the client used (in the WSDL) written as BASE."""
    response = client.request(method, path, content=body, headers=headers)
    shown = {k: v for k, v in response.headers.items() if k not in ("date", "server")}
    if "x-openpws-request-id" in shown:  # a new one for every request, of the same shape
        assert re.fullmatch(r"[0-9a-f]{16}", shown["x-openpws-request-id"]), shown
        shown["x-openpws-request-id"] = "ID"
    base = base_url.encode()
    if "content-length" in shown:
        shorter = response.content.count(base) * (len(base) - len(b"BASE"))
        shown["content-length"] = str(int(shown["content-length"]) - shorter)
    return response.status_code, shown, response.content.replace(base, b"BASE")


@pytest.mark.parametrize(("method", "path", "body", "headers"), REQUESTS)
def test_the_same_answer_in_process_as_over_a_socket(server: Server, app_transport: AsgiTransport, method: str,
                                                     path: str, body: bytes | None, headers: dict[str, str]) -> None:
    with httpx.Client(base_url=server.base_url, timeout=60) as live, \
            httpx.Client(base_url=IN_PROCESS_URL, transport=app_transport) as in_process:
        expected = answer(live, method, path, body, headers, server.base_url)
        got = answer(in_process, method, path, body, headers, IN_PROCESS_URL)
    assert got == expected


def test_a_streamed_body_arrives_whole(server: Server, app_transport: AsgiTransport) -> None:
    with httpx.Client(base_url=server.base_url, timeout=60) as live, \
            httpx.Client(base_url=IN_PROCESS_URL, transport=app_transport) as in_process:
        expected = live.post(SERVICE_PATH, content=chunked(), headers=XML)
        got = in_process.post(SERVICE_PATH, content=chunked(), headers=XML)
    assert (got.status_code, got.content) == (expected.status_code, expected.content)
    assert got.status_code == 500 and b"PwsLaunchRocket" in got.content
