"""The page tree, its translations and the rich-text field."""

import pytest
from django.core.exceptions import ValidationError

from pages import moves
from pages.models import MoveRequired, Page, Section
from tests.factories import PageFactory, SectionFactory, edited, publish_fixture

pytestmark = pytest.mark.django_db


def test_path_follows_the_tree():
    parent = PageFactory(slug="neuroendocrine-cancer")
    child = PageFactory(slug="glucagonoma", parent=parent)
    assert child.path == "neuroendocrine-cancer/glucagonoma"


def test_moving_a_page_moves_its_descendants():
    top = PageFactory(slug="a")
    middle = PageFactory(slug="b", parent=top)
    leaf = PageFactory(slug="c", parent=middle)
    with edited():
        moves.move_page(page=middle, parent=top, slug="renamed", position=0)
    leaf.refresh_from_db()
    assert leaf.path == "a/renamed/c"


def test_saving_a_page_never_moves_it():
    top = PageFactory(slug="a")
    middle = PageFactory(slug="b", parent=top)
    middle.slug = "renamed"
    with edited(), pytest.raises(MoveRequired):
        middle.save()
    assert Page.objects.get(pk=middle.pk).path == "a/b"


def test_a_page_cannot_be_placed_inside_itself():
    top = PageFactory(slug="a")
    child = PageFactory(slug="b", parent=top)
    top.parent = child
    with pytest.raises(ValidationError) as error:
        top.full_clean()
    assert "parent" in error.value.message_dict


def test_two_pages_cannot_share_an_address():
    PageFactory(slug="same")
    with pytest.raises(ValidationError) as error:
        Page(slug="same", title_en="Other").full_clean()
    assert error.value.message_dict["slug"] == ["Another page already has this address."]


def test_slug_must_be_lowercase_words_and_hyphens():
    with pytest.raises(ValidationError) as error:
        Page(slug="Bad Slug", title_en="Bad").full_clean()
    assert "slug" in error.value.message_dict


def test_each_language_has_its_own_columns_without_fallback():
    page = PageFactory(title_en="Glucagonoma", title_cy="Glwcagonoma")
    section = SectionFactory(page=page, heading_en="Symptoms", heading_cy="")
    page.refresh_from_db()
    assert (page.title_en, page.title_cy, page.title_ar) == ("Glucagonoma", "Glwcagonoma", None)
    # An empty Welsh heading stays empty: nothing silently shows English instead.
    from django.utils import translation

    with translation.override("cy"):
        assert Section.objects.get(pk=section.pk).heading in ("", None)


def test_body_links_to_site_addresses_are_stored_as_references():
    target = PageFactory(slug="tests")
    section = SectionFactory.build(page=PageFactory(), body_en='<p>See <a href="/cy/tests/">the tests</a>.</p>')
    section.full_clean(exclude=["heading", "body"])
    assert section.body_en == f'<p>See <a href="page:{target.pk}">the tests</a>.</p>'


def test_body_with_a_link_to_no_page_is_refused():
    section = SectionFactory.build(page=PageFactory(), body_en='<p><a href="/en/nowhere/">x</a></p>')
    with pytest.raises(ValidationError) as error:
        section.full_clean(exclude=["heading", "body"])
    assert error.value.message_dict["body_en"] == ['The link to "/en/nowhere/" does not lead to a page of this site.']


def test_body_that_sanitising_would_change_is_refused_with_what_would_go():
    section = SectionFactory.build(page=PageFactory(), body_cy="<p>10<sup>9</sup> <blink>a</blink></p>")
    with pytest.raises(ValidationError) as error:
        section.full_clean(exclude=["heading", "body"])
    assert error.value.message_dict["body_cy"] == [
        "This would be removed, so it cannot be saved: the <blink> element (its text would be kept, its meaning lost)."
    ]


def test_glossary_term_without_definition_is_refused():
    section = SectionFactory.build(page=PageFactory(), body_en='<p><a href="term:biopsy">biopsy</a></p>')
    with pytest.raises(ValidationError) as error:
        section.full_clean(exclude=["heading", "body"])
    assert error.value.message_dict["body_en"] == ['The glossary term "biopsy" needs its definition in the link title.']


def test_every_save_sanitises_even_without_validation():
    section = SectionFactory(body_en='<p onclick="x()">Hi<script>alert(1)</script></p>')
    section.refresh_from_db()
    assert section.body_en == "<p>Hi</p>"


def test_a_live_page_cannot_be_deleted_by_accident():
    page = PageFactory()
    publish_fixture(page)
    from django.db.models import ProtectedError

    with pytest.raises(ProtectedError):
        page.delete()
