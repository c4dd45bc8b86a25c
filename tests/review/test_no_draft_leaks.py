"""No address of the site shows unpublished wording to anyone who may not read that page's drafts.

A unique word goes into the newest revision of a live page (title, summary, a
section heading and body, in English and Welsh), which is submitted and approved
in English but not published, and into a page that was never published. Then
every URL the site routes, found by walking the URL configuration and filling
each parameter with the ids, revision numbers, languages and paths that exist, is
requested by people without the right to read drafts: the word never comes back,
in a body or a header. The same walk, done by people who may read drafts, must
find the word, which proves the walk reaches the views that show drafts.
"""

import datetime
import itertools
import re
import secrets
from dataclasses import dataclass
from urllib.parse import urlencode

import pytest
from django.apps import apps
from django.contrib.auth.models import AbstractBaseUser, Permission
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.urls import URLResolver, get_resolver, resolve
from django.urls.resolvers import RegexPattern
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from pages import languages, sitemaps
from pages.models import Page, PageRevision, Section
from review import roles, scheduling, services
from review.models import ReviewRequest, ScheduledStep, State
from tests.factories import PageFactory, SectionFactory, UserFactory, edited

pytestmark = pytest.mark.django_db

# What a GET may answer; anything else, and an exception above all, fails the test.
# 301 is the admin's catch-all adding a slash.
EXPECTED_STATUSES = {200, 301, 302, 400, 403, 404, 405, 410}
# The walk below finds several hundred URLs; far fewer means it has stopped reaching the views.
MINIMUM_URLS = 250

ROUTE_PARAMETER = re.compile(r"<(?:[^>:]+:)?(?P<name>[^>]+)>")
REGEX_GROUP = re.compile(r"\(\?P<(?P<name>\w+)>(?P<body>[^)]*)\)")


@dataclass
class Draft:
    """The site as the test leaves it, and the word only its unpublished wording holds."""

    marker: str  # in lower case, as the pages are searched for it
    # Searched for instead of the marker, so that a page echoing the search is not a leak.
    search: str
    live: Page
    never_published: Page
    editor: AbstractBaseUser


@pytest.fixture
def draft(settings) -> Draft:
    # Nobody here logs in with a password; hashing them properly would be most of the set-up time.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    token = secrets.token_hex(5)
    marker = f"xylocarpine{token}"
    editor = UserFactory(username="eleri", first_name="Eleri", last_name="Editor", roles=[roles.EDITOR])
    reviewer = UserFactory(username="rhys", first_name="Rhys", last_name="Reviewer", roles=[roles.CLINICAL_REVIEWER])
    publisher = UserFactory(username="pat", first_name="Pat", last_name="Publisher", roles=[roles.PUBLISHER])

    # Revision 1 of a page, live in English and Welsh through the whole workflow.
    with edited("First version", user=editor):
        live = PageFactory(
            slug="hyperkalaemia",
            title_en="Hyperkalaemia",
            title_cy="Hypercalemia",
            summary_en="Too much potassium in the blood.",
            summary_cy="Gormod o botasiwm yn y gwaed.",
        )
        symptoms = SectionFactory(
            page=live,
            position=0,
            heading_en="Symptoms",
            heading_cy="Symptomau",
            body_en="<p>Muscle weakness.</p>",
            body_cy="<p>Gwendid yn y cyhyrau.</p>",
        )
    for review in services.submit(page=live, languages=["en", "cy"], user=editor, comment="New page."):
        services.approve(request=review, user=reviewer)
        services.publish(request=review, user=publisher)

    # A live page a publisher moved, so that its old address redirects.
    with edited("Another page", user=editor):
        moved = PageFactory(slug="potassium", title_en="Potassium")
    for review in services.submit(page=moved, languages=["en"], user=editor, comment="New page."):
        services.approve(request=review, user=reviewer)
        services.publish(request=review, user=publisher)
    services.move(page=moved, parent=None, slug="potassium-levels", position=1, user=publisher, comment="Clearer.")

    # Revision 2, by the editor: the marker everywhere, in both languages.
    with edited("Updated advice", user=editor):
        for code in ("en", "cy"):
            setattr(live, f"title_{code}", f"{marker} title {code}")
            setattr(live, f"summary_{code}", f"{marker} summary {code}")
            setattr(symptoms, f"heading_{code}", f"{marker} heading {code}")
            setattr(symptoms, f"body_{code}", f"<p>{marker} body {code}.</p>")
        live.save()
        symptoms.save()
    english, welsh = services.submit(page=live, languages=["en", "cy"], user=editor, comment="Updated advice.")
    services.approve(request=english, user=reviewer)  # approved, never published: the riskiest state
    # ...and scheduled to go live tomorrow, which lists it on the page's sign-off panel.
    scheduling.schedule_publish(request=english, user=publisher, at=timezone.now() + datetime.timedelta(days=1))
    assert ReviewRequest.objects.get(pk=welsh.pk).state == State.IN_REVIEW

    # A page below it that has never been live, sent back for changes.
    with edited("New page", user=editor):
        never_published = Page(parent=live, slug="dialysis", title_en=f"{marker} never published")
        never_published.save()
        Section(page=never_published, heading_en=f"{marker} section", body_en=f"<p>{marker}.</p>").save()
    (unpublished,) = services.submit(page=never_published, languages=["en"], user=editor, comment="New page.")
    services.request_changes(request=unpublished, user=reviewer, comment="Add the dosing table.")

    # Sign-in records and second-factor devices, so that their admin pages have something to show.
    Client().post("/admin/login/", {"username": "rhys", "password": "a-long-test-password"})
    Client().post("/admin/login/", {"username": "rhys", "password": "not the password"})
    TOTPDevice.objects.create(user=reviewer, name="Phone")
    StaticDevice.objects.create(user=reviewer, name="Backup codes")

    return Draft(marker=marker, search=token, live=live, never_published=never_published, editor=editor)


