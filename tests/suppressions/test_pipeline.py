import sys

import pytest

from leadops.normalizing import PhoneNormalizer
from suppressions.models import Entry, RejectedRow, Upload
from suppressions.services import pipeline, upload_read
from tests.suppressions.factories import EntryFactory, csv_bytes, xlsx_bytes

pytestmark = pytest.mark.django_db


def _values(kind=None):
    entries = Entry.objects.active()
    if kind:
        entries = entries.filter(kind=kind)
    return sorted(entries.values_list("value", flat=True))


def _counts(upload):
    return upload.values_read, upload.accepted, upload.duplicate, upload.rejected


def test_single_column_of_mixed_writings_is_normalised_and_counted(upload_file):
    # given
    content = csv_bytes(
        [["phone"], ["(202) 555-0143"], ["202.555.0143"], ["+1 202 555 0144"], ["not a number"], ["12025550145"]]
    )

    # when
    upload = upload_file(content)

    # then
    assert upload.status == Upload.Status.DONE, upload.error
    assert _values() == ["+12025550143", "+12025550144", "+12025550145"]
    assert _counts(upload) == (5, 3, 1, 1)
    rejected = RejectedRow.objects.get(upload=upload)
    assert (rejected.line, rejected.column, rejected.raw_value) == (5, "phone", "not a number")


@pytest.mark.parametrize(
    ("encoding", "delimiter"),
    [("utf-8-sig", ","), ("utf-16", "\t"), ("cp1252", ";"), ("utf-8", "|"), ("latin-1", "\t")],
)
def test_crm_export_in_any_encoding_and_delimiter_yields_every_phone_email_and_website(
    upload_file, encoding, delimiter
):
    # given
    rows = [
        ["Name", "Company Phone", "Mobile", "E-mail Address", "Website"],
        ["Zoë Müller", "(202) 555-0143", "", "Zoe@Acme.COM", "https://www.acme.com/about"],
        ["José Peña", "202 555 0144 ext. 12", "+1 202 555 0145", "", "bücher.de"],
    ]

    # when
    upload = upload_file(csv_bytes(rows, delimiter=delimiter, encoding=encoding), name="crm-export.csv")

    # then
    assert upload.status == Upload.Status.DONE, upload.error
    assert _values(Entry.Kind.PHONE) == ["+12025550143", "+12025550144", "+12025550145"]
    assert _values(Entry.Kind.EMAIL) == ["zoe@acme.com"]
    assert _values(Entry.Kind.DOMAIN) == ["acme.com", "xn--bcher-kva.de"]
    assert _counts(upload) == (6, 6, 0, 0)


def test_excel_workbook_with_numbers_typed_as_numbers_is_read(upload_file):
    # given
    content = xlsx_bytes([["Phone", "Email"], [2025550143, "pat@acme.com"], [12025550144, None]])

    # when
    upload = upload_file(content, name="list.xlsx")

    # then
    assert upload.status == Upload.Status.DONE, upload.error
    assert _values() == ["+12025550143", "+12025550144", "pat@acme.com"]


def test_dnc_registry_area_code_and_number_columns_are_one_number(upload_file):
    # given
    content = b"202,5550143\n202,555-0144\n"

    # when
    upload = upload_file(content, name="dnc.txt")

    # then
    assert _values() == ["+12025550143", "+12025550144"]
    assert _counts(upload) == (2, 2, 0, 0)


def test_quoted_fields_with_embedded_newlines_keep_their_line_numbers(upload_file):
    # given
    content = b'name,phone\r\n"Pat\r\nJones",2025550143\r\n"Sam",not-a-phone\r\n'

    # when
    upload = upload_file(content)

    # then
    assert _values() == ["+12025550143"]
    assert RejectedRow.objects.get(upload=upload).line == 4


def test_domain_writings_are_normalised(upload_file):
    # given
    content = csv_bytes([["domain"], ["www.acme.com"], ["https://acme.com/about"], ["@acme.com"], ["ACME.org"]])

    # when
    upload = upload_file(content)

    # then
    assert _values() == ["acme.com", "acme.org"]
    assert _counts(upload) == (4, 2, 2, 0)


