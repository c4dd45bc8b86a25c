import datetime

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from pages import history, publishing
from pages import languages as site_languages
from pages.models import Page, PageRevision, Section


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.org")
    is_staff = True
    password = factory.django.Password("a-long-test-password")

    @factory.post_generation
    def roles(user, create, extracted, **kwargs):
        if create and extracted:
            user.groups.set(Group.objects.filter(name__in=extracted))


class InRevision(factory.django.DjangoModelFactory):
    """Content is only ever saved inside a revision; factories too."""

    class Meta:
        abstract = True

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        with history.revision(user=None, comment=f"{model_class.__name__} made for a test"):
            return super()._create(model_class, *args, **kwargs)


class PageFactory(InRevision):
    class Meta:
        model = Page

    slug = factory.Sequence(lambda n: f"topic-{n}")
    title_en = factory.Sequence(lambda n: f"Topic {n}")
    summary_en = "A short summary."


class SectionFactory(InRevision):
    class Meta:
        model = Section

    page = factory.SubFactory(PageFactory)
    position = factory.Sequence(int)
    heading_en = factory.Sequence(lambda n: f"Heading {n}")
    body_en = factory.Sequence(lambda n: f"<p>Body text {n}.</p>")


def edited(comment="Edited in a test", user=None):
    """A revision block for a test's own edits."""
    return history.revision(user=user, comment=comment)


def publish_fixture(page, *languages, **overrides) -> list:
    """A test fixture: make the latest revision of ``page`` live in ``languages`` (English by
    default) through the publishing code, with a sign-off that never happened. The site itself
    puts wording live only through the workflow (review.services); tests of anything else use this."""
    options = {
        "last_reviewed": datetime.date(2025, 3, 11),
        "next_review_due": datetime.date(2028, 3, 11),
        "signed_off_by": "Dr Test Reviewer",
    } | overrides
    languages = list(dict.fromkeys(languages or ("en",)))
    # The source language first, so that the others fall back on this very version.
    languages.sort(key=lambda code: code != site_languages.source())
    with transaction.atomic():
        revision = PageRevision.objects.filter(page=page).order_by("-number").first()
        return [
            publishing.publish(
                page=page,
                language=language,
                wording=publishing.freeze_for_sign_off(revision, language),
                revision=revision,
                **options,
            )
            for language in languages
        ]
