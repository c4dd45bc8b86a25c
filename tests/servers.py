"""Real app servers for tests and benchmarks: gunicorn started in a subprocess
against the test database, as production runs it."""

import contextlib
import os
import socket
import subprocess
import sys
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


@contextlib.contextmanager
def server(environment: dict, *, workers: int = 1, output=subprocess.PIPE):
    """gunicorn with DEBUG off, ``environment`` on top; yields its base URL and process."""
    port = free_port()
    env = os.environ | {"DEBUG": "false", "SECRET_KEY": TEST_SECRET_KEY}
    env |= {"ALLOWED_HOSTS": "127.0.0.1", "LOG_LEVEL": "WARNING"} | environment
    command = [sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{port}"]
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
