"""Exports people open in a spreadsheet: never let a cell run as a formula (CSV injection), and never let a
failed stream look like a complete file.

Every streamed CSV of the project (the portal's downloads, the admin's rejected rows and junk rows) goes
through ``csv_download``.
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Iterable, Iterator

from django.http import StreamingHttpResponse

logger = logging.getLogger(__name__)

# A spreadsheet treats a cell starting with any of these as a formula (or a DDE call): =, +, -, @, and a
# leading tab or carriage return that some of them strip before looking.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

# The last line of a file whose stream failed part-way: a person who opens it reads this, not a short file.
INCOMPLETE = "INCOMPLETE EXPORT: an error stopped this file after {rows} rows; download it again."


def escape_formula(value: object) -> object:
    """Return ``value`` with a leading apostrophe when a spreadsheet would read it as a formula.

    Numbers are left alone (``-5`` stays a number); only text is escaped.
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class _Echo:
    """A file-like object whose ``write`` returns what it is given, so ``csv.writer`` yields lines."""

    def write(self, value: str) -> str:
        return value


def csv_download(
    filename: str, header: list[str], rows: Iterable[Iterable[object]], *, excel_bom: bool = True
) -> StreamingHttpResponse:
    """Return a streamed CSV download of ``rows`` under ``header``, every text cell formula-escaped.

    The first row is read before the response exists, so an export whose query fails answers with an
    error and no file at all. A failure after the first byte cannot change the status any more: the error
    is logged with its traceback and the file ends with the ``INCOMPLETE`` line, so nobody mistakes it
    for the whole export.
    """
    rows = iter(rows)
    first = next(rows, None)  # may raise: nothing has been sent yet, and the request fails as a whole
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        if excel_bom:
            yield "\ufeff"  # so Excel reads UTF-8
        yield writer.writerow(header)
        if first is None:
            return
        yield writer.writerow([escape_formula(cell) for cell in first])
        written = 1
        try:
            for row in rows:
                yield writer.writerow([escape_formula(cell) for cell in row])
                written += 1
        except Exception:
            logger.exception(
                "The CSV export %s failed after %d rows; its file ends with a line saying so.", filename, written
            )
            yield writer.writerow([INCOMPLETE.format(rows=written)])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
