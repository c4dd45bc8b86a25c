"""Trigram indexes for the admin's page search, on PostgreSQL.

The page list finds pages by any part of a title in any language or of the address
(``icontains``), which PostgreSQL compares as ``UPPER(column::text) LIKE UPPER('%word%')``.
A GIN trigram index on exactly that expression lets it answer from the index instead of
reading every page. The indexes follow the configured languages: they are made after every
``migrate`` for whichever title columns exist then, so a language added later is indexed too.

``CREATE EXTENSION pg_trgm`` needs the database's owner (pg_trgm is a trusted extension) or
a superuser; where the site's user is neither, a DBA creates the extension once beforehand.
"""

from django.db import connections

from pages import languages


def columns() -> list[str]:
    """The columns the admin searches: every language's title, and the address."""
    return [f"title_{code}" for code in languages.codes()] + ["path"]


def index_name(column: str) -> str:
    return f"pages_page_{column}_trgm"


def create_indexes(using: str = "default", **kwargs) -> None:
    """Make any missing index (a ``post_migrate`` receiver; nothing on other databases)."""
    connection = connections[using]
    if connection.vendor != "postgresql" or "pages_page" not in connection.introspection.table_names():
        return
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for column in columns():
            cursor.execute(
                f"CREATE INDEX IF NOT EXISTS {quote(index_name(column))} ON {quote('pages_page')} "
                f"USING gin ((UPPER({quote(column)}::text)) gin_trgm_ops)"
            )
