"""Read uploaded tables (CSV, TSV, XLSX) one row at a time, whatever encoding and delimiter they came in.

Suppression uploads, lead imports and CRM record uploads all start here. The layers are separate so each
caller takes what it needs:

- ``open_table`` recognises the file (XLSX or delimited text, its encoding and delimiter) and streams
  ``Row(line_number, cells)``; ``line_number`` is where the record starts in the file (the physical line
  for text, the row for XLSX) so that error reports can name it.
- ``looks_like_header`` and ``plan_columns`` decide whether the first row is a header and which column
  holds what, from header spellings (``ColumnAliases``, data that other importers extend), from a
  caller's explicit mapping, or from the values themselves. ``explicit_columns`` reads a mapping as
  people write it (``#2`` is the second column, other text a header) for every importer.
- ``estimate_rows`` sizes a file's progress bar without reading it as a table.

Nothing here holds the whole file: text is decoded and parsed incrementally and XLSX sheets are read in
openpyxl's read-only mode. Only the first ``SAMPLE_ROWS`` rows are buffered, to plan the columns.
"""

from __future__ import annotations

import codecs
import collections
import csv
import datetime
import io
import itertools
import os
import re
import zipfile
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import IO, Any, Final, NamedTuple

import charset_normalizer
import openpyxl
from openpyxl.utils.exceptions import InvalidFileException

from leadops.errors import LeadopsError
from leadops.normalizing import Kind, detect_kind


class UnreadableFile(LeadopsError):
    """A file that cannot be read as a table; ``message`` names the problem, ``code`` classifies it."""


class Row(NamedTuple):
    """One record of a table: where it starts in the file and its cells, stripped of surrounding space."""

    line_number: int
    cells: tuple[str, ...]


SAMPLE_ROWS: Final = 50
_SAMPLE_BYTES: Final = 64 * 1024
_DELIMITERS: Final = ("\t", ";", "|", ",")  # on a tie, the one least likely to occur inside a value wins

