"""Save an admin form that previews first (``leadops.previewing``), as ops do."""

from __future__ import annotations


def admin_preview(client, url: str, data: dict):
    """Post ``data`` once: the page shows what it would do and saves nothing. Return (the page, its preview)."""
    page = client.post(url, data)
    assert page.status_code == 200, page.status_code
    form = page.context["adminform"].form
    assert form.preview is not None, form.errors
    return page, form.preview


def preview_then_save(client, url: str, data: dict):
    """Post ``data`` twice: the preview, then the save of the same values. Return the second response."""
    page, _ = admin_preview(client, url, data)
    return client.post(url, {**data, "previewed": page.context["adminform"].form.data["previewed"]})
