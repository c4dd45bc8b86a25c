"""Under load, while an editor saves and a publisher publishes, every answer is a
whole published version: no error, no mix of two versions, no unpublished text, and
no old version more than a second after a newer one went live (three seconds for the
publishes made by a command that could not reach the cache, and so never announced).

Readers on 32 connections (LOAD_CONNECTIONS) hammer a real gunicorn with two
workers sharing PostgreSQL and Redis, for LOAD_SECONDS (10 here; `make bench`
runs it for 60)."""

import os

import pytest
from django.db import connection

from review import roles
from tests import load
from tests.factories import PageFactory, SectionFactory, UserFactory, edited
from tests.servers import postgres_url, server

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL (CI's PostgreSQL pass)"),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_every_answer_under_load_is_one_whole_published_version(settings, tmp_path):
    prefix = load.cache_prefix()
    # The test's own writes invalidate the same cache the servers read.
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL,
                    "KEY_PREFIX": prefix}
    }  # fmt: skip
    editor = UserFactory(username="eleri", roles=[roles.EDITOR])
    with edited("New page", user=editor):
        page = PageFactory(slug="glucagonoma", title_en="Glucagonoma", summary_en="A rare tumour.")
        for position, heading in enumerate(("Symptoms", "Diagnosis", "Treatment")):
            SectionFactory(page=page, position=position, heading_en=heading, body_en=f"<p>About {heading}.</p>")
    newsroom = load.Newsroom(
        page,
        editor,
        UserFactory(username="rhys", roles=[roles.CLINICAL_REVIEWER]),
        UserFactory(username="pat", roles=[roles.PUBLISHER]),
    )
    environment = {"DATABASE_URL": postgres_url(), "REDIS_URL": REDIS_URL, "CACHE_KEY_PREFIX": prefix}
    with open(tmp_path / "server.log", "w+") as log, server(environment, workers=2, output=log) as (base, process):
        result = load.run(
            base,
            "/en/glucagonoma/",
            ["/en/", "/healthz"],
            newsroom,
            seconds=float(os.environ.get("LOAD_SECONDS", "10")),
            connections=int(os.environ.get("LOAD_CONNECTIONS", "32")),
            unannounced_every=3,
            environment=environment,
        )
        assert process.poll() is None
    print(f"\nUnder load: {result.summary()}")
    assert result.errors == 0, result.problems.most_common(10)
    assert result.changes >= 3 and len(result.versions) >= 3, result.summary()
    assert result.unannounced >= 1, result.summary()
    assert result.requests > 100
