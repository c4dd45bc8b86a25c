"""Real app servers for tests and benchmarks: gunicorn started in a subprocess
against the test database, as production runs it."""

import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parent.parent
TEST_SECRET_KEY = "a-test-only-secret-key-" + "x" * 40


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def postgres_url(port: int | None = None) -> str:
    """The test database's address, or the same database through a proxy on ``port``."""
    settings = connection.settings_dict
    return f"postgres://{settings['USER']}@127.0.0.1:{port or settings.get('PORT') or 5432}/{settings['NAME']}"


def manage(environment: dict, *arguments: str) -> subprocess.CompletedProcess:
    """``manage.py`` run in a process of its own, as a scheduled job or an operator would, DEBUG off."""
    env = os.environ | {"DEBUG": "false", "SECRET_KEY": TEST_SECRET_KEY, "LOG_LEVEL": "WARNING"} | environment
    command = [sys.executable, "manage.py", *arguments]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


@contextlib.contextmanager
def server(environment: dict, *, workers: int = 1, output=subprocess.PIPE, app: str = "config.wsgi"):
    """gunicorn serving ``app`` with DEBUG off, ``environment`` on top; yields its base URL and process."""
    port = free_port()
    env = os.environ | {"DEBUG": "false", "SECRET_KEY": TEST_SECRET_KEY}
    env |= {"ALLOWED_HOSTS": "127.0.0.1", "LOG_LEVEL": "WARNING"} | environment
    command = [sys.executable, "-m", "gunicorn", app, "--bind", f"127.0.0.1:{port}"]
    command += ["--workers", str(workers)]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            with contextlib.suppress(OSError):
                if get(f"{base}/healthz")[0] in (200, 503):
                    break
            if process.poll() is not None:
                raise AssertionError(
                    f"the server stopped: {process.communicate()[0] if output is subprocess.PIPE else ''}"
                )
            time.sleep(0.2)
        else:
            raise AssertionError("the server did not start")
        yield base, process
    finally:
        process.terminate()
        process.wait(timeout=10)


class Proxy:
    """A TCP forwarder to ``target`` that can be cut off (every connection dropped, new
    ones refused) and restored on the same port; paused (everything read, nothing
    answered) and resumed; or made to lose the database's answer to one COMMIT (the
    commit happens, the client never hears of it)."""

    def __init__(self, target: tuple[str, int]):
        self.target = target
        self.port = free_port()
        self.connections: list[socket.socket] = []
        self.listener = None
        self.hanging = False
        self.commit_to_lose: float | None = None  # how long to hold that COMMIT first
        self.start()

    def hang(self):
        """Accept and read everything, answer nothing: a server that is paused, not down."""
        self.hanging = True

    def resume(self):
        self.hanging = False

    def lose_next_commit_reply(self, *, after: float = 0.0):
        """Hold the next COMMIT for ``after`` seconds, pass it on, then drop the connection
        before its answer gets back: the client cannot tell whether it committed."""
        self.commit_to_lose = after

    def start(self):
        self.listener = socket.create_server(("127.0.0.1", self.port), reuse_port=False)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        threading.Thread(target=self._accept, args=(self.listener,), daemon=True).start()

    def stop(self):
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked in accept()
        self.listener.close()
        for sock in self.connections:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        self.connections.clear()

    def _accept(self, listener):
        while True:
            try:
                client, _address = listener.accept()
            except OSError:
                return
            self.connections.append(client)
            if self.hanging:
                threading.Thread(target=self._pump, args=(client, None, {}), daemon=True).start()
                continue
            upstream = socket.create_connection(self.target)
            self.connections.append(upstream)
            pair = {"client": client, "muted": False}
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink, pair), daemon=True).start()

    def _pump(self, source, sink, pair):
        try:
            while data := source.recv(65536):
                if sink is None or self.hanging or (pair["muted"] and sink is pair["client"]):
                    continue
                if source is pair["client"] and self.commit_to_lose is not None and b"COMMIT" in data:
                    held, self.commit_to_lose, pair["muted"] = self.commit_to_lose, None, True
                    time.sleep(held)
                    sink.sendall(data)
                    time.sleep(0.3)  # the database commits; its answer goes nowhere
                    for sock in (source, sink):
                        sock.shutdown(socket.SHUT_RDWR)
                    return
                sink.sendall(data)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError, AttributeError):
                sink.shutdown(socket.SHUT_WR)
