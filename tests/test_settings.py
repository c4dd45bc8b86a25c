"""Settings from the environment, and a production configuration Django's deploy checks accept."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def manage(*args, **env):
    environment = {key: value for key, value in os.environ.items() if key not in {"DEBUG", "SECRET_KEY"}}
    environment |= env
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120
    )


def test_production_settings_pass_the_deploy_checks():
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_SETTINGS_MODULE="config.production",
        SECRET_KEY="a-long-random-production-secret-" + "x" * 40,
        ALLOWED_HOSTS="patient-info.example.org",
        SITE_URL="https://patient-info.example.org",
        REDIS_URL="redis://127.0.0.1:6379/15",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "config.production",
    "SECRET_KEY": "a-long-random-production-secret-" + "x" * 40,
    "ALLOWED_HOSTS": "patient-info.example.org",
    "SITE_URL": "https://patient-info.example.org",
}


def test_production_refuses_to_start_without_a_shared_cache():
    # Defect: with no REDIS_URL each process kept its own cache, and a recall went on being served.
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode != 0
    assert "REDIS_URL must be set in production" in result.stderr


def test_production_may_run_without_the_public_cache_when_told_so():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION, PUBLIC_CACHE="off")
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_cache_of_each_process_own_is_a_system_check_error_when_debug_is_off():
    script = (
        "from django.conf import settings; from django.core import checks; "
        "settings.CACHES['default']['BACKEND'] = 'django.core.cache.backends.locmem.LocMemCache'; "
        "print(sorted(m.id for m in checks.run_checks()))"
    )
    result = manage("shell", "--no-imports", "-c", script, **PRODUCTION, REDIS_URL="redis://127.0.0.1:6379/15")
    assert result.returncode == 0, result.stderr
    assert "pages.E001" in result.stdout
    result = manage("shell", "--no-imports", "-c", script, DJANGO_SETTINGS_MODULE="config.settings")
    assert "pages.W001" in result.stdout and "pages.E001" not in result.stdout


def test_without_redis_the_processes_of_one_machine_share_a_directory():
    script = "from django.core.cache import caches; print(type(caches['default']).__name__)"
    result = manage("shell", "--no-imports", "-c", script, DJANGO_SETTINGS_MODULE="config.settings")
    assert result.stdout.split() == ["FileBasedCache"], result.stderr


def test_secret_key_is_required_when_debug_is_off():
    result = manage("check", DEBUG="false", DJANGO_SETTINGS_MODULE="config.settings")
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off." in result.stderr


def test_a_malformed_boolean_is_a_clear_error():
    result = manage("check", DEBUG="maybe", DJANGO_SETTINGS_MODULE="config.settings")
    assert "DEBUG must be true or false, not 'maybe'." in result.stderr


def test_redis_url_puts_the_cache_in_redis():
    # CI has Redis on 127.0.0.1:6379; the cache is shared by every app server through it.
    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    script = (
        "from django.core.cache import caches; import uuid; cache = caches['default']; key = str(uuid.uuid4()); "
        "cache.set(key, 'shared', 30); print(type(cache).__name__, cache.get(key)); cache.delete(key)"
    )
    result = manage("shell", "--no-imports", "-c", script, REDIS_URL=url, DJANGO_SETTINGS_MODULE="config.settings")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["RedisCache", "shared"]


@pytest.mark.django_db
def test_every_response_carries_a_strict_content_security_policy(client, admin_client):
    for response in (client.get("/en/"), client.get("/admin/login/"), admin_client.get("/admin/pages/page/add/")):
        policy = response["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "style-src 'self'" in policy  # plus a nonce where one is used
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
        assert "frame-ancestors 'none'" in policy


def test_production_requires_two_factor_sign_in_for_reviewers_and_publishers():
    result = manage(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.REQUIRE_TWO_FACTOR)",
        DJANGO_SETTINGS_MODULE="config.production",
        SECRET_KEY="a-long-random-production-secret-" + "x" * 40,
        SITE_URL="https://patient-info.example.org",
        REDIS_URL="redis://127.0.0.1:6379/15",
    )
    assert result.stdout.strip().splitlines()[-1] == "True", result.stderr


def test_production_needs_the_sites_https_address():
    result = manage(
        "check",
        DJANGO_SETTINGS_MODULE="config.production",
        SECRET_KEY="a-long-random-production-secret-" + "x" * 40,
    )
    assert result.returncode != 0
    assert "SITE_URL must be set to the site's public https:// address in production." in result.stderr
