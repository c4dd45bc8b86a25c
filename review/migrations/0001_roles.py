from django.contrib.auth.management import create_permissions
from django.db import migrations

EDITOR = "Editor"
CLINICAL_REVIEWER = "Clinical reviewer"
PUBLISHER = "Publisher"

PERMISSIONS = {
    EDITOR: [
        "add_page",
        "change_page",
        "view_page",
        "add_section",
        "change_section",
        "delete_section",
        "view_section",
        "view_livesnapshot",
    ],
    CLINICAL_REVIEWER: ["view_page", "view_section", "view_livesnapshot"],
    PUBLISHER: ["view_page", "view_section", "view_livesnapshot"],
}


def create_roles(apps, schema_editor):
    # Permissions are normally created after all migrations; roles need them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in PERMISSIONS.items():
        group, _created = Group.objects.get_or_create(name=name)
        group.permissions.add(*Permission.objects.filter(content_type__app_label="pages", codename__in=codenames))


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=PERMISSIONS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("pages", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