# Enumerating the site's URLs.


@dataclass(frozen=True)
class Route:
    template: str  # "admin/pages/page/<object_id>/preview/<number>/<language>/"
    route: str  # the same, as ResolverMatch.route reports it
    name: str  # "admin:pages_page_preview"
    model: type | None  # the model of the admin it belongs to
    choices: dict  # the values a regular expression's group allows, where it lists them


def routes() -> list[Route]:
    """Every route of the URL configuration, the admin's included."""
    found = []

    def walk(patterns, template, route, namespaces, model):
        for pattern in patterns:
            text = str(pattern.pattern)
            piece, choices = text, {}
            if isinstance(pattern.pattern, RegexPattern):
                for group in REGEX_GROUP.finditer(text):
                    if re.fullmatch(r"[\w-]+(\|[\w-]+)*", group["body"]):
                        choices[group["name"]] = group["body"].split("|")
                piece = REGEX_GROUP.sub(r"<\g<name>>", text).removeprefix("^").removesuffix("$")
            joined = route + text.removeprefix("^") if route else text
            if isinstance(pattern, URLResolver):
                inner = [*namespaces, pattern.namespace] if pattern.namespace else namespaces
                walk(pattern.url_patterns, template + piece, joined, inner, _admin_model(piece) or model)
            else:
                name = ":".join([*namespaces, pattern.name]) if pattern.name else template + piece
                found.append(Route(template + piece, joined, name, model, choices))

    walk(get_resolver().url_patterns, "", "", [], None)
    return found


def _admin_model(piece: str):
    match = re.fullmatch(r"(\w+)/(\w+)/", piece)
    if match is None:
        return None
    try:
        return apps.get_model(match[1], match[2])
    except LookupError:
        return None


