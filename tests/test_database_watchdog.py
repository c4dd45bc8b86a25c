"""The bound on every wait for PostgreSQL (config.database), on a real socket that
never answers: runs on SQLite too. tests/test_faults.py has it against a paused
PostgreSQL behind a real server."""

import socket
import time

import pytest
from django.db import OperationalError

from config.database.base import DatabaseNotAnswering, Watchdog


@pytest.fixture
def silent():
    """A connection whose other end reads nothing and answers nothing."""
    ours, theirs = socket.socketpair()
    yield ours, theirs
    ours.close()
    theirs.close()


def wait_for_answer(sock):
    if sock.recv(16) == b"":
        raise OperationalError("server closed the connection unexpectedly")
    return "answered"


def test_a_wait_with_no_answer_is_cut_and_the_database_left_alone_for_a_while(settings, silent):
    settings.DATABASE_WAIT_SECONDS, settings.DATABASE_RETRY_SECONDS = 0.2, 60
    watchdog, (ours, _theirs) = Watchdog(), silent
    with watchdog.guarding():
        began = time.monotonic()
        cut = pytest.raises(DatabaseNotAnswering, match=r"did not answer within 0\.2 s")
        with cut, watchdog.watching(ours.fileno()):
            wait_for_answer(ours)
        assert 0.2 <= time.monotonic() - began < 1.5
        with pytest.raises(DatabaseNotAnswering, match="left alone for 60 s"), watchdog.watching(ours.fileno()):
            raise AssertionError("the database was asked again")  # refused at once, without waiting
    with watchdog.watching(ours.fileno()):  # outside a request (a command): never refused nor cut
        pass


def test_an_answer_in_time_is_never_cut(settings, silent):
    settings.DATABASE_WAIT_SECONDS = 0.3
    watchdog, (ours, theirs) = Watchdog(), silent
    with watchdog.guarding():
        for _ in range(3):
            theirs.sendall(b"ok")
            with watchdog.watching(ours.fileno()):
                assert wait_for_answer(ours) == "answered"
        time.sleep(0.5)  # long after the deadlines: nothing is cut late
        theirs.sendall(b"ok")
        assert wait_for_answer(ours) == "answered"
    assert watchdog.down_until == 0.0


def test_the_database_is_tried_again_once_the_retry_time_has_passed(settings, silent):
    settings.DATABASE_WAIT_SECONDS, settings.DATABASE_RETRY_SECONDS = 0.2, 0.3
    watchdog, (ours, _theirs) = Watchdog(), silent
    with watchdog.guarding():
        with pytest.raises(DatabaseNotAnswering), watchdog.watching(ours.fileno()):
            wait_for_answer(ours)
        time.sleep(0.35)
        fresh, other = socket.socketpair()
        other.sendall(b"back")
        with watchdog.watching(fresh.fileno()):
            assert wait_for_answer(fresh) == "answered"
        fresh.close()
        other.close()


def test_no_wait_is_bounded_when_the_bound_is_switched_off(settings, silent):
    settings.DATABASE_WAIT_SECONDS = 0
    watchdog, (ours, theirs) = Watchdog(), silent
    with watchdog.guarding(), watchdog.watching(ours.fileno()):
        time.sleep(0.2)
        theirs.sendall(b"late")
        assert wait_for_answer(ours) == "answered"
