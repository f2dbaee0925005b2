"""Preview before save, for a form: the first valid post shows what saving would do, the second saves it.

A form using ``PreviewedForm`` carries a hidden ``previewed`` field: the digest of the values its preview was
computed for. ``clean`` refuses a post whose digest does not match the values posted (none yet, or the user
changed a field since), computing the preview instead (``preview_of``) and putting the digest in the re-shown
form, so the next post of the same values saves. This module knows no business: the form says what to preview.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

CHECK_FIRST = "Check what this change would do (below), then save again to confirm it."


def values_digest(values: dict[str, Any]) -> str:
    """Return a short digest of ``values`` (JSON, keys sorted; anything else as its text)."""
    return hashlib.sha256(json.dumps(values, sort_keys=True, default=str).encode()).hexdigest()[:32]


class PreviewedForm(forms.BaseForm):
    """Mix into a ``ModelForm``: define ``previewed_values(cleaned)`` and ``preview_of(cleaned)``."""

    preview: Any = None

    def previewed_values(self, cleaned: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def preview_of(self, cleaned: dict[str, Any]) -> Any:
        raise NotImplementedError

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        digest = values_digest(self.previewed_values(cleaned))
        if self.data.get("previewed") == digest:
            return cleaned
        self.preview = self.preview_of(cleaned)
        data = self.data.copy()
        data["previewed"] = digest
        self.data = data
        raise ValidationError(CHECK_FIRST, code="preview")


def previewed_field() -> forms.CharField:
    return forms.CharField(required=False, widget=forms.HiddenInput)