def test_free_mail_and_public_suffix_domains_are_refused_with_a_reason(upload_file):
    # given
    content = csv_bytes([["domain"], ["gmail.com"], ["co.uk"], ["acme.com"]])

    # when
    upload = upload_file(content)

    # then
    assert _values() == ["acme.com"]
    reasons = dict(RejectedRow.objects.filter(upload=upload).values_list("raw_value", "reason"))
    assert "free-mail domain" in reasons["gmail.com"]
    assert "public suffix" in reasons["co.uk"]


def test_ops_may_allow_a_free_mail_domain_explicitly(upload_file):
    # given
    content = csv_bytes([["domain"], ["gmail.com"]])

    # when
    upload = upload_file(content, allow_broad_domains=True)

    # then
    assert _values() == ["gmail.com"]
    assert upload.rejected == 0


def test_values_already_on_the_active_list_are_duplicates_but_removed_ones_come_back(customer, upload_file):
    # given
    EntryFactory(customer=customer, kind=Entry.Kind.PHONE, value="+12025550143")
    removed = EntryFactory(customer=customer, kind=Entry.Kind.PHONE, value="+12025550144")
    Entry.objects.filter(pk=removed.pk).update(removed_at=removed.created_at, remove_reason="test")

    # when
    upload = upload_file(csv_bytes([["phone"], ["2025550143"], ["2025550144"]]))

    # then
    assert _counts(upload) == (2, 1, 1, 0)
    assert Entry.objects.filter(upload=upload).get().value == "+12025550144"


def test_counts_always_add_up_to_the_values_read_on_a_junk_file(upload_file):
    # given
    rows = [["phone", "email"]] + [
        [phone, email]
        for phone, email in [
            ("2025550143", "!!!@mail.com"),
            ("123456789", ""),
            ("", ""),
            ("2025550143", "pat@acme.com"),
            ("Testing!£##", "pat@acme.com"),
            ("=1+1", "x"),
        ]
    ]

    # when
    upload = upload_file(csv_bytes(rows))

    # then
    assert upload.values_read == upload.accepted + upload.duplicate + upload.rejected
    assert upload.rejected == RejectedRow.objects.filter(upload=upload).count()
    assert upload.accepted == Entry.objects.filter(upload=upload).count()
    assert "= 10" in upload.report or f"= {upload.values_read}" in upload.report


def test_a_failure_mid_file_leaves_the_active_list_exactly_as_it_was(customer, upload_file, monkeypatch):
    # given
    EntryFactory(customer=customer, kind=Entry.Kind.PHONE, value="+12025550100")
    before = list(Entry.objects.values_list("pk", "value", "removed_at"))
    monkeypatch.setattr(pipeline, "_CHUNK_ROWS", 2)  # several chunks are inserted before the failure
    real_normalize = PhoneNormalizer.normalize
    calls = {"n": 0}

    def failing_normalize(self, raw):
        calls["n"] += 1
        if calls["n"] == 7:
            raise RuntimeError("disk on fire")
        return real_normalize(self, raw)

    monkeypatch.setattr(PhoneNormalizer, "normalize", failing_normalize)
    content = csv_bytes([["phone"]] + [[f"20255501{n:02d}"] for n in range(10, 30)])

    # when
    with pytest.raises(RuntimeError, match="disk on fire"):
        upload_file(content)

    # then
    upload = Upload.objects.latest("pk")
    assert upload.status == Upload.Status.FAILED
    assert "disk on fire" in upload.error
    assert list(Entry.objects.values_list("pk", "value", "removed_at")) == before
    assert not RejectedRow.objects.exists()
    assert _counts(upload) == (0, 0, 0, 0)


def test_a_value_too_long_to_store_is_rejected_not_a_crash(upload_file):
    # given
    content = csv_bytes([["email"], ["a" * 400 + "@acme.com"], ["pat@acme.com"]])

    # when
    upload = upload_file(content)

    # then
    assert upload.status == Upload.Status.DONE, upload.error
    assert _values() == ["pat@acme.com"]
    assert "too long" in RejectedRow.objects.get(upload=upload).reason


def test_an_unreadable_file_fails_the_upload_with_the_reason(upload_file):
    # given
    content = b"%PDF-1.4 not a table"

    # when
    upload = upload_file(content, name="list.csv")

    # then
    assert upload.status == Upload.Status.FAILED
    assert "PDF" in upload.error
    assert not Entry.objects.exists()


