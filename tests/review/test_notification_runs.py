"""E-mail sent by real processes (PostgreSQL): ten `send_notifications` runs at once send
each workflow e-mail once; a run of it, or of `send_review_reminders`, killed mid-way
loses nothing, and at most the one message in flight goes twice."""

import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter

import pytest
from django.db import connection

from review.models import Notification
from tests.servers import ROOT, postgres_url

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL (CI's PostgreSQL pass)"),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
MESSAGES = 60


def queue(count: int) -> None:
    Notification.objects.bulk_create(
        Notification(recipient=f"reviewer{n % 7}@example.org", language="en", subject=f"Message {n}", body="Hello")
        for n in range(count)
    )


def run(outbox, **env) -> subprocess.Popen:
    environment = os.environ | {"DATABASE_URL": postgres_url(), "EMAIL_BACKEND": "tests.slow_mail.EmailBackend"}
    environment |= {"EMAIL_FILE_PATH": str(outbox), "DEBUG": "true"} | env
    command = [sys.executable, "manage.py", "send_notifications", "--verbosity", "0"]
    return subprocess.Popen(command, cwd=ROOT, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def delivered(outbox) -> Counter:
    subjects = Counter()
    for path in outbox.iterdir():
        subjects.update(re.findall(r"^Subject: (Message \d+)$", path.read_text(), re.M))
    return subjects


def test_ten_runs_at_once_send_each_e_mail_once(tmp_path):
    queue(MESSAGES)
    runs = []
    for _ in range(10):
        runs.append(run(tmp_path))
        time.sleep(0.1)
    for process in runs:
        assert process.wait(timeout=120) == 0, process.stderr.read().decode()
    sent = delivered(tmp_path)
    assert set(sent) == {f"Message {n}" for n in range(MESSAGES)}
    assert [subject for subject, times in sent.items() if times > 1] == []
    assert not Notification.objects.filter(sent_at__isnull=True).exists()


def test_a_run_killed_mid_way_loses_nothing_and_sends_at_most_one_twice(tmp_path):
    queue(MESSAGES)
    lease = {"NOTIFICATION_CLAIM_SECONDS": "2"}
    first = run(tmp_path, **lease)
    while Notification.objects.filter(sent_at__isnull=False).count() < 10:
        time.sleep(0.02)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    # Straight after: another run sends what the dead one had not claimed, and nothing it held.
    assert run(tmp_path, **lease).wait(timeout=120) == 0
    time.sleep(2.5)  # the dead run's claim runs out
    assert run(tmp_path, **lease).wait(timeout=120) == 0
    sent = delivered(tmp_path)
    assert set(sent) == {f"Message {n}" for n in range(MESSAGES)}, "an e-mail was lost"
    assert sum(times - 1 for times in sent.values()) <= 1, f"sent twice: {[s for s, t in sent.items() if t > 1]}"


def test_a_reminders_run_killed_mid_way_loses_no_digest_and_sends_at_most_one_twice(tmp_path):
    from tests.review.test_reminders import DUE, make_due_pages

    make_due_pages(63, owners=21)
    lease = {"REVIEW_REMINDER_CLAIM_SECONDS": "2"}
    command = ["send_review_reminders", "--date", DUE.isoformat()]

    environment = os.environ | {"DATABASE_URL": postgres_url(), "EMAIL_BACKEND": "tests.slow_mail.EmailBackend"}
    environment |= {"EMAIL_FILE_PATH": str(tmp_path), "DEBUG": "true"} | lease

    def start():
        return subprocess.Popen(
            [sys.executable, "manage.py", *command], cwd=ROOT, env=environment, stdout=subprocess.PIPE, text=True
        )

    def digests() -> Counter:
        recipients = Counter()
        for path in tmp_path.iterdir():
            recipients.update(re.findall(r"^To: (owner\d+@example.org)$", path.read_text(), re.M))
        return recipients

    first = start()
    while sum(digests().values()) < 6:
        time.sleep(0.01)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    # Straight after: nothing the dead run held goes again yet, and the run says why.
    second = start()
    output = second.communicate(timeout=120)[0]
    assert "left by one that stopped" in output, output
    time.sleep(2.5)  # the dead run's claim runs out
    third = start()
    assert third.wait(timeout=120) == 0, third.communicate()[0]
    sent = digests()
    assert set(sent) == {f"owner{n}@example.org" for n in range(21)}, "a digest was lost"
    assert sum(times - 1 for times in sent.values()) <= 1, f"sent twice: {[r for r, t in sent.items() if t > 1]}"