def parameter_values(route: Route) -> list[dict]:
    """Every combination of plausible values for the route's parameters."""
    names = ROUTE_PARAMETER.findall(route.template)
    page_ids = sorted(Page.objects.values_list("pk", flat=True))
    latest = max(PageRevision.objects.values_list("number", flat=True))

    def ids(model):
        return [str(pk) for pk in model._default_manager.order_by("pk").values_list("pk", flat=True)]

    if "content_type_id" in names:  # the admin's "view on site" shortcut: each type with its own objects
        models = [model for model in apps.get_models() if model._meta.app_label in ("pages", "review")]
        models += [route.model for route in routes() if route.model and route.model not in models]
        return [
            {"content_type_id": str(ContentType.objects.get_for_model(model).pk), "object_id": pk}
            for model in models
            for pk in ids(model)
        ]
    values = {
        "object_id": lambda: ids(route.model or Page),
        "id": lambda: ids(route.model),
        "pk": lambda: ids(route.model),
        "page_id": lambda: [str(pk) for pk in page_ids],
        "request_id": lambda: ids(ReviewRequest),
        "step_id": lambda: ids(ScheduledStep),
        "number": lambda: [str(number) for number in range(1, latest + 2)],
        "language": lambda: list(languages.codes()),
        # The sitemap's sections and their pages, and a section it does not have.
        "section": lambda: [*sitemaps.SECTIONS, "drafts"],
        "page": lambda: ["1", "2"],
        "path": lambda: list(Page.objects.order_by("path").values_list("path", flat=True)),
        # The admin's catch-all: addresses missing their slash, and one that is nothing at all.
        "url": lambda: [f"pages/page/{pk}/change" for pk in page_ids] + ["no/such/thing/"],
    }
    lists = []
    for name in names:
        if name in route.choices:
            lists.append(route.choices[name])
        elif name in values:
            lists.append(values[name]())
        else:
            raise AssertionError(f"No test values for <{name}> in {route.template}: add some to parameter_values().")
    return [dict(zip(names, combination, strict=True)) for combination in itertools.product(*lists)]


def query_strings(route: Route, draft: Draft) -> list[str]:
    """Queries that make a view show more than its bare address does: searches, filters, comparisons."""
    search = {"q": draft.search}
    latest = max(PageRevision.objects.values_list("number", flat=True))
    queries = {
        "admin:pages_page_changelist": [
            search,
            *({"workflow": value} for value in ("mine", "in_review", "approved", "changes_requested", "withdrawn")),
            {"live": "no"},
            {"live": "yes"},
        ],
        "admin:pages_page_compare": [
            {"old": old, "new": new} for old, new in itertools.combinations(range(1, latest + 1), 2)
        ],
        "admin:pages_page_history": [{"p": 1}],
        "admin:review_reviewrequest_changelist": [search, {"state__exact": "approved"}, {"language": "en"}],
        "admin:review_reviewrequest_export": [search, {"state__exact": "approved"}, {"language": "cy"}],
        "admin:review_transition_changelist": [{"action__exact": "submit"}],
        "admin:pages_livesnapshot_changelist": [search],
        "admin:auth_user_changelist": [search],
        "pages:search": [search, {"q": "hyperkalaemia"}, {"q": "dialysis"}],
        "admin:autocomplete": [
            {"app_label": "pages", "model_name": "page", "field_name": field, "term": term}
            for field in ("parent", "related")
            for term in (draft.search, "")
        ],
    }
    return [urlencode(query) for query in queries.get(route.name, [])]


@dataclass(frozen=True)
class Address:
    url: str
    name: str


def every_url(draft: Draft) -> list[Address]:
    addresses = []
    for route in routes():
        concrete = []
        for values in parameter_values(route):
            path = "/" + ROUTE_PARAMETER.sub(lambda match, values=values: values[match["name"]], route.template)
            assert resolve(path).route == route.route, f"{path} does not reach {route.template}"
            concrete.append(path)
        assert concrete, f"The walk found no address for {route.template}"
        for path in concrete:
            addresses.append(Address(path, route.name))
            addresses += [Address(f"{path}?{query}", route.name) for query in query_strings(route, draft)]
    return addresses


# Requesting them.


def shown(response, marker: str) -> list[str]:
    """Where ``marker`` appears in ``response``: its headers (Location, Content-Disposition...) and its body."""
    places = [f"header {header}: {value}" for header, value in response.items() if marker in value.lower()]
    body = b"".join(response.streaming_content) if response.streaming else response.content
    text = body.decode("utf-8", "replace").lower()
    if (at := text.find(marker)) >= 0:
        places.append("body: …" + " ".join(text[max(0, at - 100) : at + 60].split()) + "…")
    return places


