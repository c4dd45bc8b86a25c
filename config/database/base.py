"""PostgreSQL, with a bound on every wait for an answer.

The server's own timeouts (``statement_timeout`` and ``idle_in_transaction_session_timeout``,
set in the settings) stop work that runs too long, and libpq's ``connect_timeout`` bounds
connecting. None of them helps once the server stops answering altogether (paused, or a
network that drops everything): a query already sent then waits for ever, and so does every
request queued behind it on that app server.

So while a thread serves a request (see ``pages.middleware``), every query, commit and
rollback it sends is watched: with no answer after ``DATABASE_WAIT_SECONDS``, the connection
is cut and the query fails (the request gets the friendly 503). The process then leaves the
database alone for ``DATABASE_RETRY_SECONDS``: requests that need it get the 503 at once,
cached pages are served as usual, and the next request after that tries again.
"""

import contextlib
import os
import socket
import threading
import time

import psycopg
from django.conf import settings
from django.db import OperationalError
from django.db.backends.postgresql import base


class DatabaseNotAnswering(OperationalError):
    """The database did not answer in time, or has just failed to: not asked again for a while."""


class Watchdog:
    """One thread per process that cuts the connections whose answer is overdue."""

    def __init__(self, clock=time.monotonic):
        self.clock = clock
        self.down_until = 0.0
        self._local = threading.local()
        self._reset()
        os.register_at_fork(after_in_child=self._reset)  # a forked worker starts with no thread

    def _reset(self) -> None:
        self._lock = threading.Lock()
        self._waits: dict[object, tuple[float, int]] = {}  # wait -> (deadline, socket)
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
    def watching(self, fileno: int | None, *, always: bool = False):
        """Cut the connection on socket ``fileno`` if the block still waits on it after
        DATABASE_WAIT_SECONDS (in a guarded thread, or ``always``)."""
        seconds = settings.DATABASE_WAIT_SECONDS
        if fileno is None or not seconds or not (always or self.is_guarded()):
            yield
            return
        self.refuse_while_down()
        wait = object()
        with self._lock:
            self._waits[wait] = (self.clock() + seconds, fileno)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._watch, name="database-watchdog", daemon=True)
                self._thread.start()
        try:
            yield
        except (OperationalError, psycopg.OperationalError) as error:
            if wait in self._cut:
                raise DatabaseNotAnswering(f"The database did not answer within {seconds:g} s.") from error
            raise
        finally:
            with self._lock:
                self._waits.pop(wait, None)
                if wait in self._cut:
                    self._cut.discard(wait)
                    self.trip()

    def _watch(self) -> None:
        while True:
            time.sleep(0.05)
            with self._lock:  # a wait still registered holds its socket open: never another's
                now = self.clock()
                for wait, (deadline, fileno) in list(self._waits.items()):
                    if now >= deadline:
                        del self._waits[wait]
                        self._cut.add(wait)
                        _cut(fileno)


def _cut(fileno: int) -> None:
    """Shut the socket down, which wakes whoever waits on it with an error; its owner closes it."""
    with contextlib.suppress(OSError), socket.socket(fileno=os.dup(fileno)) as sock:
        sock.shutdown(socket.SHUT_RDWR)


watchdog = Watchdog()


class DatabaseWrapper(base.DatabaseWrapper):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.execute_wrappers.append(self._watched_execute)

    def _socket(self) -> int | None:
        return self.connection.fileno() if self.connection is not None and not self.connection.closed else None

    def _watched_execute(self, execute, sql, params, many, context):
        with watchdog.watching(self._socket()):
            return execute(sql, params, many, context)

    def get_new_connection(self, conn_params):
        watchdog.refuse_while_down()
        try:
            return super().get_new_connection(conn_params)
        except self.Database.OperationalError as error:
            if watchdog.is_guarded() and "timeout" in str(error).lower():  # connected, then no answer
                watchdog.trip()
            raise

    def init_connection_state(self):
        with watchdog.watching(self._socket()):
            super().init_connection_state()

    def is_usable(self):
        # Asked between requests too (Django's health checks): never waits for ever.
        with watchdog.watching(self._socket(), always=True):
            return super().is_usable()

    def _commit(self):
        with watchdog.watching(self._socket()):
            return super()._commit()

    def _rollback(self):
        with watchdog.watching(self._socket()):
            return super()._rollback()
