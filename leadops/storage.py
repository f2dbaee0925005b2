"""Where uploaded files are stored: under random names, never the uploader's, outside any web root."""

from __future__ import annotations

import uuid
from pathlib import Path

from django.utils import timezone

TABLE_SUFFIXES = frozenset({".csv", ".tsv", ".txt", ".xlsx"})


def random_upload_name(folder: str, filename: str) -> str:
    """Return ``folder/YYYY/MM/<random>.<suffix>``: the uploader's file name is data, never a path."""
    suffix = Path(filename).suffix.lower()
    if suffix not in TABLE_SUFFIXES:
        suffix = ".bin"
    return f"{folder}/{timezone.now():%Y/%m}/{uuid.uuid4().hex}{suffix}"
