"""How often one visitor may ask for costly work (the public search): at most
SEARCH_RATE_LIMIT times in each SEARCH_RATE_SECONDS, counted in the shared cache, so
every app server counts together. A cache that is down counts nothing: the search
is still bounded by the database's own limits."""

import logging
import math
import time

from django.conf import settings
from django.core.cache import cache

from config.admin import client_address

logger = logging.getLogger(__name__)


def wait_for(request, scope: str) -> int:
    """0 if the visitor behind ``request`` may go on; otherwise how many seconds they must wait."""
    limit, seconds = settings.SEARCH_RATE_LIMIT, settings.SEARCH_RATE_SECONDS
    if not limit:
        return 0
    now = time.time()
    window = int(now // seconds)
    key = f"throttle:{scope}:{client_address(request)}:{window}"
    try:
        cache.add(key, 0, timeout=int(seconds) + 1)
        count = cache.incr(key)
    except Exception as error:  # the cache is down: nothing to count with
        logger.warning("Could not count searches: %s", error)
        return 0
    if count <= limit:
        return 0
    return max(1, math.ceil((window + 1) * seconds - now))
