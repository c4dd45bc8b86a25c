"""Workflow steps that change the live site, taken at the same moment by two people
(PostgreSQL): a recall always wins over a re-confirmation or a publish that started
with it, and neither step waits for the other for ever (every step takes the
live-site lock first, then the rows it changes)."""

import threading

import pytest
from django.db import connection

from pages.models import LiveSnapshot
from review import roles, services
from tests.factories import PageFactory, SectionFactory, UserFactory, edited, publish_fixture

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent steps need PostgreSQL"),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
ROUNDS = 10


def at_once(*steps) -> list[str]:
    """Run ``steps`` in threads released together; what each raised, if anything."""
    barrier, outcomes = threading.Barrier(len(steps)), []

    def run(step):
        try:
            barrier.wait(timeout=10)
            step()
            outcomes.append("done")
        except services.WorkflowError as error:
            outcomes.append(f"refused: {error}")
        except Exception as error:  # a deadlock or anything else: the test fails on it
            outcomes.append(f"{type(error).__name__}: {error}")
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(step,)) for step in steps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def test_a_recall_stands_whatever_is_re_confirmed_or_published_at_the_same_moment():
    reviewer = UserFactory(username="rhys", roles=[roles.CLINICAL_REVIEWER])
    publisher = UserFactory(username="pat", roles=[roles.PUBLISHER])
    editor = UserFactory(username="eleri", roles=[roles.EDITOR])
    for number in range(ROUNDS):
        page = PageFactory(slug=f"glucagonoma-{number}", title_en="Glucagonoma")
        section = SectionFactory(page=page, body_en="<p>Surgery.</p>")
        publish_fixture(page, "en")
        with edited(user=editor):
            section.body_en = "<p>Surgery or octreotide.</p>"
            section.save()
        (approved,) = services.submit(page=page, languages=["en"], user=editor)
        services.approve(request=approved, user=reviewer)

        outcomes = at_once(
            lambda page=page: services.withdraw(page=page, user=publisher, reason="Safety recall"),
            lambda page=page: services.reconfirm(page=page, language="en", user=reviewer),
            lambda approved=approved: services.publish(request=approved, user=publisher),
        )
        assert all(outcome == "done" or outcome.startswith("refused") for outcome in outcomes), outcomes
        assert outcomes.count("done") >= 1
        snapshot = LiveSnapshot.objects.get(page=page, language="en")
        assert snapshot.withdrawn_at is not None, f"round {number}: the recall was undone ({outcomes})"
