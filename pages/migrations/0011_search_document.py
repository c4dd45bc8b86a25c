import django.contrib.postgres.search
from django.db import migrations

INDEX = "pages_livesnapshot_search_document_gin"


def index_and_fill(apps, schema_editor):
    """On PostgreSQL: the GIN index the search uses, and every live version's document."""
    if schema_editor.connection.vendor != "postgresql":
        return
    from django.contrib.postgres.search import SearchVector

    from pages.languages import search_configuration

    schema_editor.execute(f"CREATE INDEX {INDEX} ON pages_livesnapshot USING gin (search_document)")
    LiveSnapshot = apps.get_model("pages", "LiveSnapshot")
    for language in LiveSnapshot.objects.values_list("language", flat=True).distinct():
        config = search_configuration(language)
        LiveSnapshot.objects.filter(language=language, withdrawn_at__isnull=True).update(
            search_document=SearchVector("title", weight="A", config=config)
            + SearchVector("summary", weight="B", config=config)
            + SearchVector("text", weight="C", config=config)
        )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("pages", "0010_live_site")]

    operations = [
        migrations.AddField(
            model_name="livesnapshot",
            name="search_document",
            field=django.contrib.postgres.search.SearchVectorField(editable=False, null=True),
        ),
        migrations.RunPython(index_and_fill, drop_index),
    ]
