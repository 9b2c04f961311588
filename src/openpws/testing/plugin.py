"""The pytest plugin (entry point ``pytest11``: installing openpws is all it takes; docs/testing.md).

- ``openpws_server`` (session): an ``openpws serve`` process of the run's own, started the first
  time a test asks for it (one per pytest-xdist worker) on a SQLite file of a temporary directory,
  stopped at the end; or, with ``--openpws-url``, the server running there.
- ``openpws_account`` (per test): a throwaway account from the packaged demo fixture, or from
  ``@pytest.mark.openpws(fixture=PATH)``, deleted after the test.

Nothing is started, and nothing but the standard library is imported, in a run whose tests do not
ask for these fixtures.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from openpws.testing import local
from openpws.testing.client import Account, OpenpwsError, Server

# What the account of a test is made from when its marker says nothing.
DEFAULT_FIXTURE = "demo"
# Every account the plugin makes removes itself after a day, should its test run never get to
# delete it (a run killed on a shared server): no test lasts that long.
ACCOUNT_TTL_SECONDS = 86400.0
MARKER = ("openpws(fixture=PATH, fixture_name=NAME, ttl_seconds=N): how openpws_account makes the test's "
          "account: from a fixture file (.yaml, .yml or .json, relative to the test's file) or document, or "
          "a packaged fixture (default 'demo'; None: an empty account)")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("openpws", "openpws sandbox")
    group.addoption("--openpws-url", default=None, metavar="URL",
                    help="Use the openpws server running at URL (http://host:port) instead of starting one.")
    group.addoption("--openpws-token", default=None, metavar="TOKEN",
                    help="Its admin token (default: the environment's OPENPWS_ADMIN_TOKEN).")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER)
    if config.getoption("openpws_url") and not _token(config):
        raise pytest.UsageError("--openpws-url needs the server's admin token: --openpws-token TOKEN, "
                                "or OPENPWS_ADMIN_TOKEN in the environment")


def pytest_report_header(config: pytest.Config) -> str | None:
    url = config.getoption("openpws_url")
    return f"openpws: the server at {url}" if url else None


def _token(config: pytest.Config) -> str:
    given = config.getoption("openpws_token")
    return str(given) if given else os.environ.get("OPENPWS_ADMIN_TOKEN", "")


@pytest.fixture(scope="session")
def openpws_server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A running openpws server: the one at --openpws-url, or one started for this test process."""
    url = request.config.getoption("openpws_url")
    if url:
        server = Server(str(url), _token(request.config))
        try:
            server.check()
        except OpenpwsError as error:
            pytest.fail(str(error), pytrace=False)
        yield server
        return
    try:
        started = local.start(tmp_path_factory.mktemp("openpws"))
    except OpenpwsError as error:
        pytest.fail(str(error), pytrace=False)
    try:
        yield started.server
    finally:
        started.stop()


@pytest.fixture
def openpws_account(request: pytest.FixtureRequest, openpws_server: Server) -> Iterator[Account]:
    """A throwaway account of the test's own (see the ``openpws`` marker), deleted afterwards."""
    options = account_options(request.node.get_closest_marker("openpws"), request.path.parent)
    try:
        account = openpws_server.create_account(**options)
    except OpenpwsError as error:
        pytest.fail(f"openpws_account: {error}", pytrace=False)
    yield account
    account.delete()


def account_options(marker: pytest.Mark | None, directory: Path) -> dict[str, Any]:
    """The arguments of Server.create_account that ``marker`` asks for."""
    options: dict[str, Any] = {"fixture_name": DEFAULT_FIXTURE, "ttl_seconds": ACCOUNT_TTL_SECONDS}
    if marker is None:
        return options
    unknown = sorted(set(marker.kwargs) - {"fixture", "fixture_name", "ttl_seconds"})
    if marker.args or unknown:
        pytest.fail("@pytest.mark.openpws takes fixture=, fixture_name= and ttl_seconds= (by name); got "
                    + ", ".join([*(repr(a) for a in marker.args), *unknown]), pytrace=False)
    fixture = marker.kwargs.get("fixture")
    if fixture is not None:
        if "fixture_name" in marker.kwargs:
            pytest.fail("@pytest.mark.openpws: give fixture= or fixture_name=, not both", pytrace=False)
        if isinstance(fixture, str | Path):
            fixture = directory / fixture
        elif not isinstance(fixture, Mapping):
            pytest.fail(f"@pytest.mark.openpws: fixture= is a file path or a mapping, not {fixture!r}",
                        pytrace=False)
        options["fixture"], options["fixture_name"] = fixture, None
    if "fixture_name" in marker.kwargs:
        options["fixture_name"] = marker.kwargs["fixture_name"]
    if "ttl_seconds" in marker.kwargs:
        options["ttl_seconds"] = marker.kwargs["ttl_seconds"]
    return options
