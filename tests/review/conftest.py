"""What the workflow's tests share: the people, a page, and a fixed day."""

import datetime

import pytest
import time_machine

from review import roles
from tests.factories import PageFactory, SectionFactory, UserFactory


@pytest.fixture
def fixed_day():
    with time_machine.travel(datetime.datetime(2026, 11, 25, 10, 0, tzinfo=datetime.UTC), tick=True):
        yield


@pytest.fixture
def people():
    return {
        "editor": UserFactory(username="eleri", first_name="Eleri", last_name="Jones", roles=[roles.EDITOR]),
        "editor2": UserFactory(username="owain", roles=[roles.EDITOR]),
        "reviewer": UserFactory(
            username="rhys", first_name="Dr Rhys", last_name="Evans", roles=[roles.CLINICAL_REVIEWER]
        ),
        "editing_reviewer": UserFactory(username="sian", roles=[roles.EDITOR, roles.CLINICAL_REVIEWER]),
        "publisher": UserFactory(username="pat", roles=[roles.PUBLISHER]),
        "nobody": UserFactory(username="nobody"),
        "superuser": UserFactory(username="root", is_superuser=True),
    }


@pytest.fixture
def page():
    page = PageFactory(slug="glucagonoma", title_en="Glucagonoma", title_cy="Glwcagonoma", summary_en="Rare.")
    SectionFactory(page=page, heading_en="Treatment", heading_cy="Triniaeth", body_en="<p>Surgery.</p>",
                   body_cy="<p>Llawdriniaeth.</p>")  # fmt: skip
    return page
