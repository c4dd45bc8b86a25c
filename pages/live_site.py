"""The live site's lock and count of changes: every change to what the public sees
takes the lock first, is counted in its own transaction, and is announced to the
public cache once it commits (see pages.cache)."""

from django.db import connection

from pages import cache
from pages.models import LiveSite


# Changing what is live rebuilds other pages' snapshots too (links, breadcrumbs, child
# lists), so two changes at once could each rebuild from a state the other is replacing,
# or wait on each other's rows for ever. Each counts itself first in the one LiveSite row,
# whose lock it keeps until its transaction ends: changes to the live site happen one at a
# time (they are rare), and each is recorded, with the data, for the public cache.
def lock_live_site() -> int:
    """Wait for, then hold until the end of the transaction, the right to change what is
    live; count the change; and have the public cache forget every page once that
    transaction commits. Returns the live site's count of changes, this one included.

    Every change to what the public sees takes this lock, so this is the one place the
    cache is told: once per transaction, however many pages the change touches."""
    changes = _take_live_site_row(counting=1)
    cache.invalidate(changes)
    return changes


def hold_live_site() -> None:
    """Wait for, then hold until the end of the transaction, the same lock, without counting
    a change or telling the cache: for work that changes nothing readers see (composing
    again, and storing, snapshots they are already shown composed on each request)."""
    _take_live_site_row(counting=0)


def _take_live_site_row(counting: int) -> int:
    """Lock the one LiveSite row (made if need be) until the transaction ends, adding
    ``counting`` to its count of changes; returns the count."""
    if not connection.in_atomic_block:
        raise RuntimeError("Change the live site inside a transaction (transaction.atomic).")
    table = connection.ops.quote_name(LiveSite._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (id, changes) VALUES (1, %s) "
            f"ON CONFLICT (id) DO UPDATE SET changes = {table}.changes + %s RETURNING changes",
            [counting, counting],
        )
        (changes,) = cursor.fetchone()
    return changes