def crawl(client: Client, addresses: list[Address], marker: str):
    """Request every address; return where the marker was shown, and every answer no GET should give."""
    showing, failures = {}, []
    for address in addresses:
        try:
            response = client.get(address.url)
        except Exception as error:  # the test client re-raises what would have been a 500
            failures.append(f"{address.url}: {type(error).__name__}: {error}")
            continue
        if response.status_code not in EXPECTED_STATUSES:
            failures.append(f"{address.url}: {response.status_code}")
        if places := shown(response, marker):
            showing[address] = (response.status_code, places)
    return showing, failures


def client_for(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def auditor():
    """Staff who may read the sign-off ledger and the workflow log, and what is live, but not pages."""
    user = UserFactory(username="audrey")
    codenames = ["view_ledger", "view_reviewrequest", "view_transition", "view_livesnapshot"]
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    return user


# None of them may read drafts: anonymous, staff without any permission, an active account
# that is not staff (it keeps its roles: without staff status they give nothing), and an auditor.
VISITORS = {
    "anonymous": lambda: None,
    "staff without permissions": lambda: UserFactory(username="sam"),
    "active, not staff": lambda: UserFactory(username="nia", is_staff=False, roles=list(roles.ALL)),
    "auditor, no page rights": auditor,
}
KNOWN_LEAKS: dict[str, str] = {}


@pytest.mark.parametrize(
    "visitor",
    [
        pytest.param(name, marks=pytest.mark.xfail(strict=True, raises=AssertionError, reason=KNOWN_LEAKS[name]))
        if name in KNOWN_LEAKS
        else name
        for name in VISITORS
    ],
)
def test_no_url_shows_an_unpublished_draft_to_someone_without_rights_to_the_page(draft, visitor):
    addresses = every_url(draft)
    assert len(addresses) > MINIMUM_URLS
    user = VISITORS[visitor]()
    client = client_for(user)
    showing, failures = crawl(client, addresses, draft.marker)
    print(f"{visitor}: {len(addresses)} URLs requested")
    if user is not None:  # no address logged them out part way, making them anonymous
        assert client.session.get("_auth_user_id") == str(user.pk)
    leaks = [f"{a.url} ({a.name}) → {status}: {'; '.join(places)}" for a, (status, places) in showing.items()]
    heading = f"Draft wording shown to {visitor} at {len(leaks)} of {len(addresses)} URLs:"
    assert not leaks, "\n".join([heading, *leaks])
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("role", ["superuser", *roles.ALL])
def test_the_walk_reaches_every_view_that_shows_drafts_to_someone_who_may_read_them(draft, role):
    if role == "superuser":
        user = UserFactory(username="root", is_superuser=True)
    else:
        user = UserFactory(username="someone", roles=[role])
    addresses = every_url(draft)
    showing, failures = crawl(client_for(user), addresses, draft.marker)
    assert not failures, "\n".join(failures)
    names = {address.name for address in showing}
    print(f"{role}: {len(addresses)} URLs requested; the draft is shown by {sorted(names)}")
    # Where drafts are read. Were the walk to stop reaching one, the test above would prove nothing there.
    assert {
        "admin:pages_page_change",
        "admin:pages_page_changelist",
        "admin:pages_page_history",
        "admin:pages_page_compare",
        "admin:pages_page_review",
        "admin:pages_page_preview",
        "admin:autocomplete",
    } <= names, names


def test_an_editor_sees_the_draft_in_the_page_form_and_the_preview(draft):
    client = client_for(draft.editor)
    latest = PageRevision.objects.filter(page=draft.live).order_by("-number").first().number
    for url in (
        f"/admin/pages/page/{draft.live.pk}/change/",
        f"/admin/pages/page/{draft.live.pk}/preview/{latest}/en/",
        f"/admin/pages/page/{draft.live.pk}/preview/{latest}/cy/",
        f"/admin/pages/page/{draft.never_published.pk}/change/",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert shown(response, draft.marker), url


def test_the_public_page_shows_the_live_version_not_the_draft(draft, client):
    for code, title in (("en", "Hyperkalaemia"), ("cy", "Hypercalemia")):
        response = client.get(f"/{code}/hyperkalaemia/")
        assert response.status_code == 200
        assert title in response.content.decode()
        assert not shown(response, draft.marker)
    assert client.get("/en/hyperkalaemia/dialysis/").status_code == 404
