"""leadops.references: the foreign keys of the tables a lead import fills, checked once per statement, keep
every promise the constraints made, on both ways to run."""

import importlib
import re
import threading

import psycopg
import pytest
from django.db import IntegrityError, connection, transaction

from campaigns.imports.models import ImportedLead
from campaigns.models import Account, Contact, ContactEmail, ContactPhone
from leadops.references import Reference
from tests.campaigns.factories import (
    ContactEmailFactory,
    ContactFactory,
    ContactPhoneFactory,
    CustomerFactory,
    LeadFactory,
    PhoneNumberFactory,
)

pytestmark = pytest.mark.django_db

NO_ROW = 10**12
MIGRATIONS = (
    "campaigns.migrations.0026_references_checked_per_statement",
    "campaigns.imports.migrations.0004_references_checked_per_statement",
)


def _references() -> list[Reference]:
    return [r for name in MIGRATIONS for refs in importlib.import_module(name).CHILDREN.values() for r in refs]


def _refused(message: str, write) -> None:
    """``write`` is refused by the database, saying ``message``, and leaves nothing behind."""
    with pytest.raises(IntegrityError, match=re.escape(message)), transaction.atomic():
        write()


def _sql(statement: str, params=()) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement, params)


def test_every_reference_is_checked_and_every_parent_protected_by_a_trigger_in_the_database():
    # A later migration that remakes one of these tables (SQLite remakes a table to alter a column) would drop
    # its triggers with it: this says which.
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT tgrelid::regclass::text, tgname FROM pg_trigger WHERE NOT tgisinternal")
        else:
            cursor.execute("SELECT tbl_name, name FROM sqlite_master WHERE type = 'trigger'")
        triggers = set(cursor.fetchall())
    for r in _references():
        if connection.vendor == "postgresql":
            expected = {
                (r.child, f"{r.child}_references_on_insert"),
                (r.child, f"{r.child}_references_on_update"),
                (r.parent, f"{r.parent}_protect_{r.child}"),
            }
        else:
            expected = {
                (r.child, f"{r.child}_{r.column}_references_on_insert"),
                (r.child, f"{r.child}_{r.column}_references_on_update"),
                (r.parent, f"{r.parent}_protect_{r.child}_on_delete"),
                (r.parent, f"{r.parent}_protect_{r.child}_on_update"),
            }
        assert expected <= triggers, f"{r.child}.{r.column}: missing {expected - triggers}"


def test_the_database_refuses_a_row_that_names_no_parent_on_insert_one_row_or_many():
    # given
    contact = ContactFactory()
    phone = PhoneNumberFactory()
    # when / then: the ORM's one row, a bulk insert, and a set-based INSERT … SELECT as the import writes
    _refused(
        "campaigns_contact.account_id references no account",
        lambda: Contact.objects.create(customer=contact.customer, account_id=NO_ROW, first_name="A", last_name="B"),
    )
    _refused(
        "campaigns_contact.customer_id references no customer",
        lambda: Contact.objects.create(customer_id=NO_ROW, account=contact.account, first_name="A", last_name="B"),
    )
    _refused(
        "campaigns_account.customer_id references no customer",
        lambda: Account.objects.create(customer_id=NO_ROW, name="Acme"),
    )
    _refused(
        "campaigns_contactemail.contact_id references no contact",
        lambda: ContactEmail.objects.bulk_create(
            [
                ContactEmail(contact=contact, email="a@example.com", domain="example.com"),
                ContactEmail(contact_id=NO_ROW, email="b@example.com", domain="example.com"),
            ]
        ),
    )
    _refused(
        "campaigns_contactphone.phone_id references no phone number",
        lambda: _sql(
            "INSERT INTO campaigns_contactphone (contact_id, phone_id, kind) SELECT %s, g, 'direct' "
            "FROM (SELECT %s AS g UNION ALL SELECT %s) ids",
            [contact.pk, phone.pk, NO_ROW],
        ),
    )
    _refused(
        "campaigns_contactphone.contact_id references no contact",
        lambda: ContactPhone.objects.create(contact_id=NO_ROW, phone=phone, kind="direct"),
    )
    lead = LeadFactory()
    _refused(
        "imports_importedlead.lead_import_id references no lead import",
        lambda: ImportedLead.objects.create(lead_import_id=NO_ROW, lead=lead, created=True),
    )
    # then: nothing of any refused statement was written
    assert not ContactEmail.objects.filter(contact=contact).exists()
    assert not ContactPhone.objects.filter(contact=contact).exists()


