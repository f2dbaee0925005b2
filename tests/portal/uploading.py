"""Upload a suppression file through the portal as a customer does: choose it, see the preview, confirm."""

from __future__ import annotations

from django.urls import reverse


def portal_upload(client, data: dict, *, follow: bool = False):
    """Post ``data`` (the file) to the uploads page; when it answers with a preview, confirm it. Return the last
    response: the confirmation's (a redirect to the upload), or the page that refused the file."""
    preview = client.post(reverse("portal:suppressions"), data)
    token = (preview.context or {}).get("token") if preview.status_code == 200 else None
    if not token:
        return preview
    return client.post(reverse("portal:upload_confirm"), {"token": token}, follow=follow)
