from django.db import migrations, models
from django.db.models import F


def as_before(apps, schema_editor):
    """Revisions written before this field count as they did: a change of structure of any
    kind, for every language (the safe side: at worst a language shows a newer draft)."""
    PageRevision = apps.get_model("pages", "PageRevision")
    PageRevision.objects.filter(structure_changed=True).update(every_language_changed=F("structure_changed"))


class Migration(migrations.Migration):
    dependencies = [
        ("pages", "0014_withdrawal_reason_language"),
    ]

    operations = [
        migrations.AddField(
            model_name="pagerevision",
            name="every_language_changed",
            field=models.BooleanField(
                default=False,
                help_text="Sections added, removed or reordered, related pages or the sample-content mark changed.",
                verbose_name="changed for every language",
            ),
        ),
        migrations.RunPython(as_before, migrations.RunPython.noop, elidable=True),
    ]
