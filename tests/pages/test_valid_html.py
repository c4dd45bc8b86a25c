"""The public pages are valid HTML by the Nu HTML checker (vnu), the W3C's own."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from django.test import Client

from tests.public_pages import PAGES

# From the vnu-jar npm package, pinned in tests/e2e/package.json (npm ci --prefix tests/e2e).
VNU_JAR = Path(__file__).parents[1] / "e2e" / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"


def vnu() -> list[str]:
    java = shutil.which("java")
    if not VNU_JAR.exists() or java is None:
        reason = f"The Nu HTML checker needs Java and {VNU_JAR} (npm ci --prefix tests/e2e)."
        if os.environ.get("REQUIRE_BROWSER"):
            pytest.fail(reason)
        pytest.skip(reason)
    return [java, "-Xss4m", "-jar", str(VNU_JAR)]


def errors_in(files: list[Path]) -> list[str]:
    result = subprocess.run(
        [*vnu(), "--errors-only", "--format", "json", *map(str, files)], capture_output=True, text=True, timeout=300
    )
    messages = json.loads(result.stderr or result.stdout)["messages"]
    return [f"{message['url'].rsplit('/', 1)[-1]}:{message.get('lastLine')}: {message['message']}"
            for message in messages if message["type"] not in ("info", "warning")]  # fmt: skip


def test_public_pages_are_valid_html(demo_content, tmp_path):
    vnu()
    client = Client()
    files = []
    for name, path in PAGES.items():
        response = client.get(path)
        assert response.status_code == (404 if name == "not-found" else 200), path
        files.append(tmp_path / f"{name}.html")
        files[-1].write_bytes(response.content)
    assert errors_in(files) == []
    assert len(files) == len(PAGES)


def test_the_checker_knows_todays_html(tmp_path):
    # A 2020 build rejected the <search> element and import maps, both valid HTML now.
    page = tmp_path / "current.html"
    page.write_text(
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Now</title>'
        '<script type="importmap">{"imports": {"a": "/a.js"}}</script></head>'
        '<body><search><form action="/search/"><label>Search <input type="search" name="q"></label>'
        "</form></search></body></html>"
    )
    assert errors_in([page]) == []
