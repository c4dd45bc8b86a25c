"""No data lost: dumpdata and loaddata round-trip everything exactly: pages,
sections in every language, history, the workflow log and live snapshots."""

import datetime
import io
import subprocess

import psycopg
import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection

from review import roles, services
from tests.factories import PageFactory, SectionFactory, UserFactory, edited, publish_fixture

pytestmark = pytest.mark.django_db

PROJECT_APPS = ("pages", "review", "reversion", "auth")


def everything() -> dict[str, list[dict]]:
    rows = {}
    for app_label in PROJECT_APPS:
        for model in apps.get_app_config(app_label).get_models():
            rows[model._meta.label] = list(model.objects.order_by("pk").values())
            for field in model._meta.many_to_many:
                # Relations are kept as pairs; their own row ids are not part of the data.
                through = field.remote_field.through
                pairs = through.objects.values_list(field.m2m_column_name(), field.m2m_reverse_name())
                rows[through._meta.label] = sorted(pairs)
    return rows


def make_content():
    """A little of everything: three languages, history, the workflow, a withdrawal."""
    editor = UserFactory(username="eleri", roles=[roles.EDITOR])
    reviewer = UserFactory(username="rhys", roles=[roles.CLINICAL_REVIEWER])
    publisher = UserFactory(username="pat", roles=[roles.PUBLISHER])
    page = PageFactory(slug="glucagonoma", title_en="Glucagonoma", title_cy="Glwcagonoma", title_ar="ورم")
    SectionFactory(page=page, heading_en="Treatment", heading_cy="Triniaeth", heading_ar="العلاج",
                   body_en='<p>10<sup>9</sup> cells; <a href="term:insulin" title="A hormone">insulin</a></p>',
                   body_cy="<p>Llawdriniaeth.</p>", body_ar="<p>الجراحة.</p>")  # fmt: skip
    with edited(user=editor):
        page.summary_cy = "Tiwmor prin."
        page.save()
    services.submit(page=page, languages=["en", "cy"], user=editor, comment="Ready")
    for request in page.review_requests.all():
        services.approve(request=request, user=reviewer, comment="Accurate")
        services.publish(request=request, user=publisher)
    recalled = PageFactory(slug="recalled", title_en="Recalled")
    publish_fixture(recalled, "en")
    services.withdraw(page=recalled, user=publisher, reason="Safety alert")


def at_milliseconds(rows: dict[str, list[dict]]) -> dict[str, list[dict]]:
    def value(v):
        return v.replace(microsecond=v.microsecond // 1000 * 1000) if isinstance(v, datetime.datetime) else v

    def row_at_milliseconds(row):
        return {k: value(v) for k, v in row.items()} if isinstance(row, dict) else row

    return {label: [row_at_milliseconds(row) for row in table] for label, table in rows.items()}


def test_dumpdata_and_loaddata_round_trip_everything(tmp_path):
    make_content()
    before = everything()
    assert len(before["pages.LiveSnapshot"]) == 3 and len(before["review.Transition"]) == 7
    assert len(before["reversion.Version"]) == 6

    dump = tmp_path / "backup.json"
    call_command("dumpdata", "contenttypes", *PROJECT_APPS, "--output", str(dump), stdout=io.StringIO())
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # run the deferred checks now, so that the tables can be emptied
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    call_command("flush", interactive=False, inhibit_post_migrate=True, verbosity=0)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    assert not any(everything().values())
    call_command("loaddata", str(dump), verbosity=0)

    # Django's JSON keeps times to the millisecond; everything else comes back exactly.
    assert everything() == at_milliseconds(before)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="pg_dump needs PostgreSQL (CI's PostgreSQL pass)")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_pg_dump_and_pg_restore_round_trip_every_row_exactly(tmp_path):
    make_content()
    settings = connection.settings_dict
    source, copy = settings["NAME"], f"{settings['NAME']}_restored"
    options = ["-h", settings["HOST"] or "127.0.0.1", "-p", str(settings["PORT"] or 5432), "-U", settings["USER"]]
    dump = tmp_path / "backup.dump"
    subprocess.run(["pg_dump", *options, "--format=custom", "--file", str(dump), source], check=True)
    subprocess.run(["dropdb", *options, "--if-exists", copy], check=True)
    subprocess.run(["createdb", *options, copy], check=True)
    try:
        subprocess.run(["pg_restore", *options, "--dbname", copy, "--exit-on-error", str(dump)], check=True)
        tables = connection.introspection.table_names()
        assert {"pages_page", "pages_section", "reversion_version", "review_transition"} <= set(tables)
        with psycopg.connect(dbname=copy, host=options[1], port=options[3], user=options[5]) as restored:
            for table in tables:
                query = f'SELECT row_data::text FROM "{table}" AS row_data ORDER BY 1'
                with connection.cursor() as cursor:
                    cursor.execute(query)
                    original = cursor.fetchall()
                copied = restored.execute(query).fetchall()
                assert copied == original, (
                    table,
                    [pair for pair in zip(copied, original, strict=False) if pair[0] != pair[1]][:1],
                )
    finally:
        subprocess.run(["dropdb", *options, "--if-exists", copy], check=True)
