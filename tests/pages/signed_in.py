"""A browser-like client of the admin pages (in-process), signed in with the admin token."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from html import unescape
from typing import Any

import httpx

from tests.asgi import AsgiTransport
from tests.conftest import ADMIN_TOKEN, IN_PROCESS_URL

PAGES = "/_openpws"


class Pages:
    def __init__(self, client: httpx.Client) -> None:
        self.client = client

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.get(PAGES + path, **kwargs)

    def page(self, path: str, **kwargs: Any) -> str:
        """A page's HTML; it must answer 200."""
        answer = self.get(path, **kwargs)
        assert answer.status_code == 200, (answer.status_code, answer.text[:2000])
        assert answer.headers["content-type"].startswith("text/html")
        return answer.text

    def form_token(self, path: str = "/") -> str:
        return csrf_of(self.page(path))

    def post(self, path: str, data: dict[str, Any] | None = None, *, token: str | None = None,
             files: dict[str, Any] | None = None, origin: str = "/") -> httpx.Response:
        """A form posted as a page of ``origin`` posts it (with its form token)."""
        given = {"csrf": self.form_token(origin) if token is None else token, **(data or {})}
        return self.client.post(PAGES + path, data=given, files=files)


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no form token on the page"
    return found.group(1)


def problem_of(html: str) -> str:
    """The refusal a page shows, as text."""
    found = re.search(r'<div class="problem" role="alert">(.*?)</div>', html, re.DOTALL)
    assert found, "the page shows no problem"
    return unescape(re.sub(r"<[^>]+>", "", found.group(1)))


def flash_of(html: str) -> str:
    found = re.search(r'<p class="flash" role="status">(.*?)</p>', html, re.DOTALL)
    assert found, "the page shows no message"
    return unescape(found.group(1))


@contextmanager
def signed_in(transport: AsgiTransport, token: str = ADMIN_TOKEN) -> Iterator[Pages]:
    with httpx.Client(base_url=IN_PROCESS_URL, transport=transport, timeout=60) as client:
        answer = client.post(PAGES + "/login", data={"token": token})
        assert answer.status_code == 303, answer.text
        yield Pages(client)