# Signatures of files people upload by mistake, to say what they uploaded instead of "unreadable".
_SIGNATURES: Final = (
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Excel 97-2003 (.xls) workbook or another legacy Office file"),
    (b"%PDF", "a PDF document"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"Rar!", "a RAR archive"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
    (b"{\\rtf", "an RTF document"),
)
_SAVE_AS: Final = "Save it as CSV or XLSX and upload that."

# The order matters: the UTF-32 little-endian mark starts with the UTF-16 one.
_BOMS: Final = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def _decode_stray_bytes_as_cp1252(error: UnicodeError) -> tuple[str, int]:
    # A file that is UTF-8 in its first 64 KiB can still carry a Windows-1252 "é" further down, typically
    # a row pasted from an older export. Reading that byte as Windows-1252 keeps the row instead of
    # failing the whole upload.
    if not isinstance(error, UnicodeDecodeError):
        raise error
    stray = error.object[error.start : error.end]
    return stray.decode("cp1252", errors="replace"), error.end


_UTF8_FALLBACK: Final = "leadops-utf8-cp1252-fallback"
codecs.register_error(_UTF8_FALLBACK, _decode_stray_bytes_as_cp1252)


class Table:
    """A table being read: its format, then its rows, once, from first to last.

    Use as a context manager, or call ``close``; a file opened from a path is closed, a file object the
    caller passed in is left open.
    """

    def __init__(
        self,
        rows: Iterator[Row],
        *,
        format: str,
        encoding: str = "",
        delimiter: str = "",
        closing: Sequence[Any] = (),
    ) -> None:
        self.format = format
        self.encoding = encoding
        self.delimiter = delimiter
        self._rows = rows
        self._head: list[Row] | None = None
        self._closing = closing
        self._started = False

    def head(self) -> list[Row]:
        """Return the first ``SAMPLE_ROWS`` non-blank rows, read once and kept for iteration."""
        if self._head is None:
            self._head = list(itertools.islice(self._rows, SAMPLE_ROWS))
        return self._head

    def __iter__(self) -> Iterator[Row]:
        if self._started:
            raise RuntimeError("A table can be read only once.")
        self._started = True
        yield from self.head()
        yield from self._rows

    def close(self) -> None:
        """Release the file and any workbook behind the table."""
        close_rows = getattr(self._rows, "close", None)
        if close_rows is not None:
            close_rows()
        for resource in self._closing:
            resource.close()

    def __enter__(self) -> Table:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def open_table(source: str | os.PathLike[str] | IO[bytes], *, filename: str = "") -> Table:
    """Return the table in ``source`` (a path or a seekable binary file), ready to stream its rows.

    Raise ``UnreadableFile`` for an empty file, a file that is neither XLSX nor delimited text (naming
    what it is when it can tell), or text in no encoding it can recognise.
    """
    if isinstance(source, str | os.PathLike):
        stream: IO[bytes] = open(source, "rb")  # noqa: SIM115 - closed by Table.close
        owned: Sequence[Any] = (stream,)
        filename = filename or os.fspath(source)
    else:
        stream, owned = source, ()
    try:
        return _open_stream(stream, filename=filename, owned=owned)
    except BaseException:
        for resource in owned:
            resource.close()
        raise


def estimate_rows(file: Any, *, filename: str) -> int:
    """Return about how many rows the table in ``file`` (a Django ``File``) has, cheaply: its line breaks.

    A workbook is 0 (its rows are compressed; the reading counts them). The figure only sizes a progress
    bar, so a file that cannot be opened is 0 too: the reading, which opens it next, says why it failed.
    """
    if filename.lower().endswith(".xlsx"):
        return 0
    count = 0
    try:
        with file.open("rb") as stream:
            while chunk := stream.read(1 << 20):
                count += chunk.count(b"\n")
    except (OSError, ValueError):
        return 0
    return count


def _open_stream(stream: IO[bytes], *, filename: str, owned: Sequence[Any]) -> Table:
    start = stream.tell()
    sample = stream.read(_SAMPLE_BYTES)
    stream.seek(start)
    if not sample:
        raise UnreadableFile(f"{_name(filename)} is empty.", code="empty")
    if sample.startswith(b"PK\x03\x04"):
        return _open_workbook(stream, filename=filename, owned=owned)
    for signature, what in _SIGNATURES:
        if sample.startswith(signature):
            raise UnreadableFile(f"{_name(filename)} is {what}, not a table. {_SAVE_AS}", code="not_a_table")
    encoding, errors = _detect_encoding(sample, filename=filename)
    text_sample = codecs.getincrementaldecoder(encoding)(errors=errors).decode(sample, final=False)
    if _looks_binary(text_sample):
        raise UnreadableFile(f"{_name(filename)} looks like a binary file, not CSV or XLSX. {_SAVE_AS}", code="binary")
    delimiter = _detect_delimiter(text_sample, complete=len(sample) < _SAMPLE_BYTES)
    return Table(
        _text_rows(stream, encoding=encoding, errors=errors, delimiter=delimiter, filename=filename),
        format="csv",
        encoding=encoding,
        delimiter=delimiter,
        closing=owned,
    )


def _name(filename: str) -> str:
    return f"'{os.path.basename(filename)}'" if filename else "The file"


def _detect_encoding(sample: bytes, *, filename: str) -> tuple[str, str]:
    """Return the codec and error handler to decode a text file whose first bytes are ``sample``."""
    for bom, encoding in _BOMS:
        if sample.startswith(bom):
            return encoding, _UTF8_FALLBACK if encoding == "utf-8-sig" else "replace"
    utf16 = _utf16_without_bom(sample)
    if utf16:
        return utf16, "replace"
    if b"\x00" in sample:
        raise UnreadableFile(f"{_name(filename)} looks like a binary file, not CSV or XLSX. {_SAVE_AS}", code="binary")
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
    except UnicodeDecodeError:
        pass
    else:
        return "utf-8", _UTF8_FALLBACK
    matches = list(charset_normalizer.from_bytes(sample))
    if not matches:
        raise UnreadableFile(
            f"{_name(filename)} is in no text encoding we recognise; it may be a binary file. {_SAVE_AS}",
            code="encoding",
        )
    # Single-byte code pages are hard to tell apart on a short sample and charset-normalizer often ranks
    # Windows-1250 first for Western text (reading "ñ" as "ń"). Excel on Western Windows writes
    # Windows-1252, so among equally clean candidates prefer it.
    cleanest = min(match.percent_chaos for match in matches)
    for match in matches:
        if match.encoding == "cp1252" and match.percent_chaos == cleanest:
            return "cp1252", "replace"
    return matches[0].encoding, "replace"


def _utf16_without_bom(sample: bytes) -> str:
    """Return ``utf-16-le``/``-be`` if ``sample`` has the zero bytes of mostly-ASCII UTF-16, else ''."""
    pairs = len(sample) // 2
    if pairs < 2:
        return ""
    even_zeros = sample[0 : pairs * 2 : 2].count(0)
    odd_zeros = sample[1 : pairs * 2 : 2].count(0)
    if odd_zeros > 0.6 * pairs and even_zeros < 0.1 * pairs:
        return "utf-16-le"
    if even_zeros > 0.6 * pairs and odd_zeros < 0.1 * pairs:
        return "utf-16-be"
    return ""


_CONTROL: Final = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


def _looks_binary(text: str) -> bool:
    return len(_CONTROL.findall(text)) > max(2, len(text) // 200)


def _detect_delimiter(text: str, *, complete: bool) -> str:
    """Return the delimiter that splits the sample's rows most consistently into more than one column."""
    if not complete:
        # The sample was cut mid-record; its last line would count its columns wrongly.
        text = text[: max(text.rfind("\n"), 0)]
    best: tuple[float, int, int, str] | None = None
    for preference, delimiter in enumerate(reversed(_DELIMITERS)):
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        widths = [len(cells) for cells in itertools.islice(reader, 100) if any(c.strip() for c in cells)]
        if not widths:
            continue
        width, count = collections.Counter(widths).most_common(1)[0]
        if width < 2:
            continue
        score = (count / len(widths), width, preference, delimiter)
        if best is None or score > best:
            best = score
    return best[3] if best else ","


def _text_rows(stream: IO[bytes], *, encoding: str, errors: str, delimiter: str, filename: str) -> Iterator[Row]:
    text = io.TextIOWrapper(stream, encoding=encoding, errors=errors, newline="")
    reader = csv.reader(text, delimiter=delimiter)
    last_line = 0
    try:
        for cells in reader:
            first_line, last_line = last_line + 1, reader.line_num
            stripped = tuple(cell.strip() for cell in cells)
            if any(stripped):
                yield Row(first_line, stripped)
    except csv.Error as exc:
        raise UnreadableFile(
            f"{_name(filename)} cannot be read as CSV from line {last_line + 1}: {exc}.", code="malformed"
        ) from exc
    finally:
        # Detach so that the wrapper does not close a file the caller owns when it is collected.
        text.detach()


def _open_workbook(stream: IO[bytes], *, filename: str, owned: Sequence[Any]) -> Table:
    try:
        workbook = openpyxl.load_workbook(stream, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
        raise UnreadableFile(
            f"{_name(filename)} is a ZIP archive but not an Excel workbook. {_SAVE_AS}", code="not_a_table"
        ) from exc
    if not workbook.worksheets:
        workbook.close()
        raise UnreadableFile(f"{_name(filename)} has no worksheet.", code="empty")
    return Table(_sheet_rows(workbook.worksheets[0]), format="xlsx", closing=(workbook, *owned))


def _sheet_rows(sheet: Any) -> Iterator[Row]:
    # Some writers record a wrong used range (often "A1:A1"), which read-only mode would trust and cut
    # every row short; forget it and read the cells that are there.
    sheet.reset_dimensions()
    for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
        cells = tuple(_cell_text(value) for value in values)
        if any(cells):
            yield Row(number, cells)


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        # Phone numbers typed into Excel become numbers; 2025550143.0 must read as the digits.
        return str(int(value))
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    return str(value)


# Columns -----------------------------------------------------------------------------------------------

AUTO: Final = "auto"
"""The field of a column whose values are each read as whatever they look like."""

AREA_CODE: Final = "area_code"
"""The field of a column of three-digit area codes to put in front of a phone column (DNC registry form)."""


@dataclass(frozen=True)
class AliasFamily:
    """How headers name one field: exact ``names``, and ``endings`` that mark it at the end of a header.

    Both are compared case-, space- and punctuation-insensitively: "E-mail Address" is "emailaddress".
    ``endings`` catch qualified headers ("Company Phone", "Work E-mail") without listing them all.
    """

    field: str
    names: Iterable[str]
    endings: Iterable[str] = ()


def header_key(text: str) -> str:
    """Return ``text`` as compared to aliases: lower case, letters and digits only."""
    return re.sub(r"[^0-9a-z]+", "", text.casefold())


class ColumnAliases:
    """Header spellings for the fields an importer knows, as data that other importers extend."""

    def __init__(self, families: Iterable[AliasFamily]) -> None:
        self.families = tuple(families)
        self._names: dict[str, str] = {}
        for family in self.families:
            for name in family.names:
                self._names.setdefault(header_key(name), family.field)
        self._endings = sorted(
            ((header_key(ending), family.field) for family in self.families for ending in family.endings),
            key=lambda pair: -len(pair[0]),
        )

    def extended(self, families: Iterable[AliasFamily]) -> ColumnAliases:
        """Return these aliases with ``families`` added; earlier spellings win over later ones."""
        return ColumnAliases((*self.families, *families))

    def field_for(self, header: str) -> str | None:
        """Return the field ``header`` names, or None."""
        key = header_key(header)
        if not key:
            return None
        numbered = key.rstrip("0123456789")  # "Phone 2", "email_1"
        for candidate in (key, numbered):
            if candidate in self._names:
                return self._names[candidate]
        for ending, field_name in self._endings:
            if numbered.endswith(ending):
                return field_name
        return None


CONTACT_ALIASES: Final = ColumnAliases(
    (
        AliasFamily(
            Kind.PHONE.value,
            names=(
                "phone",
                "phone number",
                "phone no",
                "phone #",
                "telephone",
                "telephone number",
                "tel",
                "tel no",
                "mobile",
                "mobile number",
                "mobile no",
                "cell",
                "cell number",
                "direct dial",
                "direct",
                "direct line",
                "dial",
                "landline",
                "number",
                "msisdn",
                "contact number",
                "dnc number",
                "suppressed number",
            ),
            endings=("phone", "phonenumber", "telephone", "mobile", "mobilenumber", "cellnumber", "directdial"),
        ),
        AliasFamily(
            Kind.EMAIL.value,
            names=("email", "e-mail", "email address", "e-mail address", "mail", "mail address"),
            endings=("email", "emailaddress"),
        ),
        AliasFamily(
            Kind.DOMAIN.value,
            names=(
                "domain",
                "domain name",
                "website",
                "web site",
                "web",
                "url",
                "site",
                "homepage",
                "home page",
                "web address",
            ),
            endings=("domain", "domainname", "website", "url"),
        ),
        AliasFamily(AREA_CODE, names=("area code", "areacode", "area", "npa")),
    )
)


@dataclass(frozen=True)
class ColumnPlan:
    """Which column holds what: whether to skip a header row, fields by column index, and DNC pairing."""

    has_header: bool
    fields: Mapping[int, str]
    # (area code column, local number column): the DNC registry form, read as one ten-digit number.
    area_code_pair: tuple[int, int] | None = None
    header: tuple[str, ...] = field(default=())

    def values(self, cells: Sequence[str]) -> Iterator[tuple[str, str]]:
        """Yield ``(field, raw value)`` for each non-empty mapped cell of a row."""
        width = len(cells)
        for index, field_name in self.fields.items():
            raw = cells[index] if index < width else ""
            if self.area_code_pair and index == self.area_code_pair[1]:
                area_code_index = self.area_code_pair[0]
                area_code = cells[area_code_index] if area_code_index < width else ""
                raw = f"{area_code}{raw}" if raw and area_code else raw
            if raw:
                yield field_name, raw


def looks_like_header(cells: Sequence[str], *, aliases: ColumnAliases, following: Sequence[Row] = ()) -> bool:
    """Return whether ``cells`` reads as a header row rather than as values.

    A header if any cell is a known column name; otherwise a header if every filled cell is words (not a
    phone number, email address or domain) while the rows after it hold such values.
    """
    filled = [cell for cell in cells if cell]
    if any(aliases.field_for(cell) for cell in filled):
        return True
    if not filled or any(detect_kind(cell) is not Kind.UNKNOWN for cell in filled):
        return False
    if not all(any(character.isalpha() for character in cell) for cell in filled):
        return False
    return any(detect_kind(cell) is not Kind.UNKNOWN for row in following for cell in row.cells)


_AREA_CODE_VALUE: Final = re.compile(r"\d{3}")
_LOCAL_NUMBER_VALUE: Final = re.compile(r"\d{3}[-. ]?\d{4}")
_GUESS_SHARE: Final = 0.8


COLUMN_NUMBER: Final = re.compile(r"#([1-9][0-9]*)")


def column_key(column: str) -> int | str:
    """Return one column of a mapping as ``plan_columns`` takes it: ``"#2"`` is the second column (index 1),
    any other text the name of a header cell.

    The one spelling of a column by position, for suppression uploads and lead imports alike: the ``#``
    keeps a header that is itself a number (``"2024"``) a header.
    """
    column = str(column).strip()
    if match := COLUMN_NUMBER.fullmatch(column):
        return int(match.group(1)) - 1
    return column


def explicit_columns(mapping: Mapping[str, str] | None, *, skip: Collection[str] = ()) -> dict[int | str, str] | None:
    """Return a stored column mapping (``{"#2": "phone", "Work email": "email"}``) as ``plan_columns`` takes
    it, leaving out the columns mapped to one of ``skip``; None when nothing is mapped."""
    if not mapping:
        return None
    columns = {column_key(column): value for column, value in mapping.items() if value not in skip}
    return columns or None


def plan_columns(
    head: Sequence[Row],
    *,
    aliases: ColumnAliases = CONTACT_ALIASES,
    explicit: Mapping[int | str, str] | None = None,
) -> ColumnPlan:
    """Return which column of a table holds what, from its first rows.

    ``explicit`` maps column indexes (from 0) or header names to fields and wins over guessing. Without
    it, a recognised header names the columns; otherwise each column's values decide (80 % of a kind),
    a single column is read value by value, and two columns of area codes and seven-digit numbers are
    the DNC registry form. Raise ``UnreadableFile`` if no column can be placed.
    """
    if not head:
        raise UnreadableFile("The file has no rows.", code="empty")
    first = head[0].cells
    # Naming a column by its header says there is a header, whatever the first row looks like.
    names_columns = bool(explicit) and any(isinstance(column, str) for column in explicit or {})
    has_header = names_columns or looks_like_header(first, aliases=aliases, following=head[1:])
    header = first if has_header else ()
    body = head[1:] if has_header else head
    if explicit:
        fields = _explicit_fields(explicit, header=header)
    elif has_header:
        fields = {index: name for index, cell in enumerate(first) if (name := aliases.field_for(cell))}
        if not any(name != AREA_CODE for name in fields.values()):
            fields = _fields_from_values(body)
    else:
        fields = _fields_from_values(body)
    pair = _area_code_pair(fields, body)
    if pair is not None:
        fields = {index: name for index, name in fields.items() if name != AREA_CODE}
        fields[pair[1]] = Kind.PHONE.value
    if not any(name != AREA_CODE for name in fields.values()):
        raise UnreadableFile(
            "No column looks like phone numbers, email addresses or domains. Name the columns in a header "
            "row (for example 'Phone', 'Email', 'Domain') or choose them when uploading.",
            code="no_columns",
        )
    return ColumnPlan(has_header=has_header, fields=dict(sorted(fields.items())), area_code_pair=pair, header=header)


def _explicit_fields(explicit: Mapping[int | str, str], *, header: Sequence[str]) -> dict[int, str]:
    keys = {header_key(cell): index for index, cell in reversed(list(enumerate(header)))}
    fields: dict[int, str] = {}
    for column, field_name in explicit.items():
        if isinstance(column, int):
            fields[column] = field_name
            continue
        index = keys.get(header_key(column))
        if index is None:
            raise UnreadableFile(f"The file has no column named '{column}'.", code="missing_column")
        fields[index] = field_name
    return fields


def _fields_from_values(body: Sequence[Row]) -> dict[int, str]:
    width = max((len(row.cells) for row in body), default=0)
    if _dnc_form(body):
        return {0: AREA_CODE, 1: Kind.PHONE.value}
    columns_with_values = [index for index in range(width) if any(_cell(row, index) for row in body)]
    if len(columns_with_values) == 1:
        return {columns_with_values[0]: AUTO}
    fields: dict[int, str] = {}
    for index in columns_with_values:
        kinds = collections.Counter(detect_kind(_cell(row, index)) for row in body if _cell(row, index))
        total = sum(kinds.values())
        known = total - kinds[Kind.UNKNOWN]
        if not total or known < _GUESS_SHARE * total:
            continue
        kind, count = kinds.most_common(1)[0]
        fields[index] = kind.value if kind is not Kind.UNKNOWN and count >= _GUESS_SHARE * total else AUTO
    return fields


def _cell(row: Row, index: int) -> str:
    return row.cells[index] if index < len(row.cells) else ""


def _dnc_form(body: Sequence[Row]) -> bool:
    rows = [[cell for cell in row.cells if cell] for row in body]
    return bool(rows) and all(
        len(cells) == 2 and _AREA_CODE_VALUE.fullmatch(cells[0]) and _LOCAL_NUMBER_VALUE.fullmatch(cells[1])
        for cells in rows
    )


def _area_code_pair(fields: Mapping[int, str], body: Sequence[Row]) -> tuple[int, int] | None:
    area_codes = [index for index, name in fields.items() if name == AREA_CODE]
    phones = [index for index, name in fields.items() if name in (Kind.PHONE.value, AUTO)]
    if len(area_codes) != 1 or len(phones) != 1:
        return None
    local = phones[0]
    if not all(_LOCAL_NUMBER_VALUE.fullmatch(_cell(row, local)) for row in body if _cell(row, local)):
        return None  # the phone column already holds whole numbers; the area code column is redundant
    return area_codes[0], local
