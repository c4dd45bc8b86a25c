"""The bound on every wait for PostgreSQL (config.database), on real sockets: runs on
SQLite too. tests/test_faults.py has it against a paused PostgreSQL behind a real server."""

import socket
import threading
import time

import pytest
from django.db import OperationalError, connection, connections

from config.database.base import SSL_REQUEST, DatabaseNotAnswering, Watchdog, peek, server_answers


@pytest.fixture
def silent():
    """A connection whose other end answers only when the test says so."""
    ours, theirs = socket.socketpair()
    yield ours, theirs
    ours.close()
    theirs.close()


class Probe:
    """Stands for the check that the server answers a new connection; counts the checks."""

    def __init__(self, answers: bool):
        self.answers, self.calls = answers, 0

    def __call__(self) -> bool:
        self.calls += 1
        return self.answers


def wait_for_answer(sock):
    if sock.recv(16) == b"":
        raise OperationalError("server closed the connection unexpectedly")
    return "answered"


def test_a_server_that_answers_nothing_is_cut_off_and_left_alone_for_a_while(settings, silent):
    settings.DATABASE_WAIT_SECONDS, settings.DATABASE_RETRY_SECONDS = 0.2, 60
    watchdog, (ours, _theirs), gone = Watchdog(), silent, Probe(answers=False)
    with watchdog.guarding():
        began = time.monotonic()
        cut = pytest.raises(DatabaseNotAnswering, match="did not answer within")
        with cut, watchdog.watching(ours.fileno(), gone):
            wait_for_answer(ours)
        assert 0.2 <= time.monotonic() - began < 2 and gone.calls == 1
        refused = pytest.raises(DatabaseNotAnswering, match="left alone for 60 s")
        with refused, watchdog.watching(ours.fileno(), gone):
            raise AssertionError("the database was asked again")  # refused at once, without waiting
    with watchdog.watching(ours.fileno(), gone):  # outside a request (a command): never refused nor cut
        pass


def test_a_slow_answer_from_a_server_that_is_there_is_waited_for(settings, silent):
    # A query waiting for a lock, or merely slow: the server's own statement timeout bounds it.
    settings.DATABASE_WAIT_SECONDS = 0.2
    watchdog, (ours, theirs), there = Watchdog(), silent, Probe(answers=True)
    threading.Timer(1.0, theirs.sendall, args=[b"late"]).start()
    with watchdog.guarding(), watchdog.watching(ours.fileno(), there):
        assert wait_for_answer(ours) == "answered"
    assert there.calls >= 2  # asked about again after each wait
    assert watchdog.down_until == 0.0


def test_an_answer_in_time_is_neither_checked_on_nor_cut(settings, silent):
    settings.DATABASE_WAIT_SECONDS = 1
    watchdog, (ours, theirs), gone = Watchdog(), silent, Probe(answers=False)
    with watchdog.guarding():
        for _ in range(3):
            theirs.sendall(b"ok")
            with watchdog.watching(ours.fileno(), gone):
                assert wait_for_answer(ours) == "answered"
        time.sleep(1.3)  # long after the deadlines: nothing is cut late
        theirs.sendall(b"ok")
        assert wait_for_answer(ours) == "answered"
    assert gone.calls == 0 and watchdog.down_until == 0.0


def test_the_database_is_tried_again_once_the_retry_time_has_passed(settings, silent):
    settings.DATABASE_WAIT_SECONDS, settings.DATABASE_RETRY_SECONDS = 0.2, 0.3
    watchdog, (ours, _theirs) = Watchdog(), silent
    with watchdog.guarding():
        with pytest.raises(DatabaseNotAnswering), watchdog.watching(ours.fileno(), Probe(answers=False)):
            wait_for_answer(ours)
        time.sleep(0.35)
        fresh, other = socket.socketpair()
        other.sendall(b"back")
        with watchdog.watching(fresh.fileno(), Probe(answers=False)):
            assert wait_for_answer(fresh) == "answered"
        fresh.close()
        other.close()


