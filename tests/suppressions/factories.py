"""Factories for suppression lists, and builders of the files customers send."""

from __future__ import annotations

import csv
import io

import factory
import openpyxl
from django.core.files.base import ContentFile

from suppressions.models import Entry, Upload
from tests.campaigns.factories import CustomerFactory


class UploadFactory(factory.django.DjangoModelFactory):
    """An upload record whose file is a small CSV; reading it is the pipeline's job, not the factory's."""

    class Meta:
        model = Upload

    customer = factory.SubFactory(CustomerFactory)
    original_name = "list.csv"
    file = factory.LazyAttribute(lambda u: ContentFile(b"phone\n2025550143\n", name=u.original_name))
    status = Upload.Status.DONE


class EntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Entry

    customer = factory.SubFactory(CustomerFactory)
    kind = Entry.Kind.PHONE
    value = "+12025550143"
    upload = factory.SubFactory(UploadFactory, customer=factory.SelfAttribute("..customer"))
    line = 2


def csv_bytes(rows: list[list[str]], *, delimiter: str = ",", encoding: str = "utf-8") -> bytes:
    """Return ``rows`` written as a delimited text file in ``encoding`` (with Windows line ends)."""
    text = io.StringIO()
    writer = csv.writer(text, delimiter=delimiter, lineterminator="\r\n")
    writer.writerows(rows)
    return text.getvalue().encode(encoding)


def xlsx_bytes(rows: list[list[object]]) -> bytes:
    """Return ``rows`` as an Excel workbook with one sheet."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
