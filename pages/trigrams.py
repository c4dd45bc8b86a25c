"""The admin's page search, and the trigram indexes that answer it on PostgreSQL.

The page list finds pages by any part of a title or summary in any language, of the address,
or of any section's heading or text (``icontains``), which PostgreSQL compares as
``UPPER(column::text) LIKE UPPER('%word%')``. A GIN trigram index on exactly that expression
lets it answer from the index instead of reading every page and section. The indexes follow
the configured languages: they are made after every ``migrate`` for whichever columns exist
then, so a language added later is indexed too.

A search is one subquery per word: the ids of the pages matching it on their own columns,
joined (``UNION``) to the page ids of the sections matching it. Each half is one table's
columns OR-ed together, which PostgreSQL answers with a BitmapOr of that table's indexes;
an OR across a join of the two tables (Django's own search over ``sections__…``) could use
none of them, and would list a page once per matching section besides.

``CREATE EXTENSION pg_trgm`` needs the CREATE privilege on the database (its owner has it;
pg_trgm is a trusted extension); where the site's user lacks it, a database administrator
creates the extension once beforehand, and ``migrate`` says so if nobody has.
"""

from django.core.exceptions import ImproperlyConfigured
from django.db import ProgrammingError, connections
from django.db.models import Q, QuerySet
from django.utils.text import smart_split, unescape_string_literal

from pages import languages


def page_columns(*, with_summaries: bool = True) -> list[str]:
    """The page's columns searched: every language's title (and summary), and the address."""
    fields = ("title", "summary") if with_summaries else ("title",)
    return [f"{field}_{code}" for field in fields for code in languages.codes()] + ["path"]


def section_columns() -> list[str]:
    """The section's columns searched: every language's heading and text."""
    return [f"{field}_{code}" for field in ("heading", "body") for code in languages.codes()]


def search_fields() -> list[str]:
    """Every column the page list searches, as the admin names them."""
    return page_columns() + [f"sections__{column}" for column in section_columns()]


def index_name(table: str, column: str) -> str:
    return f"{table}_{column}_trgm"


# The most words a search looks for, each one more subquery: past them, the rest are ignored.
MAX_WORDS = 10


def words(search_term: str) -> list[str]:
    """The words of a search, as the admin splits them: "quoted words" stay together; at
    most MAX_WORDS of them."""
    found = []
    for bit in smart_split(search_term):
        if len(found) == MAX_WORDS:
            break
        if bit[:1] in ('"', "'") and bit[-1:] == bit[:1]:
            bit = unescape_string_literal(bit)
        if bit:
            found.append(bit)
    return found


def _any_contains(columns: list[str], word: str) -> Q:
    return Q.create([(f"{column}__icontains", word) for column in columns], connector=Q.OR)


def matching(pages: QuerySet, search_term: str, *, in_text: bool = True) -> QuerySet:
    """``pages`` with every word of ``search_term`` somewhere in them (the title, summary or
    address, or, when ``in_text``, any section's heading or text; each word may be in a
    different one), in any language. Each page is listed once."""
    from pages.models import Page, Section

    for word in words(search_term):
        ids = Page.objects.filter(_any_contains(page_columns(with_summaries=in_text), word)).values("pk")
        if in_text:
            in_sections = Section.objects.filter(_any_contains(section_columns(), word)).values("page_id")
            ids = ids.order_by().union(in_sections.order_by())
        pages = pages.filter(pk__in=ids)
    return pages


def _indexed() -> list[tuple[str, list[str]]]:
    from pages.models import Page, Section

    return [(Page._meta.db_table, page_columns()), (Section._meta.db_table, section_columns())]


def create_indexes(using: str = "default", **kwargs) -> None:
    """Make any missing index (a ``post_migrate`` receiver; nothing on other databases)."""
    connection = connections[using]
    tables = connection.introspection.table_names() if connection.vendor == "postgresql" else []
    wanted = [(table, columns) for table, columns in _indexed() if table in tables]
    if not wanted:
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
        for table, columns in wanted:
            existing = {column.name for column in connection.introspection.get_table_description(cursor, table)}
            for column in columns:
                if column not in existing:  # a language configured before its migration has run
                    continue
                cursor.execute(
                    f"CREATE INDEX IF NOT EXISTS {quote(index_name(table, column))} ON {quote(table)} "
                    f"USING gin ((UPPER({quote(column)}::text)) gin_trgm_ops)"
                )
