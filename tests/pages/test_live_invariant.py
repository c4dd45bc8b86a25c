"""The invariant that matters most, as a property: what the public sees is exactly
the wording that was published in that language, and nothing from the working copy.

Every edit writes a fresh token (``tok17``); after every step the tokens on each
public page must be exactly those the model expects from the last publishing.
"""

import datetime
import itertools
import re

import pytest
from django.db import transaction
from django.test import Client
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from pages import cache
from pages.models import Page, Section
from pages.publishing import NotTranslated
from tests.factories import edited, publish_fixture

LANGUAGES = ("en", "cy")
TOKEN = re.compile(r"tok\d+")


class PublishingMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.savepoint = transaction.savepoint_create()
        self.tokens = (f"tok{n}" for n in itertools.count())
        self.client = Client()
        with edited():
            self.page = Page.objects.create(slug="glucagonoma", title_en=next(self.tokens), title_cy=next(self.tokens))
        self.title = {"en": self.page.title_en, "cy": self.page.title_cy}
        self.sections: list[dict] = []  # the working copy, as the model sees it
        self.live: dict[str, dict] = {}  # language -> the wording published in it
        # Start from a page with a section not yet in Welsh, so that short runs
        # already mix fallback, edits after publishing and partial translations.
        self.add_section(with_welsh=False)

    def teardown(self):
        transaction.savepoint_rollback(self.savepoint)
        cache.clear()  # a rollback changes what is live without publishing

    @rule(language=st.sampled_from(LANGUAGES), clear=st.booleans())
    def edit_title(self, language, clear):
        text = "" if clear and language != "en" else next(self.tokens)
        self.title[language] = text
        setattr(self.page, f"title_{language}", text)
        with edited():
            self.page.save()

    @rule(with_welsh=st.booleans())
    def add_section(self, with_welsh):
        section = {
            "heading": {"en": next(self.tokens), "cy": next(self.tokens) if with_welsh else ""},
            "body": {"en": next(self.tokens), "cy": next(self.tokens) if with_welsh else ""},
        }
        with edited():
            created = Section.objects.create(
                page=self.page,
                position=len(self.sections),
                heading_en=section["heading"]["en"],
                heading_cy=section["heading"]["cy"],
                body_en=f"<p>{section['body']['en']}</p>",
                body_cy=f"<p>{section['body']['cy']}</p>" if with_welsh else "",
            )
        self.sections.append(section | {"pk": created.pk})

    @precondition(lambda self: self.sections)
    @rule(data=st.data(), field=st.sampled_from(["heading", "body"]), language=st.sampled_from(LANGUAGES))
    def edit_section(self, data, field, language):
        section = data.draw(st.sampled_from(self.sections))
        clear = language == "cy" and data.draw(st.booleans())
        text = "" if clear else next(self.tokens)
        section[field][language] = text
        stored = f"<p>{text}</p>" if field == "body" and text else text
        with edited():
            changed = Section.objects.get(pk=section["pk"])
            setattr(changed, f"{field}_{language}", stored)
            changed.save()

    @precondition(lambda self: self.sections)
    @rule(data=st.data())
    def delete_section(self, data):
        section = data.draw(st.sampled_from(self.sections))
        with edited():
            Section.objects.get(pk=section["pk"]).delete()
        self.sections.remove(section)

    @rule(languages=st.sets(st.sampled_from(LANGUAGES), min_size=1))
    def publish(self, languages):
        expected = self.expected_publication(languages)
        try:
            publish_fixture(
                self.page,
                *sorted(languages),
                last_reviewed=datetime.date(2025, 3, 11),
                next_review_due=datetime.date(2028, 3, 11),
                signed_off_by="Dr Reviewer",
            )
        except NotTranslated:
            assert expected is None, "publishing was refused though every part had signed-off wording"
            return
        assert expected is not None, "publishing went ahead though a part had no signed-off wording"
        self.live.update(expected)

    def expected_publication(self, languages) -> dict | None:
        """What the public should see after publishing ``languages``, or None if it must be refused."""
        english = self.wording("en") if "en" in languages else self.live.get("en")
        result = {}
        for language in languages:
            if language == "en":
                result["en"] = self.wording("en")
                continue
            if not self.title[language]:
                return None
            approved = {s["pk"]: s for s in (english or {}).get("sections", [])}
            sections = []
            for section in self.sections:
                fallback = approved.get(section["pk"])
                heading = section["heading"][language] or (fallback and fallback["heading"])
                if not heading:
                    return None
                body = section["body"][language] or (fallback["body"] if fallback else "")
                sections.append({"pk": section["pk"], "heading": heading, "body": body})
            result[language] = {"title": self.title[language], "sections": sections}
        return result

    def wording(self, language) -> dict:
        return {
            "title": self.title[language],
            "sections": [
                {"pk": s["pk"], "heading": s["heading"][language], "body": s["body"][language]} for s in self.sections
            ],
        }

    @invariant()
    def public_pages_show_exactly_the_published_wording(self):
        for language in LANGUAGES:
            shown = self.live.get(language) or self.live.get("en")  # an unpublished language falls back
            response = self.client.get(f"/{language}/glucagonoma/")
            if shown is None:
                assert response.status_code == 404
                continue
            expected = {shown["title"]} | {t for s in shown["sections"] for t in (s["heading"], s["body"]) if t}
            assert set(TOKEN.findall(response.content.decode())) == expected, language


@pytest.mark.django_db
def test_public_pages_only_ever_show_published_wording():
    run_state_machine_as_test(
        PublishingMachine,
        settings=settings(
            max_examples=80, stateful_step_count=20, deadline=None, suppress_health_check=[HealthCheck.too_slow]
        ),
    )
