"""How the site names the people who write, review and publish."""

from django.contrib.auth.models import AbstractBaseUser
from django.utils.translation import gettext as _


def display_name(user: AbstractBaseUser | None) -> str:
    """A person's full name, else their username; "the system" for steps nobody took."""
    if user is None:
        return _("the system")
    return user.get_full_name() or user.get_username()
