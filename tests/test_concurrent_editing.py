"""Editors saving while others load the change form, on a real two-worker server
(PostgreSQL): every accepted change stands until someone changes that field again, never
overwritten by a save from a form that was read before it."""

import http.cookiejar
import threading
import time
import urllib.parse
import urllib.request
from html.parser import HTMLParser

import pytest
from django.conf import global_settings
from django.db import connection

from pages import history
from pages.models import PageRevision
from review import roles
from tests.factories import PageFactory, SectionFactory, UserFactory
from tests.servers import postgres_url, server

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL (CI's PostgreSQL pass)"),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
SECONDS = 12
PASSWORD = "a-long-test-password"


class FormFields(HTMLParser):
    """The fields a browser would submit from the admin's change form, as it shows them."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.fields: list[tuple[str, str]] = []
        self._textarea: str | None = None
        self._text: list[str] = []
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        name = attrs.get("name")
        if tag == "input" and name and attrs.get("type") not in ("submit", "button", "file"):
            if attrs.get("type") in ("checkbox", "radio") and "checked" not in attrs:
                return
            self.fields.append((name, attrs.get("value") or ""))
        elif tag == "textarea" and name:
            self._textarea, self._text = name, []
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select and "selected" in attrs:
            self.fields.append((self._select, attrs.get("value") or ""))

    def handle_endtag(self, tag):
        if tag == "textarea" and self._textarea:
            self.fields.append((self._textarea, "".join(self._text).removeprefix("\n")))
            self._textarea = None
        elif tag == "select":
            self._select = None

    def handle_data(self, data):
        if self._textarea:
            self._text.append(data)


class Editor:
    def __init__(self, base: str, username: str):
        self.base = base
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))
        login = self.form("/admin/login/")
        self.post("/admin/login/", login | {"username": username, "password": PASSWORD, "next": "/admin/"})

    def get(self, path: str) -> str:
        with self.opener.open(self.base + path, timeout=30) as response:
            return response.read().decode()

    def form(self, path: str) -> dict:
        parser = FormFields()
        parser.feed(self.get(path))
        return dict(parser.fields)

    def post(self, path: str, data: dict) -> int:
        request = urllib.request.Request(self.base + path, data=urllib.parse.urlencode(data).encode())
        request.add_header("Referer", self.base + path)
        try:
            with self.opener.open(request, timeout=30) as response:
                self.last = response.read().decode()
                return response.status if response.url.endswith(path) else 302
        except urllib.error.HTTPError as error:
            return error.code


def test_no_accepted_save_is_overwritten_by_a_form_read_before_it(settings):
    # Passwords the server can check: it hashes as production does, not as the suite's fast hasher.
    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS
    for name in ("eleri", "owain"):
        UserFactory(username=name, password=PASSWORD, roles=[roles.EDITOR])
    page = PageFactory(slug="glucagonoma", title_en="Glucagonoma", summary_en="Rare.")
    SectionFactory(page=page, heading_en="Treatment", body_en="<p>Surgery.</p>")
    url = f"/admin/pages/page/{page.pk}/change/"
    stop = time.monotonic() + SECONDS
    accepted: dict[str, list[str]] = {"summary_en": [], "title_en": []}
    errors = []

    def edit(base, username, field):
        try:
            editor = Editor(base, username)
            number = 0
            while time.monotonic() < stop:
                data = editor.form(url)
                number += 1
                value = f"{username} {number}"
                data |= {field: value, "change_comment": f"{field} {number}", "_save": "Save"}
                status = editor.post(url, data)
                if status == 302:
                    accepted[field].append(value)
                elif status != 200:
                    errors.append(f"{username}: a save answered {status}")
        except Exception as error:  # reported in the test's thread
            errors.append(f"{username}: {type(error).__name__}: {error}")
        finally:
            connection.close()

    with server({"DATABASE_URL": postgres_url()}, workers=2) as (base, _process):
        threads = [
            threading.Thread(target=edit, args=(base, "eleri", "summary_en")),
            threading.Thread(target=edit, args=(base, "owain", "title_en")),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert not errors, errors
    assert accepted["summary_en"] and accepted["title_en"], "no save went through"

    # Each field changes only by its own editor's saves: another's save never writes it back.
    previous = None
    for revision in PageRevision.objects.filter(page=page).select_related("revision__user").order_by("number"):
        state = history.page_state(revision).page
        current = (state["title_en"], state["summary_en"])
        if previous is not None:
            author = getattr(revision.revision.user, "username", None)
            if current[1] != previous[1]:
                assert author == "eleri", f"revision {revision.number} by {author} put back the summary {current[1]!r}"
            if current[0] != previous[0]:
                assert author == "owain", f"revision {revision.number} by {author} put back the title {current[0]!r}"
        previous = current
    page.refresh_from_db()
    assert page.summary_en == accepted["summary_en"][-1] and page.title_en == accepted["title_en"][-1]
