"""How fast the public site answers: a real gunicorn (2 workers, DEBUG off) with the
demo content, driven by wrk, on the glucagonoma page read from the database and the
same page from the cache, each against two floors: a fixed 15 KB answer from the same
server (through the site's middleware), and the bare floor, the same bytes from a bare
Django project with no middleware (tests.benchmarks.bare).
Then the SQL queries each public view costs, and the admin's page list with 5,000 pages.

Run with ``make bench`` (PostgreSQL and Redis, as in production; needs Debian's wrk:
``apt-get install wrk``). It prints figures and asserts nothing about time.
"""

import io
import os
import re
import shutil
import subprocess

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from pages.models import Page
from tests.factories import UserFactory
from tests.load import cache_prefix
from tests.servers import postgres_url, server

GLUCAGONOMA = "/en/neuroendocrine-cancer/pancreatic-neuroendocrine-tumours/glucagonoma/"
SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
CONNECTIONS = 8
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
TARGETS = {"cached": 0.95, "uncached": 0.5}  # against the bare floor

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=connection.vendor == "postgresql")


def wrk(url: str, seconds: int = SECONDS) -> dict:
    """Requests per second and latency percentiles (ms) from one wrk run."""
    command = ["wrk", "--threads", "2", "--connections", str(CONNECTIONS), "--duration", f"{seconds}s", "--latency"]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    latency = {percent: duration(value) for percent, value in re.findall(r"^\s+(50|99)%\s+(\S+)$", output, re.M)}
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(r"Socket errors: (.*)$", output, re.M)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output)[1]),
        "p50": latency["50"],
        "p99": latency["99"],
        "errors": int(errors[1]) if errors else 0,
        "socket": socket_errors[1] if socket_errors else "",
    }


def duration(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(number) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60_000}[unit]


def line(label: str, figures: dict, floor: dict | None = None, bare: dict | None = None, target: float = 0) -> str:
    text = f"  {label:<34} {figures['rps']:>9.0f} {figures['p50']:>9.2f} {figures['p99']:>9.2f}"
    if floor and bare:
        ratio = figures["rps"] / bare["rps"]
        text += f"   {figures['rps'] / floor['rps']:>10.2f} {ratio:>10.2f}"
        text += f"  (target ≥ {target} of bare: {'met' if ratio >= target else 'MISSED'})"
    if figures["errors"] or figures["socket"]:
        text += f"   errors: {figures['errors']} non-2xx, {figures['socket'] or 'no socket errors'}"
    return text


@pytest.mark.skipif(connection.vendor != "postgresql", reason="runs against PostgreSQL: make bench sets DATABASE_URL")
@pytest.mark.skipif(shutil.which("wrk") is None, reason="needs wrk: apt-get install wrk")
def test_public_page_throughput_against_the_floor():
    call_command("load_demo_content", stdout=io.StringIO())
    common = {"DATABASE_URL": postgres_url(), "DJANGO_SETTINGS_MODULE": "tests.benchmarks.server_settings"}
    servers = {
        "uncached": common | {"BENCH_CACHE": "off"},
        "cached": common | {"REDIS_URL": REDIS_URL, "CACHE_KEY_PREFIX": cache_prefix()},
    }
    print(f"\nwrk, {CONNECTIONS} connections, {SECONDS} s each; gunicorn, 2 workers, DEBUG off, PostgreSQL")
    print(f"  {'':<34} {'req/s':>9} {'p50 ms':>9} {'p99 ms':>9}   {'/ floor':>10} {'/ bare':>10}")
    with server({}, workers=2, output=subprocess.DEVNULL, app="tests.benchmarks.bare_wsgi") as (base, _process):
        wrk(f"{base}/bench/floor/", seconds=2)
        bare = wrk(f"{base}/bench/floor/")
    print(line("bare floor, 15 KB (no middleware)", bare))
    for name, environment in servers.items():
        with server(environment, workers=2, output=subprocess.DEVNULL) as (base, _process):
            for url in (f"{base}/bench/floor/", f"{base}{GLUCAGONOMA}"):
                wrk(url, seconds=2)  # warm up: imports, connections, the cache
            floor = wrk(f"{base}/bench/floor/")
            page = wrk(f"{base}{GLUCAGONOMA}")
        print(line(f"floor, 15 KB ({name} server)", floor))
        print(line(f"glucagonoma, {name}", page, floor, bare, TARGETS[name]))


def count_queries(client: Client, url: str) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code in (200, 404), (url, response.status_code)
    return len(context), response.status_code


def test_query_counts_of_the_public_views_and_the_admin_page_list():
    call_command("load_demo_content", stdout=io.StringIO())
    client = Client()
    print("\nSQL queries per view (first request reads the database, the second the cache)")
    for url in ("/en/", "/en/neuroendocrine-cancer/", GLUCAGONOMA, GLUCAGONOMA.replace("/en/", "/cy/"),
                GLUCAGONOMA.replace("/en/", "/ar/"), "/en/no-such-page/"):  # fmt: skip
        first, status = count_queries(client, url)
        second, _status = count_queries(client, url)
        print(f"  {url:<72} {status}  {first} then {second}")

    admin = Client()
    admin.force_login(UserFactory(username="admin", is_superuser=True))
    few = count_queries(admin, "/admin/pages/page/")[0]
    Page.objects.bulk_create(
        Page(slug=f"bench-{n}", path=f"bench-{n}", position=n, title_en=f"Bench page {n}") for n in range(5_000)
    )
    many = count_queries(admin, "/admin/pages/page/")[0]
    pages = Page.objects.count()
    print(f"  admin page list: {few} queries with {pages - 5_000} pages, {many} with {pages}")
    assert many == few
