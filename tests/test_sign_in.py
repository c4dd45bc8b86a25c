"""Signing in to the admin: throttled guesses, a lockout that expires, and a second
factor for the people whose decisions put wording in front of the public."""

import datetime
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import time_machine
from axes.models import AccessAttempt, AccessFailureLog
from django.contrib.auth.models import Permission
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from review import roles
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "a-long-test-password"
LOGIN = "/admin/login/"


def sign_in(client: Client, username: str, password: str = PASSWORD, *, code: str = "", address="127.0.0.1", **meta):
    form = {"username": username, "password": password, "otp_token": code}
    return client.post(LOGIN, form, REMOTE_ADDR=address, **meta)


def signed_in_as(response) -> str:
    user = response.wsgi_request.user
    return user.username if user.is_authenticated else ""


def code_for(device: TOTPDevice, *, steps_ahead: int = 0) -> str:
    """What the person's authenticator app shows now (or that many 30-second steps later)."""
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift + steps_ahead):06d}"


# Throttling.


def guess(client, username, times, address="127.0.0.1"):
    for _ in range(times):
        response = sign_in(client, username, "a wrong guess", address=address)
        assert response.status_code in (200, 429) and signed_in_as(response) == ""
    return response


def test_five_wrong_passwords_lock_that_name_out_from_that_address_even_with_the_right_one(client, settings):
    UserFactory(username="rhys", roles=[roles.CLINICAL_REVIEWER])
    response = guess(client, "rhys", settings.AXES_FAILURE_LIMIT - 1)
    assert response.status_code == 200 and "Please enter the correct username and password" in response.text

    response = guess(client, "rhys", 1)
    assert response.status_code == 429
    assert "Signing in is paused for 15 minutes" in response.text

    response = sign_in(client, "rhys")
    assert response.status_code == 429 and signed_in_as(response) == ""
    # Tries during the lockout neither count nor extend it.
    assert AccessFailureLog.objects.filter(username="rhys").count() == settings.AXES_FAILURE_LIMIT


def test_the_lockout_expires_after_the_cool_off(client, settings):
    UserFactory(username="rhys", roles=[roles.CLINICAL_REVIEWER])
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        guess(client, "rhys", settings.AXES_FAILURE_LIMIT)
        clock.shift(datetime.timedelta(minutes=14))
        assert sign_in(client, "rhys").status_code == 429
        clock.shift(datetime.timedelta(minutes=2))
        response = sign_in(client, "rhys")
    assert response.status_code == 302 and signed_in_as(response) == "rhys"
    # Success wipes the count: the next mistake starts again from one.
    assert not AccessAttempt.objects.filter(username="rhys").exists()


def test_an_attacker_cannot_lock_someone_out_from_elsewhere(client, settings):
    UserFactory(username="rhys", roles=[roles.CLINICAL_REVIEWER])
    UserFactory(username="eleri", roles=[roles.EDITOR])
    guess(Client(), "rhys", settings.AXES_FAILURE_LIMIT, address="203.0.113.9")

    # The reviewer at their own desk, and a colleague at the attacker's address, still sign in.
    assert signed_in_as(sign_in(client, "rhys", address="192.0.2.10")) == "rhys"
    assert signed_in_as(sign_in(Client(), "eleri", address="203.0.113.9")) == "eleri"


