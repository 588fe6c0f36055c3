"""Persistence: SQLAlchemy models, the Alembic history and the embedded servers."""
