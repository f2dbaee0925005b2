"""Reading uploaded tables: formats, encodings, delimiters, line numbers, headers and columns."""

from __future__ import annotations

import re
import tracemalloc
import zipfile
from pathlib import Path

import openpyxl
import pytest
from django.core.files import File

from suppressions.reading import (
    AUTO,
    CONTACT_ALIASES,
    AliasFamily,
    Row,
    UnreadableFile,
    estimate_rows,
    explicit_columns,
    open_table,
    plan_columns,
)


def write(tmp_path: Path, name: str, content: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


def write_xlsx(tmp_path: Path, rows: list[list[object]], name: str = "upload.xlsx") -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    path = tmp_path / name
    workbook.save(path)
    return path


def read_rows(path: Path) -> list[Row]:
    with open_table(path) as table:
        return list(table)


# Formats and encodings ---------------------------------------------------------------------------------


def test_comma_separated_utf8_file_is_read_row_by_row(tmp_path: Path) -> None:
    # given a plain CSV file
    path = write(tmp_path, "list.csv", b"Phone,Email\n2025550143,jane@example.com\n")
    # when its rows are read
    rows = read_rows(path)
    # then each record comes with its line and its cells
    assert rows == [Row(1, ("Phone", "Email")), Row(2, ("2025550143", "jane@example.com"))]


@pytest.mark.parametrize(("delimiter", "name"), [(";", "semicolon"), ("\t", "tab"), ("|", "pipe")])
def test_delimiter_is_detected(tmp_path: Path, delimiter: str, name: str) -> None:
    # given a file separated by something other than commas, whose values contain commas
    lines = [["Name", "Phone"], ["Doe, Jane", "2025550143"], ["Roe, Rick", "2025550144"]]
    content = "\n".join(delimiter.join(cells) for cells in lines).encode()
    path = write(tmp_path, f"{name}.csv", content)
    # when its rows are read
    with open_table(path) as table:
        rows = list(table)
        detected = table.delimiter
    # then the delimiter was recognised and names keep their commas
    assert detected == delimiter
    assert rows[1].cells == ("Doe, Jane", "2025550143")


def test_utf8_bom_is_not_part_of_the_first_header(tmp_path: Path) -> None:
    # given a CSV saved by Excel as "CSV UTF-8", which starts with a byte order mark
    path = write(tmp_path, "excel.csv", b"\xef\xbb\xbfPhone;Name\n2025550143;Zo\xc3\xab\n")
    # when its rows are read
    rows = read_rows(path)
    # then the first header is clean and accents survive
    assert rows == [Row(1, ("Phone", "Name")), Row(2, ("2025550143", "Zoë"))]


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_excel_unicode_text_in_utf16_with_bom_is_read(tmp_path: Path, encoding: str) -> None:
    # given Excel's "Unicode text": UTF-16 with a byte order mark, tab-separated
    bom = b"\xff\xfe" if encoding == "utf-16-le" else b"\xfe\xff"
    text = "Phone\tName\r\n2025550143\tJosé Núñez\r\n"
    path = write(tmp_path, "unicode.txt", bom + text.encode(encoding))
    # when its rows are read
    rows = read_rows(path)
    # then it is decoded and split on tabs
    assert rows == [Row(1, ("Phone", "Name")), Row(2, ("2025550143", "José Núñez"))]


def test_windows_1252_file_is_decoded_as_windows_1252(tmp_path: Path) -> None:
    # given Excel's semicolon CSV from Western Windows, in Windows-1252
    # (an en dash and curly quotes, which Windows-1252 has and Latin-1 lacks)
    vip = "Fran\u00e7oise M\u00fcller \u2013 \u201cVIP\u201d"
    text = f"Name;Phone;Email\nJosé Núñez;2025550143;jose@example.com\n{vip};2025550144;f@example.fr\n"
    path = write(tmp_path, "windows.csv", text.encode("cp1252"))
    # when its rows are read
    with open_table(path) as table:
        rows = list(table)
        encoding = table.encoding
    # then accents, dashes and curly quotes come out as written
    assert encoding == "cp1252"
    assert rows[1].cells[0] == "José Núñez"
    assert rows[2].cells[0] == vip


def test_stray_windows_1252_byte_after_the_sample_does_not_fail_a_utf8_file(tmp_path: Path) -> None:
    # given a file that is plain ASCII for its first 64 KiB and then has a Windows-1252 "é"
    filler = b"".join(b"202555%04d\n" % (number % 10000) for number in range(7000))
    path = write(tmp_path, "late.csv", b"Phone\n" + filler + b"Ren\xe9\n")
    # when all its rows are read
    rows = read_rows(path)
    # then the last row keeps its accent
    assert rows[-1] == Row(7002, ("René",))


def test_xlsx_rows_are_read_with_their_row_numbers(tmp_path: Path) -> None:
    # given a workbook with a gap between rows and numbers typed as numbers
    path = write_xlsx(tmp_path, [["Phone", "Email"], [2025550143, "jane@example.com"], [], [2025550144.0, None]])
    # when its rows are read
    with open_table(path) as table:
        rows = list(table)
        file_format = table.format
    # then blank rows are skipped, numbers read as their digits, and row numbers kept
    assert file_format == "xlsx"
    assert rows == [
        Row(1, ("Phone", "Email")),
        Row(2, ("2025550143", "jane@example.com")),
        Row(4, ("2025550144",)),
    ]


def test_xlsx_with_a_wrong_recorded_used_range_is_read_in_full(tmp_path: Path) -> None:
    # given a workbook whose writer recorded its used range as the single cell A1
    path = write_xlsx(tmp_path, [["Phone", "Email"], ["2025550143", "jane@example.com"]])
    rewritten = tmp_path / "wrong.xlsx"
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(rewritten, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:A1"', data)
            target.writestr(item, data)
    # when its rows are read
    rows = read_rows(rewritten)
    # then every cell is there
    assert rows == [Row(1, ("Phone", "Email")), Row(2, ("2025550143", "jane@example.com"))]


def test_xlsx_from_an_open_file_leaves_the_file_open(tmp_path: Path) -> None:
    # given a workbook passed as an open file, as an upload handler would
    path = write_xlsx(tmp_path, [["Phone"], ["2025550143"]])
    with path.open("rb") as upload:
        # when its rows are read and the table closed
        with open_table(upload, filename="upload.xlsx") as table:
            rows = list(table)
        # then the caller's file is still usable
        assert not upload.closed
    assert rows[1] == Row(2, ("2025550143",))


def test_quoted_field_with_newlines_keeps_the_line_where_its_record_starts(tmp_path: Path) -> None:
    # given a CSV whose second record spans three physical lines
    content = b'Phone,Note\n2025550143,"first\nsecond\nthird"\n2025550144,plain\n'
    path = write(tmp_path, "notes.csv", content)
    # when its rows are read
    rows = read_rows(path)
    # then the multi-line record starts on line 2 and the next one on line 5
    assert rows == [
        Row(1, ("Phone", "Note")),
        Row(2, ("2025550143", "first\nsecond\nthird")),
        Row(5, ("2025550144", "plain")),
    ]


def test_blank_lines_are_skipped_but_counted(tmp_path: Path) -> None:
    # given a file with blank lines between records
    path = write(tmp_path, "gaps.csv", b"2025550143\r\n\r\n \r\n2025550144\r\n")
    # when its rows are read
    rows = read_rows(path)
    # then the second number is on line 4
    assert rows == [Row(1, ("2025550143",)), Row(4, ("2025550144",))]


def test_reading_a_large_csv_keeps_memory_flat(tmp_path: Path) -> None:
    # given a CSV of 200,000 rows
    path = tmp_path / "large.csv"
    with path.open("w") as handle:
        handle.write("Phone,Email\n")
        for number in range(200_000):
            handle.write(f"202{number:07d},user{number}@example.com\n")
    # when all its rows are read while memory is traced
    tracemalloc.start()
    with open_table(path) as table:
        count = sum(1 for _ in table)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    # then every row was read and the peak stayed far below the file's size in Python objects
    assert count == 200_001
    assert peak < 2_000_000


# Unreadable files ----------------------------------------------------------------------------------------


def test_empty_file_is_refused_as_empty(tmp_path: Path) -> None:
    # given an empty upload
    path = write(tmp_path, "empty.csv", b"")
    # when it is opened
    with pytest.raises(UnreadableFile) as refused:
        open_table(path)
    # then the reason says so, naming the file
    assert refused.value.message == "'empty.csv' is empty."
    assert refused.value.code == "empty"


def test_binary_garbage_is_refused(tmp_path: Path) -> None:
    # given bytes that are no text
    path = write(tmp_path, "garbage.csv", bytes(range(256)) * 40)
    # when it is opened
    with pytest.raises(UnreadableFile) as refused:
        open_table(path)
    # then it is refused as binary
    assert refused.value.code == "binary"


def test_pdf_is_refused_by_name(tmp_path: Path) -> None:
    # given a PDF uploaded as a list
    path = write(tmp_path, "list.pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n")
    # when it is opened
    with pytest.raises(UnreadableFile) as refused:
        open_table(path)
    # then the reason says what it is and what to do
    assert refused.value.message == "'list.pdf' is a PDF document, not a table. Save it as CSV or XLSX and upload that."


def test_old_excel_workbook_is_refused_with_advice(tmp_path: Path) -> None:
    # given an Excel 97-2003 workbook
    path = write(tmp_path, "old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512)
    # when it is opened
    with pytest.raises(UnreadableFile) as refused:
        open_table(path)
    # then the reason names the format
    assert "old Excel 97-2003 (.xls) workbook" in refused.value.message


def test_zip_that_is_not_a_workbook_is_refused(tmp_path: Path) -> None:
    # given a ZIP archive of text files
    path = tmp_path / "archive.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("numbers.txt", "2025550143\n")
    # when it is opened
    with pytest.raises(UnreadableFile) as refused:
        open_table(path)
    # then it is refused as not a workbook
    assert refused.value.message.startswith("'archive.xlsx' is a ZIP archive but not an Excel workbook.")


def test_unterminated_quote_is_reported_with_its_line(tmp_path: Path) -> None:
    # given a CSV whose quote on line 3 never closes and swallows the rest of a big file
    tail = b"x" * 200_000
    path = write(tmp_path, "broken.csv", b'Phone\n2025550143\n"2025550144\n' + tail)
    # when its rows are read
    with pytest.raises(UnreadableFile) as refused:
        read_rows(path)
    # then the line where reading failed is named
    assert refused.value.code == "malformed"
    assert "from line 3" in refused.value.message


# Headers and columns -----------------------------------------------------------------------------------


def head(*rows: tuple[str, ...]) -> list[Row]:
    return [Row(number, cells) for number, cells in enumerate(rows, start=1)]


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("Phone", "phone"),
        ("phone_number", "phone"),
        ("Mobile Phone", "phone"),
        ("Cell", "phone"),
        ("Direct Dial", "phone"),
        ("Company Phone 2", "phone"),
        ("E-mail Address", "email"),
        ("Work Email", "email"),
        ("Website", "domain"),
        ("Company Domain", "domain"),
        ("DOMAIN", "domain"),
        ("Area Code", "area_code"),
        ("Phone Type", None),
        ("Account Number", None),
    ],
)
def test_header_aliases_ignore_case_spaces_and_punctuation(header: str, field: str | None) -> None:
    # given a header as CRM exports write it
    # when its field is looked up
    found = CONTACT_ALIASES.field_for(header)
    # then it names the field it means, or none
    assert found == field


def test_many_column_export_maps_known_headers_only() -> None:
    # given a CRM export with a header row
    rows = head(
        ("First Name", "Mobile Phone", "Title", "E-mail Address", "Website"),
        ("Jane", "(202) 555-0143", "CEO", "jane@acme.com", "https://acme.com"),
    )
    # when its columns are planned
    plan = plan_columns(rows)
    # then the header is skipped and the phone, email and website columns are mapped
    assert plan.has_header
    assert plan.fields == {1: "phone", 3: "email", 4: "domain"}


def test_single_column_without_header_is_read_value_by_value() -> None:
    # given one column mixing numbers, addresses and domains
    rows = head(("2025550143",), ("jane@example.com",), ("acme.com",))
    # when its columns are planned
    plan = plan_columns(rows)
    # then there is no header and each value is read as what it looks like
    assert not plan.has_header
    assert plan.fields == {0: AUTO}


def test_header_of_unknown_words_is_detected_over_values() -> None:
    # given a first row of words over rows of numbers
    rows = head(("Numbers to block",), ("2025550143",), ("2025550144",))
    # when its columns are planned
    plan = plan_columns(rows)
    # then the first row is taken as a header
    assert plan.has_header


def test_columns_without_header_are_guessed_from_their_values() -> None:
    # given an export without a header: name, phone, email
    rows = head(
        ("Jane Doe", "2025550143", "jane@example.com"),
        ("Rick Roe", "(202) 555-0144", "rick@example.com"),
    )
    # when its columns are planned
    plan = plan_columns(rows)
    # then the phone and email columns are found and the names left out
    assert not plan.has_header
    assert plan.fields == {1: "phone", 2: "email"}


def test_explicit_mapping_by_header_name_wins_over_guessing() -> None:
    # given an export whose header names nothing we know
    rows = head(("Who", "Reach"), ("Jane", "2025550143"))
    # when the uploader says which column is the phone
    plan = plan_columns(rows, explicit={"reach": "phone"})
    # then that column is used and the header skipped
    assert plan.has_header
    assert plan.fields == {1: "phone"}


def test_explicit_mapping_by_name_reads_the_first_row_as_header_even_if_it_looks_like_values() -> None:
    # given a file whose first row holds a number where its header should be
    rows = head(("id", "2025550100"), ("1", "2025550143"))
    # when the uploader names the column "2025550100"
    plan = plan_columns(rows, explicit={"2025550100": "phone"})
    # then the first row is the header and the named column is the phone
    assert plan.has_header
    assert plan.fields == {1: "phone"}


def test_explicit_mapping_naming_a_missing_column_is_refused() -> None:
    # given an export without a "Telefon" column
    rows = head(("Phone",), ("2025550143",))
    # when the uploader maps "Telefon"
    with pytest.raises(UnreadableFile) as refused:
        plan_columns(rows, explicit={"Telefon": "phone"})
    # then the missing column is named
    assert refused.value.message == "The file has no column named 'Telefon'."


def test_file_with_no_recognisable_column_is_refused() -> None:
    # given a file of names only
    rows = head(("First", "Last"), ("Jane", "Doe"))
    # when its columns are planned
    with pytest.raises(UnreadableFile) as refused:
        plan_columns(rows)
    # then the reason says what was looked for
    assert refused.value.code == "no_columns"


def test_lead_import_can_add_its_own_alias_families() -> None:
    # given contact aliases extended with name and title fields
    aliases = CONTACT_ALIASES.extended(
        [AliasFamily("first_name", names=("first name", "given name")), AliasFamily("title", names=("job title",))]
    )
    rows = head(("Given Name", "Job Title", "Phone"), ("Jane", "CEO", "2025550143"))
    # when the columns are planned with them
    plan = plan_columns(rows, aliases=aliases)
    # then the new fields are mapped next to the phone
    assert plan.fields == {0: "first_name", 1: "title", 2: "phone"}


# Row estimates -----------------------------------------------------------------------------------------


def test_the_row_estimate_of_a_text_file_is_its_line_breaks(tmp_path: Path) -> None:
    # given a CSV of a header and three rows, opened as a Django file (as uploads and lead imports are)
    path = write(tmp_path, "rows.csv", b"phone\n2025550143\n2025550144\n2025550145\n")
    # when its rows are estimated
    with File(path.open("rb"), name="rows.csv") as file:
        estimate = estimate_rows(file, filename="rows.csv")
    # then every line counts, the header too
    assert estimate == 4


def test_a_workbook_has_no_row_estimate(tmp_path: Path) -> None:
    # given an XLSX workbook, whose rows are compressed
    path = write_xlsx(tmp_path, [["Phone"], ["2025550143"]])
    # when its rows are estimated
    with File(path.open("rb"), name="upload.xlsx") as file:
        estimate = estimate_rows(file, filename="upload.xlsx")
    # then there is no estimate: the reading counts them
    assert estimate == 0


def test_a_file_that_cannot_be_opened_has_no_row_estimate(tmp_path: Path) -> None:
    # given a stored file that has gone from the disk
    file = File(None, name=str(tmp_path / "gone.csv"))
    # when its rows are estimated
    estimate = estimate_rows(file, filename="gone.csv")
    # then the estimate is 0 (the reading, which opens the file next, is what reports it)
    assert estimate == 0


# Column mappings ---------------------------------------------------------------------------------------


def test_a_mapping_names_a_column_by_position_with_a_number_sign() -> None:
    # given a mapping as people write it, for a suppression upload or a lead import
    mapping = {"#2": "phone", "Work email": "email", "2024": "domain", "#1": "ignore"}
    # when it is read for the planner, leaving out ignored columns
    columns = explicit_columns(mapping, skip=("ignore",))
    # then "#2" is the second column and any other text a header, a number too
    assert columns == {1: "phone", "Work email": "email", "2024": "domain"}


def test_a_mapping_of_only_ignored_columns_maps_nothing() -> None:
    # given a mapping that ignores every column it names
    mapping = {"#1": "ignore", "Notes": ""}
    # when it is read
    columns = explicit_columns(mapping, skip=("", "ignore"))
    # then the planner guesses, as without a mapping
    assert columns is None
