"""Writes over suppression lists: uploads, their reading (and its preview), matching, removal."""

from suppressions.services.entries import entries_remove, upload_remove, uploads_remove
from suppressions.services.matching import (
    MATCH_JOB,
    MatchResult,
    contacts_match,
    customer_rematch,
    rematch_all,
    upload_match,
)
from suppressions.services.pipeline import upload_process, upload_read
from suppressions.services.preview import UploadPreview, upload_preview
from suppressions.services.sweeping import uploads_sweep
from suppressions.services.uploads import upload_create, upload_enqueue

__all__ = [
    "MATCH_JOB",
    "MatchResult",
    "UploadPreview",
    "contacts_match",
    "customer_rematch",
    "entries_remove",
    "rematch_all",
    "upload_create",
    "upload_enqueue",
    "upload_match",
    "upload_preview",
    "upload_process",
    "upload_read",
    "upload_remove",
    "uploads_remove",
    "uploads_sweep",
]
