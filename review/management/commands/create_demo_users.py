import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from review import roles

# Username, first name (a title belongs with it: the admin greets people by it), last name, roles.
DEMO_USERS = [
    ("editor", "Eleri", "Editor", [roles.EDITOR]),
    ("reviewer", "Dr Rhys", "Reviewer", [roles.CLINICAL_REVIEWER]),
    ("publisher", "Parisa", "Publisher", [roles.PUBLISHER]),
    ("lead", "Dr Lowri", "Lead", [roles.EDITOR, roles.CLINICAL_REVIEWER, roles.PUBLISHER]),
]


class Command(BaseCommand):
    help = "Create one demo user per editorial role, with fresh passwords (development only)."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("Demo users are for development only, and DEBUG is off.")
        User = get_user_model()
        credentials = []
        with transaction.atomic():
            for username, first, last, groups in DEMO_USERS:
                user, _created = User.objects.get_or_create(username=username)
                user.first_name, user.last_name = first, last
                user.email = f"{username}@example.org"
                user.is_staff = True
                password = secrets.token_urlsafe(12)
                user.set_password(password)
                user.save()
                user.groups.set(Group.objects.filter(name__in=groups))
                credentials.append((username, password, ", ".join(groups)))
        self.stdout.write("Demo users (passwords are new on every run):")
        for username, password, groups in credentials:
            self.stdout.write(f"  {username:<10} {password:<18} {groups}")
