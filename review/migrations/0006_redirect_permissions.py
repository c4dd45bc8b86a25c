from django.contrib.auth.management import create_permissions
from django.db import migrations

ROLES = ["Editor", "Clinical reviewer", "Publisher"]


def grant(apps, schema_editor):
    # Permissions are normally created after all migrations; the roles need this one now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    view = Permission.objects.filter(content_type__app_label="pages", codename="view_redirect")
    for name in ROLES:
        group, _created = Group.objects.get_or_create(name=name)
        group.permissions.add(*view)


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    view = Permission.objects.filter(content_type__app_label="pages", codename="view_redirect")
    for group in Group.objects.filter(name__in=ROLES):
        group.permissions.remove(*view)


class Migration(migrations.Migration):
    dependencies = [("review", "0005_move_step"), ("pages", "0008_redirects_and_text_limits")]

    operations = [migrations.RunPython(grant, revoke)]
