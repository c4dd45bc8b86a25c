"""How the site names the people who write, review and publish."""

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection
from django.utils.translation import gettext as _


def display_name(user: AbstractBaseUser | None) -> str:
    """A person's full name, else their username; "the system" for steps nobody took."""
    if user is None:
        return _("the system")
    return user.get_full_name() or user.get_username()


def page_owner_ids() -> list[int]:
    """The ids of everyone who owns a page, found by stepping through the owner index from one
    owner to the next (as many steps as there are owners), not by reading every page as
    ``SELECT DISTINCT`` would."""
    from pages.models import Page

    table = connection.ops.quote_name(Page._meta.db_table)
    owner = connection.ops.quote_name(Page._meta.get_field("owner").column)
    sql = (
        f"WITH RECURSIVE owners(id) AS ("
        f" SELECT MIN({owner}) FROM {table}"
        f" UNION ALL"
        f" SELECT (SELECT MIN({owner}) FROM {table} WHERE {owner} > owners.id) FROM owners"
        f" WHERE owners.id IS NOT NULL"
        f") SELECT id FROM owners WHERE id IS NOT NULL"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return [row[0] for row in cursor.fetchall()]
