"""Trigram indexes for the admin's page search, on PostgreSQL.

The page list finds pages by any part of a title in any language or of the address
(``icontains``), which PostgreSQL compares as ``UPPER(column::text) LIKE UPPER('%word%')``.
A GIN trigram index on exactly that expression lets it answer from the index instead of
reading every page. The indexes follow the configured languages: they are made after every
``migrate`` for whichever title columns exist then, so a language added later is indexed too.

``CREATE EXTENSION pg_trgm`` needs the CREATE privilege on the database (its owner has it;
pg_trgm is a trusted extension); where the site's user lacks it, a database administrator
creates the extension once beforehand, and ``migrate`` says so if nobody has.
"""

from django.core.exceptions import ImproperlyConfigured
from django.db import ProgrammingError, connections

from pages import languages


def columns() -> list[str]:
    """The columns the admin searches: every language's title, and the address."""
    return [f"title_{code}" for code in languages.codes()] + ["path"]


def index_name(column: str) -> str:
    return f"pages_page_{column}_trgm"


def create_indexes(using: str = "default", **kwargs) -> None:
    """Make any missing index (a ``post_migrate`` receiver; nothing on other databases)."""
    from pages.models import Page

    connection = connections[using]
    table = Page._meta.db_table
    if connection.vendor != "postgresql" or table not in connection.introspection.table_names():
        return
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        try:
            cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        except ProgrammingError as error:
            raise ImproperlyConfigured(
                "The admin's page search needs PostgreSQL's pg_trgm extension, which this database user "
                f"may not create ({error}). Have a database administrator run CREATE EXTENSION pg_trgm; "
                "in this database, then run migrate again."
            ) from error
        existing = {column.name for column in connection.introspection.get_table_description(cursor, table)}
        for column in columns():
            if column not in existing:  # a language configured before its migration has run
                continue
            cursor.execute(
                f"CREATE INDEX IF NOT EXISTS {quote(index_name(column))} ON {quote(table)} "
                f"USING gin ((UPPER({quote(column)}::text)) gin_trgm_ops)"
            )