def test_reading_an_upload_again_changes_nothing(upload_file):
    # given
    upload = upload_file(csv_bytes([["phone"], ["2025550143"]]))

    # when
    again = upload_read(upload_id=upload.pk)

    # then
    assert again.status == Upload.Status.DONE
    assert Entry.objects.count() == 1


def test_many_chunks_keep_the_first_occurrence_of_a_value(upload_file, monkeypatch):
    # given
    monkeypatch.setattr(pipeline, "_CHUNK_ROWS", 3)
    content = csv_bytes([["phone"]] + [[f"20255501{n % 7:02d}"] for n in range(40)])

    # when
    upload = upload_file(content)

    # then
    assert _counts(upload) == (40, 7, 33, 0)
    assert sorted(Entry.objects.values_list("line", flat=True)) == list(range(2, 9))


@pytest.mark.parametrize(
    "raw", ["2025550143", "+1 (202) 555-0143", "202/555/0143", "12345", "1.2.3.4.5.6.7", "+44 20 7946 0958", "3m.com"]
)
def test_plain_phone_shortcut_agrees_with_detect_kind(raw):
    # given
    from leadops.normalizing import Kind, detect_kind

    # when
    shortcut = pipeline._plain_phone_kind(raw)

    # then
    assert shortcut is None or detect_kind(raw) is Kind.PHONE
    if detect_kind(raw) is Kind.PHONE and "x" not in raw.lower() and "#" not in raw:
        assert shortcut is Kind.PHONE


def test_the_database_refuses_an_entry_of_no_upload_or_no_customer(customer):
    # given
    from django.db import IntegrityError, transaction

    # when / then
    with pytest.raises(IntegrityError, match="references no upload"), transaction.atomic():
        Entry.objects.create(customer=customer, kind=Entry.Kind.PHONE, value="+12025550143", upload_id=10**9)
    with pytest.raises(IntegrityError, match="references no customer"), transaction.atomic():
        Entry.objects.create(customer_id=10**9, kind=Entry.Kind.PHONE, value="+12025550143")


def test_the_database_refuses_to_delete_an_upload_with_entries(customer):
    # given
    from django.db import IntegrityError, connection, transaction

    entry = EntryFactory(customer=customer)

    # when / then
    with pytest.raises(IntegrityError, match="cannot be deleted"), transaction.atomic(), connection.cursor() as c:
        c.execute("DELETE FROM suppressions_upload WHERE id = %s", [entry.upload_id])


@pytest.mark.parametrize("fails", [False, True], ids=["read", "failed"])
def test_an_upload_hands_the_gil_over_quickly_while_it_reads_and_puts_the_interval_back(
    upload_file, monkeypatch, fails
):
    # given the interpreter's interval before the upload, and a reader that notes the interval it runs under
    before = sys.getswitchinterval()
    real_normalize = PhoneNormalizer.normalize
    seen = []

    def noting_normalize(self, raw):
        seen.append(sys.getswitchinterval())
        if fails and len(seen) == 3:
            raise RuntimeError("disk on fire")
        return real_normalize(self, raw)

    monkeypatch.setattr(PhoneNormalizer, "normalize", noting_normalize)
    content = csv_bytes([["phone"]] + [[f"20255501{n:02d}"] for n in range(10, 20)])
    # when the upload is read (or fails)
    if fails:
        with pytest.raises(RuntimeError, match="disk on fire"):
            upload_file(content)
    else:
        upload_file(content)
    # then it read under the short interval, and the process has its own interval back
    assert seen and set(seen) == {pipeline._QuickGilHandover.INTERVAL}
    assert sys.getswitchinterval() == before


def test_uploads_read_side_by_side_put_the_interval_back_only_when_the_last_one_ends():
    # given two uploads being read in parallel threads, the first to start ending first
    handover = pipeline._QuickGilHandover()
    before = sys.getswitchinterval()
    first, second = handover.held(), handover.held()
    first.__enter__()
    second.__enter__()
    # when the first ends
    first.__exit__(None, None, None)
    # then the second still reads under the short interval, and the process's interval is back after it
    assert sys.getswitchinterval() == handover.INTERVAL
    second.__exit__(None, None, None)
    assert sys.getswitchinterval() == before
