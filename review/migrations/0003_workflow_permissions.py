from django.contrib.auth.management import create_permissions
from django.db import migrations

EDITOR = "Editor"
CLINICAL_REVIEWER = "Clinical reviewer"
PUBLISHER = "Publisher"

PERMISSIONS = {
    EDITOR: ["submit_for_review", "view_reviewrequest", "view_transition"],
    CLINICAL_REVIEWER: ["sign_off", "view_reviewrequest", "view_transition", "view_ledger"],
    PUBLISHER: ["publish", "withdraw", "view_reviewrequest", "view_transition", "view_ledger"],
}


def grant(apps, schema_editor):
    # Permissions are normally created after all migrations; the roles need them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in PERMISSIONS.items():
        group, _created = Group.objects.get_or_create(name=name)
        group.permissions.add(*Permission.objects.filter(content_type__app_label="review", codename__in=codenames))


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in PERMISSIONS.items():
        for group in Group.objects.filter(name=name):
            group.permissions.remove(
                *Permission.objects.filter(content_type__app_label="review", codename__in=codenames)
            )


class Migration(migrations.Migration):
    dependencies = [("review", "0002_workflow")]

    operations = [migrations.RunPython(grant, revoke)]
