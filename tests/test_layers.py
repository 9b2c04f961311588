"""The layers' one-way import rules (docs/architecture.md), read from the source itself."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "openpws"

# layer (a package directory or module of openpws) -> import prefixes it must never use
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "soap": ("openpws.services", "openpws.store", "openpws.messages", "openpws.sandbox", "sqlalchemy", "fastapi"),
    "messages": ("openpws.store", "openpws.sandbox", "sqlalchemy"),
    "services": ("openpws.soap", "openpws.messages", "openpws.sandbox", "lxml", "fastapi", "pydantic"),
    "store": ("openpws.soap", "openpws.messages", "openpws.services", "openpws.sandbox", "openpws.app",
              "openpws.runner", "openpws.cli", "openpws.contract", "openpws.errors", "openpws.config"),
    # The control plane reaches the database only through the sandbox services: never SQL, and
    # never the wire names of PWS (its fixtures are loaded through the dispatcher).
    "sandbox": ("openpws.store", "openpws.messages", "sqlalchemy", "lxml"),
    # The pytest plugin is a client of a server, over HTTP: none of the server's workings, and no
    # HTTP stack an integrator's project would have to install.
    "testing": ("openpws.store", "openpws.messages", "openpws.sandbox", "openpws.app", "openpws.runner",
                "openpws.cli", "sqlalchemy", "fastapi", "httpx", "requests"),
    # The admin pages act through the control plane's operations and the services, as the API
    # does: never SQL, and never the wire names of PWS (XML is shown by a tokenizer, not lxml).
    "pages": ("openpws.store", "openpws.messages", "sqlalchemy", "lxml"),
    "entities.py": ("openpws.", "sqlalchemy", "lxml"),
    # A request's time carries its exchange record, which sits as low as it does.
    "clock.py": ("openpws.soap", "openpws.messages", "openpws.services", "openpws.store", "openpws.sandbox",
                 "openpws.contract", "openpws.observability", "openpws.testing", "openpws.entities",
                 "openpws.errors", "openpws.config", "openpws.app", "openpws.runner", "openpws.cli", "sqlalchemy",
                 "lxml"),
    "exchange.py": ("openpws.", "sqlalchemy", "lxml"),
    "bulk.py": ("openpws.", "sqlalchemy", "lxml"),
    # Observers of what the HTTP edge hands them: never the layers that answer the request.
    "observability": ("openpws.soap", "openpws.messages", "openpws.services", "openpws.sandbox", "openpws.store",
                      "sqlalchemy", "lxml"),
    "errors.py": ("openpws.soap", "openpws.messages", "openpws.services", "openpws.store"),
}


def imports_of(source: str) -> list[str]:
    """Every module a source imports, at the top or inside functions."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module is not None and node.level == 0:
            found.append(node.module)
            found.extend(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def breaks(layer: str, name: str) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for prefix in (p.rstrip(".") for p in FORBIDDEN[layer]))


def violations(layer: str) -> list[str]:
    path = PACKAGE / layer
    files = sorted(path.rglob("*.py")) if path.is_dir() else [path]
    assert files, f"no source found for layer {layer}"
    return [f"{file.relative_to(PACKAGE)} imports {name}"
            for file in files for name in imports_of(file.read_text()) if breaks(layer, name)]


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_imports_point_one_way(layer: str) -> None:
    assert violations(layer) == []


def test_the_rules_catch_an_import_that_breaks_them() -> None:
    source = "from openpws.store.transactions import Store\ndef f():\n    import sqlalchemy.orm\n"
    names = imports_of(source)
    assert [n for n in names if breaks("messages", n)] == ["openpws.store.transactions",
                                                           "openpws.store.transactions.Store", "sqlalchemy.orm"]
    assert breaks("services", "lxml.etree") and breaks("entities.py", "openpws.store")
    assert not breaks("messages", "openpws.services.refs") and not breaks("store", "openpws.entities")
