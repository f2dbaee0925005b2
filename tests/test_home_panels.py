"""The ops home renders every registered panel that has something to show, in order, and leaves out the rest."""

from __future__ import annotations

import pytest

from leadops import home

pytestmark = pytest.mark.django_db


@pytest.fixture
def panels(monkeypatch, tmp_path, settings):
    monkeypatch.setattr(home, "_PANELS", {})
    (tmp_path / "panel.html").write_text("<section class='panel'>{{ panel.name }}: {{ words }}</section>")
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}]
    return home


def test_the_admin_index_shows_registered_panels_in_order_and_hides_empty_ones(panels, admin_client):
    panels.home_panel_register(name="late", template="panel.html", context=lambda r: {"words": "two late"}, order=2)
    panels.home_panel_register(name="first", template="panel.html", context=lambda r: {"words": "one"}, order=1)
    panels.home_panel_register(name="empty", template="panel.html", context=lambda r: None)

    page = admin_client.get("/admin/").content.decode()

    assert page.index("first: one") < page.index("late: two late")
    assert "empty:" not in page
    assert "Back office" in page  # the app list is still there, below the panels
