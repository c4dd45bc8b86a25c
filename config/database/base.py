"""PostgreSQL, with a bound on every wait for an answer.

The server's own timeouts (``statement_timeout`` and ``idle_in_transaction_session_timeout``,
set in the settings) stop work that runs too long, and libpq's ``connect_timeout`` bounds
connecting. None of them helps once the server stops answering altogether (paused, or a
network that drops everything): a query already sent then waits for ever, and so does every
request queued behind it on that app server.

So while a thread serves a request (see ``pages.middleware``), every query, commit and
rollback it sends is watched. With no answer after ``DATABASE_WAIT_SECONDS``, the watchdog
asks the server, on a connection of its own, whether it answers at all (PostgreSQL's
postmaster replies to a one-packet SSL request at once, however busy its backends are):

- it does: the query is merely slow, or waits for a lock; it goes on, and is asked about
  again after as long, up to the server's own statement timeout and as long again (past
  which it is cut whatever the check says: a pooler such as PgBouncer answers that check
  for a server behind it that has stopped);
- it does not, within ``DATABASE_PROBE_SECONDS``: the connection is cut, the query fails
  (the request gets the friendly 503), and this process leaves the database alone for
  ``DATABASE_RETRY_SECONDS``: requests that need it get the 503 at once, cached pages are
  served as usual, and the next request after that tries again.
"""

import contextlib
import functools
import os
import socket
import struct
import threading
import time
from collections.abc import Callable

import psycopg
from django.conf import settings
from django.db import OperationalError
from django.db.backends.postgresql import base


class DatabaseNotAnswering(OperationalError):
    """The database did not answer in time, or has just failed to: not asked again for a while."""


class Watchdog:
    """One thread per process that cuts the connections whose server stopped answering."""

    def __init__(self, clock=time.monotonic):
        self.clock = clock
        self.down_until = 0.0
        self._local = threading.local()
        self._reset()
        os.register_at_fork(after_in_child=self._reset)  # a forked worker starts with no thread

    def _reset(self) -> None:
        self._lock = threading.Lock()
        self._waits: dict[object, list] = {}  # wait -> [deadline, its own copy of the socket, probe, last deadline]
        self._cut: set[object] = set()
        self._thread: threading.Thread | None = None

    @contextlib.contextmanager
    def guarding(self):
        """Watch this thread's waits on the database while the block runs (a request)."""
        outer = getattr(self._local, "guarded", False)
        self._local.guarded = True
        try:
            yield
        finally:
            self._local.guarded = outer

    def is_guarded(self) -> bool:
        return getattr(self._local, "guarded", False)

    def refuse_while_down(self) -> None:
        if self.is_guarded() and self.clock() < self.down_until:
            raise DatabaseNotAnswering(
                f"The database stopped answering; it is left alone for {settings.DATABASE_RETRY_SECONDS:g} s "
                "before it is tried again."
            )

    def trip(self) -> None:
        self.down_until = self.clock() + settings.DATABASE_RETRY_SECONDS

    @contextlib.contextmanager
    def watching(self, fileno: int | None, probe: Callable[[], bool] | None, *, always: bool = False):
        """Watch the block's wait on socket ``fileno`` (in a guarded thread, or ``always``):
        past DATABASE_WAIT_SECONDS, cut it unless ``probe()`` finds the server answering."""
        seconds = settings.DATABASE_WAIT_SECONDS
        if fileno is None or not seconds or not (always or self.is_guarded()):
            yield
            return
        self.refuse_while_down()
        wait = object()
        try:  # a copy of its own, so that the number can never be another socket's by the time it is cut
            sock = own_copy(fileno)
        except OSError:
            yield
            return
        now = self.clock()
        longest = settings.DATABASE_STATEMENT_TIMEOUT_SECONDS
        last = now + longest + seconds if longest else float("inf")
        with self._lock:
            self._waits[wait] = [now + seconds, sock, probe, last]
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._watch, name="database-watchdog", daemon=True)
                self._thread.start()
        try:
            yield
        except (OperationalError, psycopg.OperationalError) as error:
            if wait in self._cut:
                raise DatabaseNotAnswering(
                    f"The database did not answer within {seconds:g} s, nor a check that it was there."
                ) from error
            raise
        finally:
            with self._lock:
                self._waits.pop(wait, None)
                if wait in self._cut:
                    self._cut.discard(wait)
                    self.trip()
            sock.close()

    def _watch(self) -> None:
        while True:
            time.sleep(0.05)
            now = self.clock()
            with self._lock:
                overdue = [(wait, entry) for wait, entry in self._waits.items() if now >= entry[0]]
            for wait, (_deadline, sock, probe, last) in overdue:
                try:  # outside the lock: it may take DATABASE_PROBE_SECONDS
                    answering = self.clock() < last and probe()
                except Exception:  # a check that fails is a server that does not answer
                    answering = False
                with self._lock:
                    if wait not in self._waits:
                        continue  # answered meanwhile
                    if answering:
                        self._waits[wait][0] = self.clock() + settings.DATABASE_WAIT_SECONDS
                        continue
                    del self._waits[wait]
                    self._cut.add(wait)
                    with contextlib.suppress(OSError):
                        sock.shutdown(socket.SHUT_RDWR)  # wakes the waiting thread with an error


