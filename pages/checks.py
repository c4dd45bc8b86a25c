"""System checks for the public site's configuration."""

from django.conf import settings
from django.core import checks

# Cache backends whose contents one process, or one machine, keeps to itself.
PROCESS_LOCAL = {"django.core.cache.backends.locmem.LocMemCache"}
MACHINE_LOCAL = {"django.core.cache.backends.filebased.FileBasedCache"}


@checks.register(checks.Tags.caches)
def public_cache_is_shared(app_configs, **kwargs):
    """A publish or a recall must reach every process that serves pages: the public
    page cache needs a cache they all share."""
    if not settings.PUBLIC_CACHE_ENABLED:
        return []
    backend = settings.CACHES["default"]["BACKEND"]
    if backend in PROCESS_LOCAL:
        message = (
            "The public page cache is kept by each process on its own: a page published or withdrawn "
            "by another process (a command, another app server) would go on being served."
        )
        hint = "Set REDIS_URL, leave CACHES to its default, or set PUBLIC_CACHE=off."
        if settings.DEBUG:
            return [checks.Warning(message, hint=hint, id="pages.W001")]
        return [checks.Error(message, hint=hint, id="pages.E001")]
    if backend in MACHINE_LOCAL and not settings.DEBUG:
        return [
            checks.Warning(
                "The public page cache is a directory shared only by the processes of this machine: "
                "app servers on other machines would go on serving pages withdrawn here.",
                hint="Set REDIS_URL for a site served by more than one machine, or PUBLIC_CACHE=off.",
                id="pages.W002",
            )
        ]
    return []
