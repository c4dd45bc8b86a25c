from django.conf import settings
from django.db import migrations, models


def reasons_given_in_the_source_language(apps, schema_editor):
    """Until now a withdrawal had one reason, written in the source language."""
    LiveSnapshot = apps.get_model("pages", "LiveSnapshot")
    LiveSnapshot.objects.filter(withdrawn_at__isnull=False).update(withdrawal_reason_language=settings.LANGUAGE_CODE)


class Migration(migrations.Migration):
    dependencies = [
        ("pages", "0013_live_published_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="livesnapshot",
            name="withdrawal_reason_language",
            field=models.CharField(blank=True, max_length=10, verbose_name="language of the reason"),
        ),
        migrations.RunPython(reasons_given_in_the_source_language, migrations.RunPython.noop, elidable=True),
    ]