def own_copy(fileno: int) -> socket.socket:
    """A socket object of its own for the socket ``fileno`` (closing it leaves that one open)."""
    duplicate = os.dup(fileno)
    try:
        return socket.socket(fileno=duplicate)
    except OSError:
        os.close(duplicate)
        raise


def peek(fileno: int) -> bytes | None:
    """The first byte waiting on socket ``fileno``, left there: ``b""`` once the other end
    has closed it, None when nothing is waiting. Never waits."""
    with own_copy(fileno) as sock:
        try:
            return sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
        except BlockingIOError:
            return None


# PostgreSQL's SSLRequest: the postmaster answers it with one byte, before any backend is involved.
SSL_REQUEST = struct.pack("!ii", 8, 80877103)


def server_answers(host: str, port: int) -> bool:
    """Whether the PostgreSQL server at ``host`` and ``port`` answers a new connection
    within DATABASE_PROBE_SECONDS."""
    give_up = time.monotonic() + settings.DATABASE_PROBE_SECONDS
    try:
        if host.startswith("/"):  # a Unix socket's directory
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(settings.DATABASE_PROBE_SECONDS)
            sock.connect(os.path.join(host, f".s.PGSQL.{port}"))
        else:
            sock = socket.create_connection((host, port), timeout=settings.DATABASE_PROBE_SECONDS)
        with sock:
            sock.settimeout(max(0.01, give_up - time.monotonic()))  # one bound for the whole check
            sock.sendall(SSL_REQUEST)
            return sock.recv(1) != b""
    except OSError:
        return False


watchdog = Watchdog()


# How lately a connection must have answered for the health check to trust a look at its socket.
RECENT_SECONDS = 5


class DatabaseWrapper(base.DatabaseWrapper):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.execute_wrappers.append(self._watched_execute)

    def _watched(self, *, always: bool = False):
        if self.connection is None or self.connection.closed:
            return watchdog.watching(None, None)
        # Read here, in the connection's own thread: the watchdog's only touches sockets.
        info = self.connection.info
        probe = functools.partial(server_answers, info.host, info.port)
        return watchdog.watching(self.connection.fileno(), probe, always=always)

    def _watched_execute(self, execute, sql, params, many, context):
        with self._watched():
            result = execute(sql, params, many, context)
        self.answered_at = time.monotonic()
        return result

    def get_new_connection(self, conn_params):
        watchdog.refuse_while_down()
        try:
            return super().get_new_connection(conn_params)
        except self.Database.OperationalError as error:
            if watchdog.is_guarded() and "timeout" in str(error).lower():  # connected, then no answer
                watchdog.trip()
            raise

    def init_connection_state(self):
        with self._watched():
            super().init_connection_state()

    def is_usable(self):
        """Django's health check, asked before each request's first query. A connection that
        answered within RECENT_SECONDS and sits idle with nothing waiting on its socket is
        usable, without a round trip (a busy app server's case); one the server has closed is
        not. Anything else (a message waiting, such as the server's "terminating connection",
        a connection inside a transaction, or one idle for longer) is asked ``SELECT 1``, which
        never waits for ever."""
        connection = self.connection
        if connection is None or connection.closed:
            return False
        # Only a connection that answered moments ago: one idle for longer may have lost its
        # server without a word (a crashed host, a firewall dropping idle connections).
        recent = time.monotonic() - getattr(self, "answered_at", float("-inf")) < RECENT_SECONDS
        if recent and connection.info.transaction_status == psycopg.pq.TransactionStatus.IDLE:
            try:
                waiting = peek(connection.fileno())
            except (OSError, psycopg.Error):  # reset, or no socket any more
                return False
            if waiting is None:
                return True
            if waiting == b"":
                return False
        with self._watched(always=True):
            return super().is_usable()

    def _commit(self):
        with self._watched():
            return super()._commit()

    def _rollback(self):
        with self._watched():
            return super()._rollback()
