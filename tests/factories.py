import datetime

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from pages import history
from pages.models import Page, Section
from pages.publishing import publish_page


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


def publish(page, *languages, **overrides):
    """Publish ``page`` the way the sign-off will: one call to the service."""
    options = {
        "last_reviewed": datetime.date(2025, 3, 11),
        "next_review_due": datetime.date(2028, 3, 11),
        "signed_off_by": "Dr Test Reviewer",
    } | overrides
    return publish_page(page=page, languages=languages or ("en",), **options)
