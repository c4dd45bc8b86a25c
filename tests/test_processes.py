"""Every process sees every change to the live site: two real app servers, and a change
made by a third process (a command, or this test), in the configurations a site runs
with: Redis, and without it the directory the processes of one machine share."""

import os
import subprocess
import sys
import time
import uuid

import pytest
from django.db import connection

from review import roles, services
from tests.factories import PageFactory, SectionFactory, UserFactory, edited, publish_fixture
from tests.servers import ROOT, TEST_SECRET_KEY, get, postgres_url, server

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL (CI's PostgreSQL pass)"),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

CHECK_SECONDS = 0.5
# Long enough that a server holding an old page would go on serving it through the test.
GIVE_UP_AFTER = 8.0


def first_seen(bases: list[str], path: str, expected: str) -> float:
    """Seconds until every server at ``bases`` answers ``path`` with ``expected`` in it."""
    start = time.monotonic()
    waiting = set(bases)
    while waiting and time.monotonic() - start < GIVE_UP_AFTER:
        waiting = {base for base in waiting if expected not in get(f"{base}{path}")[1]}
        time.sleep(0.02)
    assert not waiting, f"{sorted(waiting)} did not show {expected!r} at {path} after {GIVE_UP_AFTER} s"
    return time.monotonic() - start


@pytest.mark.parametrize("shared_by", ["directory", "redis"])
def test_a_publish_by_a_command_and_a_recall_show_on_every_server_within_the_check_interval(
    shared_by, tmp_path, settings
):
    editor = UserFactory(username="eleri", roles=[roles.EDITOR])
    reviewer = UserFactory(username="rhys", roles=[roles.CLINICAL_REVIEWER])
    publisher = UserFactory(username="pat", roles=[roles.PUBLISHER])
    page = PageFactory(slug="glucagonoma", title_en="Glucagonoma")
    section = SectionFactory(page=page, heading_en="Treatment", body_en="<p>Surgery.</p>")
    publish_fixture(page, "en")
    with edited(user=editor):
        section.body_en = "<p>Surgery or octreotide.</p>"
        section.save()
    (request,) = services.submit(page=page, languages=["en"], user=editor)
    services.approve(request=request, user=reviewer)

    environment = {
        "DATABASE_URL": postgres_url(),
        "PUBLIC_CACHE_CHECK_SECONDS": str(CHECK_SECONDS),
        "PUBLIC_CACHE_SECONDS": "600",
    }
    prefix = f"processes-{uuid.uuid4()}"
    if shared_by == "redis":
        environment |= {"REDIS_URL": "redis://127.0.0.1:6379/13", "CACHE_KEY_PREFIX": prefix}
        shared = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": environment["REDIS_URL"]}
        shared["KEY_PREFIX"] = prefix
    else:
        environment |= {"CACHE_DIR": str(tmp_path / "cache")}
        shared = {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": environment["CACHE_DIR"],
        }
    # This test's own process (which withdraws the page below) is configured as the servers are.
    settings.CACHES = {"default": shared}
    with server(environment) as (first, _), server(environment) as (second, _):
        for base in (first, second):
            for _ in range(2):  # the second answer comes from the cache
                assert "Surgery." in get(f"{base}/en/glucagonoma/")[1]

        command = [sys.executable, "manage.py", "publish_page", "glucagonoma", "--language", "en", "--by", "pat"]
        env = os.environ | {"DEBUG": "false", "SECRET_KEY": TEST_SECRET_KEY, "ALLOWED_HOSTS": "127.0.0.1"}
        done = subprocess.run(command, cwd=ROOT, env=env | environment, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        seconds = first_seen([first, second], "/en/glucagonoma/", "Surgery or octreotide.")
        assert seconds <= CHECK_SECONDS + 1.0, f"the publish took {seconds:.2f} s to reach both servers"

        services.withdraw(page=page, user=publisher, reason="Safety recall: dose wording wrong")
        seconds = first_seen([first, second], "/en/glucagonoma/", "Safety recall: dose wording wrong")
        assert seconds <= CHECK_SECONDS + 1.0, f"the recall took {seconds:.2f} s to reach both servers"
