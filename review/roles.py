"""The editorial roles. Each is a group; a person may hold several."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

EDITOR = "Editor"
CLINICAL_REVIEWER = "Clinical reviewer"
PUBLISHER = "Publisher"

ALL = (EDITOR, CLINICAL_REVIEWER, PUBLISHER)


class RoleMissing(LookupError):
    """A role's group is not in the database: the migrations that create the roles have not run."""


def sample_account(username: str, first_name: str, last_name: str, role: str, email: str = ""):
    """The account, with ``role``, that sample content is written, signed off or published by:
    made once, with no password, so that no one can sign in with it."""
    user, created = get_user_model().objects.get_or_create(
        username=username, defaults={"first_name": first_name, "last_name": last_name, "email": email}
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    group = Group.objects.filter(name=role).first()
    if group is None:
        raise RoleMissing(f"The role {role!r} is missing: run `manage.py migrate`, which creates the roles.")
    user.groups.add(group)
    return user
