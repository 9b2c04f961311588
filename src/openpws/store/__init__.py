"""Persistence: SQLAlchemy Core on SQLite (embedded default) or PostgreSQL (psycopg 3)."""
