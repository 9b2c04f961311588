"""Alembic environment: migrations run on the connection openpws hands over (see migrate.py)."""

from alembic import context

from openpws.store.schema import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