def test_the_database_refuses_an_update_that_makes_a_row_name_no_parent_and_allows_every_other():
    # given
    email = ContactEmailFactory()
    link = ContactPhoneFactory()
    other = ContactFactory(customer=email.contact.customer, account=email.contact.account)
    # when / then
    _refused(
        "campaigns_contactemail.contact_id references no contact",
        lambda: ContactEmail.objects.filter(pk=email.pk).update(contact_id=NO_ROW),
    )
    _refused(
        "campaigns_contactphone.phone_id references no phone number",
        lambda: ContactPhone.objects.filter(pk=link.pk).update(phone_id=NO_ROW),
    )
    _refused(
        "campaigns_contact.account_id references no account",
        lambda: Contact.objects.filter(pk=other.pk).update(account_id=NO_ROW),
    )
    # and: a reference moved to a row that exists, or a row updated without touching its references, is fine
    ContactEmail.objects.filter(pk=email.pk).update(contact_id=other.pk)
    Contact.objects.filter(pk=other.pk).update(first_name="Renamed")
    assert ContactEmail.objects.get(pk=email.pk).contact_id == other.pk


def test_the_database_refuses_to_delete_or_renumber_a_parent_a_row_names_and_the_orm_deletes_as_before():
    # given
    email = ContactEmailFactory()
    contact, account, customer = email.contact, email.contact.account, email.contact.customer
    link = ContactPhoneFactory(contact=contact)
    # when / then: statements past the ORM (which protects or cascades in Python) meet the database's refusal
    refusals = [
        (
            "DELETE FROM campaigns_contact WHERE id = %s",
            contact.pk,
            r"contact is referenced by (emails|contact numbers)",
        ),
        (
            "DELETE FROM campaigns_account WHERE id = %s",
            account.pk,
            r"account is referenced by contacts \(campaigns_contact",
        ),
        ("DELETE FROM campaigns_customer WHERE id = %s", customer.pk, "customer is referenced by (accounts|contacts)"),
        ("DELETE FROM campaigns_phonenumber WHERE id = %s", link.phone_id, "referenced by contact numbers"),
        ("UPDATE campaigns_contact SET id = id + 1000000 WHERE id = %s", contact.pk, "cannot be deleted or renumbered"),
    ]
    for statement, pk, message in refusals:
        with pytest.raises(IntegrityError, match=message):
            _sql(statement, [pk])
    # then: the ORM's delete still cascades the contact's emails and numbers first
    contact.leads.all().delete()
    contact.delete()
    assert not ContactEmail.objects.filter(pk=email.pk).exists()
    assert not ContactPhone.objects.filter(pk=link.pk).exists()


@pytest.mark.postgres("two sessions at once, each waiting for the other's row lock, is PostgreSQL's")
@pytest.mark.django_db(transaction=True)
def test_a_parent_deleted_while_a_row_names_it_is_refused_whichever_commits_first():
    # given: a contact with no email, and two sessions of their own
    contact = ContactFactory()
    settings = connection.settings_dict
    dsn = (
        f"host={settings['HOST'] or 'localhost'} port={settings['PORT'] or 5432} "
        f"user={settings['USER']} dbname={settings['NAME']}"
    )
    insert = (
        "INSERT INTO campaigns_contactemail (contact_id, email, domain) VALUES (%s, 'x@example.com', 'example.com')"
    )
    delete = "DELETE FROM campaigns_contact WHERE id = %s"

    def race(first: str, second: str) -> Exception | None:
        """Run ``first`` in a session that stays open, then ``second`` in another; commit the first once the
        second waits for it; return what the second raised."""
        with psycopg.connect(dsn) as one, psycopg.connect(dsn) as two:
            one.execute(first, [contact.pk])
            outcome: list[Exception | None] = []

            def run() -> None:
                try:
                    two.execute(second, [contact.pk])
                    two.commit()
                    outcome.append(None)
                except psycopg.Error as exc:
                    two.rollback()
                    outcome.append(exc)

            thread = threading.Thread(target=run)
            thread.start()
            thread.join(timeout=1)
            assert thread.is_alive(), "the second session should wait for the first one's lock"
            one.commit()
            thread.join(timeout=10)
            return outcome[0]

    # when: the email first, the delete while it is uncommitted
    refused = race(insert, delete)
    # then: the delete waited for the email, then refused
    assert isinstance(refused, psycopg.errors.ForeignKeyViolation) and "referenced by emails" in str(refused)
    ContactEmail.objects.filter(contact=contact).delete()
    # when: the delete first, the email while it is uncommitted
    refused = race(delete, insert)
    # then: the email waited for the delete, then found no contact
    assert isinstance(refused, psycopg.errors.ForeignKeyViolation) and "references no contact" in str(refused)
    assert not Contact.objects.filter(pk=contact.pk).exists() and not ContactEmail.objects.exists()


def test_a_customer_of_its_own_can_be_made_and_removed_when_nothing_names_it():
    # A parent nothing names is deleted as before (the protections look only for rows that name it).
    customer = CustomerFactory()
    _sql("DELETE FROM campaigns_customer WHERE id = %s", [customer.pk])
    assert not type(customer).objects.filter(pk=customer.pk).exists()
