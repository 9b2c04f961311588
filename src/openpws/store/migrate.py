"""Create or migrate the schema to the newest named migration (Alembic), before serving."""

from __future__ import annotations

from importlib import resources

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, text

from openpws.store import statements
from openpws.store.statements import transaction


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(resources.files("openpws.store") / "migrations"))
    return config


def upgrade(engine: Engine) -> None:
    config = _config()
    with engine.connect() as connection, transaction(connection, write=True):
        if connection.dialect.name == "postgresql":
            # Several server processes may start at once: one migrates, the others wait here.
            statements.rows(connection, text("SELECT pg_advisory_xact_lock(727274)"))
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