def test_no_wait_is_bounded_when_the_bound_is_switched_off(settings, silent):
    settings.DATABASE_WAIT_SECONDS = 0
    watchdog, (ours, theirs) = Watchdog(), silent
    with watchdog.guarding(), watchdog.watching(ours.fileno(), Probe(answers=False)):
        time.sleep(0.3)
        theirs.sendall(b"late")
        assert wait_for_answer(ours) == "answered"


def test_the_check_asks_the_server_for_its_first_byte(settings):
    settings.DATABASE_PROBE_SECONDS = 0.5
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    received = []

    def postmaster(answer: bool):
        client, _ = listener.accept()
        received.append(client.recv(8))
        if answer:
            client.sendall(b"N")  # "no SSL here", as PostgreSQL says to a plain connection
        time.sleep(0.8)
        client.close()

    for answer in (True, False):
        thread = threading.Thread(target=postmaster, args=[answer])
        thread.start()
        began = time.monotonic()
        assert server_answers("127.0.0.1", port) is answer
        assert time.monotonic() - began < 0.8
        thread.join()
    listener.close()
    assert received == [SSL_REQUEST, SSL_REQUEST]
    assert server_answers("127.0.0.1", port) is False  # nobody listening any more


def test_a_wait_past_the_statement_timeout_is_cut_whatever_the_check_says(settings, silent):
    # A pooler (PgBouncer) answers the check for a server behind it that has stopped.
    settings.DATABASE_WAIT_SECONDS, settings.DATABASE_STATEMENT_TIMEOUT_SECONDS = 0.2, 0.4
    watchdog, (ours, _theirs), pooler = Watchdog(), silent, Probe(answers=True)
    began = time.monotonic()
    with watchdog.guarding(), pytest.raises(DatabaseNotAnswering), watchdog.watching(ours.fileno(), pooler):
        wait_for_answer(ours)
    assert 0.6 <= time.monotonic() - began < 2.5 and pooler.calls >= 1


def test_a_check_that_fails_counts_as_no_answer_and_the_watchdog_goes_on(settings, silent):
    settings.DATABASE_WAIT_SECONDS = 0.2
    watchdog, (ours, _theirs) = Watchdog(), silent

    def broken():
        raise AttributeError("the connection went away meanwhile")

    with watchdog.guarding():
        with pytest.raises(DatabaseNotAnswering), watchdog.watching(ours.fileno(), broken):
            wait_for_answer(ours)
        thread, watchdog.down_until = watchdog._thread, 0.0
        fresh, other = socket.socketpair()
        with pytest.raises(DatabaseNotAnswering), watchdog.watching(fresh.fileno(), Probe(answers=False)):
            wait_for_answer(fresh)
        assert watchdog._thread is thread and thread.is_alive()  # the same thread still watches
        fresh.close()
        other.close()


def test_a_peek_at_a_socket_takes_nothing_and_sees_the_other_end_close(silent):
    ours, theirs = silent
    assert peek(ours.fileno()) is None  # nothing waiting: never waits for it
    theirs.sendall(b"E")
    assert peek(ours.fileno()) == b"E"
    assert ours.recv(1) == b"E"  # still there to be read
    theirs.close()
    assert peek(ours.fileno()) == b""
    ours.recv(1)
    assert ours.fileno() != -1  # its own copy was closed, not the socket


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's health check")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_health_check_asks_an_idle_connection_nothing_and_finds_a_terminated_one_unusable():
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        [[pid]] = cursor.fetchall()
        cursor.execute("SELECT 'the last thing asked'")
    assert connection.is_usable()  # between requests, with nothing waiting: no round trip
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT query FROM pg_stat_activity WHERE pid = %s", [pid])
            assert cursor.fetchone()[0] == "SELECT 'the last thing asked'"  # not SELECT 1
            connection.answered_at -= 60  # idle for a minute: the server may have gone without a word
            assert connection.is_usable()
            cursor.execute("SELECT query FROM pg_stat_activity WHERE pid = %s", [pid])
            assert cursor.fetchone()[0] == "SELECT 1"  # so it was asked
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    finally:
        other.close()
    deadline = time.monotonic() + 5
    while connection.is_usable() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not connection.is_usable()
    connection.health_check_done = False  # as at the start of a request
    connection.close_if_health_check_failed()
    with connection.cursor() as cursor:  # a new connection, at once
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] != pid
