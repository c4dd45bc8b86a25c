"""Roles come from a data migration; demo users exist only in development."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command

from review import roles

pytestmark = pytest.mark.django_db


def test_each_role_is_a_group_with_its_permissions():
    editor = set(Group.objects.get(name=roles.EDITOR).permissions.values_list("codename", flat=True))
    assert {"add_page", "change_page", "add_section", "change_section", "delete_section"} <= editor
    assert "delete_page" not in editor
    for name in (roles.CLINICAL_REVIEWER, roles.PUBLISHER):
        codenames = set(Group.objects.get(name=name).permissions.values_list("codename", flat=True))
        assert "view_page" in codenames and "change_page" not in codenames


def test_demo_users_get_their_roles_and_printed_passwords(settings, client):
    settings.DEBUG = True
    out = io.StringIO()
    call_command("create_demo_users", stdout=out)
    line = next(line for line in out.getvalue().splitlines() if line.strip().startswith("reviewer"))
    _name, password, *_groups = line.split()
    reviewer = get_user_model().objects.get(username="reviewer")
    assert list(reviewer.groups.values_list("name", flat=True)) == [roles.CLINICAL_REVIEWER]
    response = client.post("/admin/login/", {"username": "reviewer", "password": password})
    assert response.status_code == 302 and response.wsgi_request.user.username == "reviewer"
    # The title belongs to the name: greeted as "Dr Rhys", signed off as "Dr Rhys Reviewer".
    assert (reviewer.get_short_name(), reviewer.get_full_name()) == ("Dr Rhys", "Dr Rhys Reviewer")
    assert "<strong>Dr Rhys</strong>" in client.get("/admin/").content.decode()


def test_demo_users_are_refused_when_debug_is_off(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="development only"):
        call_command("create_demo_users")
    assert not get_user_model().objects.exists()