def test_behind_a_proxy_the_forwarded_address_is_the_one_throttled(client, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    UserFactory(username="rhys", roles=[roles.CLINICAL_REVIEWER])
    proxy = "10.0.0.5"
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "rhys", "a wrong guess", address=proxy, HTTP_X_FORWARDED_FOR="198.51.100.1, 203.0.113.9")
    # Every visitor arrives from the proxy; only the one who guessed is locked out.
    locked = sign_in(client, "rhys", address=proxy, HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert locked.status_code == 429
    elsewhere = sign_in(client, "rhys", address=proxy, HTTP_X_FORWARDED_FOR="192.0.2.10")
    assert signed_in_as(elsewhere) == "rhys"


# Two-factor sign-in.


@pytest.fixture
def two_factor(settings):
    settings.REQUIRE_TWO_FACTOR = True


def test_a_reviewer_needs_the_code_from_their_app(client, two_factor):
    reviewer = UserFactory(username="rhys", roles=[roles.CLINICAL_REVIEWER])
    device = TOTPDevice.objects.create(user=reviewer, name="Phone")

    with time_machine.travel(timezone.now(), tick=False) as clock:
        without = sign_in(client, "rhys")
        assert without.status_code == 200 and signed_in_as(without) == ""
        wrong = sign_in(client, "rhys", code=code_for(device, steps_ahead=10))
        assert wrong.status_code == 200 and signed_in_as(wrong) == ""
        assert "Invalid token" in wrong.text
        # Each wrong code makes the next try wait longer, so codes cannot be guessed quickly.
        too_soon = sign_in(client, "rhys", code=code_for(device))
        assert signed_in_as(too_soon) == "" and "Verification temporarily disabled" in too_soon.text

        clock.shift(datetime.timedelta(seconds=5))
        right = sign_in(client, "rhys", code=code_for(device))
    assert right.status_code == 302 and signed_in_as(right) == "rhys"
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/pages/page/").status_code == 200


def test_a_code_cannot_be_used_twice(client, two_factor):
    reviewer = UserFactory(username="rhys", roles=[roles.CLINICAL_REVIEWER])
    device = TOTPDevice.objects.create(user=reviewer, name="Phone")
    code = code_for(device)
    assert signed_in_as(sign_in(client, "rhys", code=code)) == "rhys"
    assert signed_in_as(sign_in(Client(), "rhys", code=code)) == ""


def test_without_an_app_set_up_a_reviewer_is_told_what_to_do(client, two_factor):
    UserFactory(username="pat", roles=[roles.PUBLISHER])
    response = sign_in(client, "pat")
    assert signed_in_as(response) == ""
    assert "no authenticator app is set up for you yet" in response.text


def test_the_right_to_publish_given_directly_also_needs_the_second_factor(client, two_factor):
    # Not in the Publisher group, but given the right to publish by hand.
    user = UserFactory(username="pat")
    user.user_permissions.add(Permission.objects.get(codename="publish"))
    response = sign_in(client, "pat")
    assert signed_in_as(response) == "" and "no authenticator app is set up for you yet" in response.text


def test_codes_are_never_kept_in_the_sign_in_records(client, two_factor):
    UserFactory(username="rhys", roles=[roles.CLINICAL_REVIEWER])
    sign_in(client, "rhys", "a wrong guess", code="abcd2345")
    attempt = AccessAttempt.objects.get(username="rhys")
    assert "abcd2345" not in attempt.post_data and "a wrong guess" not in attempt.post_data


def test_a_forwarded_value_that_is_not_an_address_is_not_trusted(client, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    UserFactory(username="rhys", roles=[roles.CLINICAL_REVIEWER])
    sign_in(client, "rhys", "a wrong guess", address="10.0.0.5", HTTP_X_FORWARDED_FOR="unknown")
    assert AccessAttempt.objects.get(username="rhys").ip_address == "10.0.0.5"


def test_an_editor_signs_in_with_a_password_alone(client, two_factor):
    UserFactory(username="eleri", roles=[roles.EDITOR])
    response = sign_in(client, "eleri")
    assert response.status_code == 302 and signed_in_as(response) == "eleri"
    assert client.get("/admin/pages/page/").status_code == 200


def test_a_session_without_the_second_factor_does_not_open_the_admin(client, two_factor):
    # Signed in some other way (or before two-factor sign-in was turned on): not verified.
    client.force_login(UserFactory(username="rhys", roles=[roles.CLINICAL_REVIEWER]))
    response = client.get("/admin/pages/page/")
    assert response.status_code == 302 and response["Location"].startswith(LOGIN)
    assert "Your role needs two-factor sign-in." in client.get(response["Location"]).text


def test_the_second_factor_is_optional_in_development(client):
    UserFactory(username="rhys", roles=[roles.CLINICAL_REVIEWER])
    assert 'name="otp_token"' not in client.get(LOGIN).content.decode()  # nothing to fill in, so no field
    assert signed_in_as(sign_in(client, "rhys")) == "rhys"


def test_the_sign_in_page_asks_for_the_code_when_two_factor_sign_in_is_on(client, two_factor):
    assert 'name="otp_token"' in client.get(LOGIN).content.decode()


def test_add_authenticator_sets_up_an_app_that_signs_in(client, two_factor):
    UserFactory(username="rhys", roles=[roles.CLINICAL_REVIEWER])
    out = io.StringIO()
    call_command("add_authenticator", "rhys", stdout=out)
    key = re.search(r"key +([A-Z2-7 ]+)\n", out.getvalue())[1]
    assert "otpauth://totp/" in out.getvalue()
    device = TOTPDevice.objects.get(user__username="rhys", confirmed=True)
    assert key.replace(" ", "") in out.getvalue().replace(" ", "")
    assert signed_in_as(sign_in(client, "rhys", code=code_for(device))) == "rhys"

    with pytest.raises(CommandError, match="already has an authenticator"):
        call_command("add_authenticator", "rhys", stdout=io.StringIO())
    call_command("add_authenticator", "rhys", "--replace", stdout=io.StringIO())
    assert list(TOTPDevice.objects.filter(user__username="rhys")) != [device]
    assert TOTPDevice.objects.filter(user__username="rhys").count() == 1
    with pytest.raises(CommandError, match="No user 'nobody'"):
        call_command("add_authenticator", "nobody", stdout=io.StringIO())
    with pytest.raises(CommandError, match="--name must be 1 to 64 characters"):
        call_command("add_authenticator", "rhys", "--replace", "--name", "x" * 65, stdout=io.StringIO())
    assert TOTPDevice.objects.filter(user__username="rhys").count() == 1


def test_a_backup_code_signs_in_once(client, two_factor):
    # How the first administrator signs in before any app is set up: `manage.py addstatictoken`.
    UserFactory(username="admin", is_superuser=True)
    out = io.StringIO()
    call_command("addstatictoken", "admin", stdout=out)
    code = out.getvalue().strip()
    assert signed_in_as(sign_in(client, "admin")) == ""
    assert signed_in_as(sign_in(client, "admin", code=code)) == "admin"
    assert signed_in_as(sign_in(Client(), "admin", code=code)) == ""


def test_the_admin_address_is_configurable():
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.urls import reverse; print(reverse('admin:index'))",
        ],
        cwd=ROOT,
        env=os.environ | {"ADMIN_URL": "/staff-only-7f3a/", "DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.strip() == "/staff-only-7f3a/", result.stderr
