"""Faults, for real: a gunicorn server whose PostgreSQL and Redis connections run
through a proxy this test switches off and on. The database down gives a
friendly 503 and a failing /healthz; the cache down still serves pages; both
recover without restarting the server."""

import contextlib
import socket
import threading
import time

import pytest
from django.db import connection

from tests.factories import PageFactory, SectionFactory, publish_fixture
from tests.servers import free_port, get, postgres_url, server

HEALTHY = '{"status": "ok", "database": "ok", "cache": "ok"}'


class Proxy:
    """A TCP forwarder to ``target`` that can be cut off (every connection
    dropped, new ones refused) and restored on the same port."""

    def __init__(self, target: tuple[str, int]):
        self.target = target
        self.port = free_port()
        self.connections: list[socket.socket] = []
        self.listener = None
        self.hanging = False
        self.start()

    def hang(self):
        """Accept and read everything, answer nothing: a server that is paused, not down."""
        self.hanging = True

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
                threading.Thread(target=self._pump, args=(client, None), daemon=True).start()
                continue
            upstream = socket.create_connection(self.target)
            self.connections.append(upstream)
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source, sink):
        try:
            while data := source.recv(65536):
                if sink is not None and not self.hanging:
                    sink.sendall(data)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError, AttributeError):
                sink.shutdown(socket.SHUT_WR)


def wait_for(url: str, status: int) -> tuple[int, str]:
    for _ in range(50):
        result = get(url)
        if result[0] == status:
            return result
        time.sleep(0.2)
    return result


pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL (CI's PostgreSQL pass)"),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def live_pages():
    for slug in ("glucagonoma", "insulinoma"):
        page = PageFactory(slug=slug, title_en=slug.title())
        SectionFactory(page=page, heading_en="Treatment", body_en=f"<p>Surgery for {slug}.</p>")
        publish_fixture(page, "en")


def test_database_down_gives_503_and_a_failing_healthz_and_recovers_without_restart(live_pages):
    database = Proxy(("127.0.0.1", connection.settings_dict.get("PORT") or 5432))
    with server({"DATABASE_URL": postgres_url(database.port)}) as (base, process):
        assert get(f"{base}/healthz") == (200, HEALTHY)
        assert "Surgery for glucagonoma." in get(f"{base}/en/glucagonoma/")[1]

        database.stop()
        status, body = wait_for(f"{base}/healthz", 503)
        assert status == 503 and '"database": "unavailable' in body
        status, body = get(f"{base}/en/insulinoma/")  # not cached: needs the database
        assert status == 503 and "We will be back soon" in body
        status, body = get(f"{base}/en/glucagonoma/")  # cached before the outage: still served
        assert status == 200 and "Surgery for glucagonoma." in body

        database.start()
        assert wait_for(f"{base}/healthz", 200)[0] == 200
        status, body = get(f"{base}/en/insulinoma/")
        assert status == 200 and "Surgery for insulinoma." in body
        assert process.poll() is None  # the same server throughout
    database.stop()


def test_cache_down_still_serves_pages_with_a_warning_and_recovers(live_pages):
    redis = Proxy(("127.0.0.1", 6379))
    environment = {"DATABASE_URL": postgres_url()}
    environment["REDIS_URL"] = f"redis://127.0.0.1:{redis.port}/4"
    with server(environment) as (base, process):
        assert get(f"{base}/healthz") == (200, HEALTHY)
        redis.stop()
        status, body = get(f"{base}/en/glucagonoma/")
        assert status == 200 and "Surgery for glucagonoma." in body
        status, body = get(f"{base}/healthz")
        assert status == 200 and '"status": "degraded"' in body
        redis.start()
        for _ in range(50):
            if get(f"{base}/healthz") == (200, HEALTHY):
                break
            time.sleep(0.2)
        assert get(f"{base}/healthz") == (200, HEALTHY)
        status, body = get(f"{base}/en/glucagonoma/")
        assert status == 200
        process.terminate()
        output = process.communicate(timeout=10)[0]
    redis.stop()
    assert "Public page cache unavailable, serving from the database" in output


def test_a_hung_cache_costs_a_short_wait_once_not_every_request(live_pages):
    redis = Proxy(("127.0.0.1", 6379))
    environment = {"DATABASE_URL": postgres_url(), "REDIS_URL": f"redis://127.0.0.1:{redis.port}/4"}
    # Asking Redis on every request, as each server does once its check interval has passed.
    environment |= {
        "REDIS_TIMEOUT_SECONDS": "0.5",
        "PUBLIC_CACHE_RETRY_SECONDS": "5",
        "PUBLIC_CACHE_CHECK_SECONDS": "0",
    }
    with server(environment) as (base, _process):
        assert "Surgery for glucagonoma." in get(f"{base}/en/glucagonoma/")[1]
        redis.hang()
        start = time.monotonic()
        for number in range(10):
            slug = ("glucagonoma", "insulinoma")[number % 2]
            began = time.monotonic()
            status, body = get(f"{base}/en/{slug}/")
            assert status == 200 and f"Surgery for {slug}." in body
            assert time.monotonic() - began < 2.5, "a request waited on the hung cache"
        # Defect: redis-py waited 5 s on every request. Now one short wait, then the database.
        assert time.monotonic() - start < 4, f"10 requests took {time.monotonic() - start:.1f} s"
    redis.stop()
