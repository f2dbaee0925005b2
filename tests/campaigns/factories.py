"""Factories for the domain core. They build rows through the ORM directly: tests of services call the
services themselves, and these only set the scene."""

import importlib
import itertools

import factory
from django.apps import apps as django_apps
from django.contrib.auth.models import Permission

from campaigns.models import (
    Account,
    Block,
    Campaign,
    Contact,
    ContactEmail,
    ContactPhone,
    Customer,
    Lead,
    PhoneNumber,
    User,
)

_numbers = itertools.count(100)


def next_us_number() -> str:
    """Return a fresh valid Washington DC number in E.164."""
    return f"+1202{2_000_000 + next(_numbers)}"


def staff_groups_create() -> None:
    """Make the staff groups ("Ops", "Ops lead", "Callers") as the migrations do: the flush after a
    transactional test empties them. Running it again adds nothing."""
    for module, create in (
        ("0005_ops_groups", "create_ops_groups"),
        ("0009_caller_approvals", "create_staff_groups"),
        ("0014_catalogue_permissions", "grant_catalogues"),
        ("0018_calling_windows", "grant_calling"),
        ("0022_ops_groups_whole_product", "grant_product"),
    ):
        getattr(importlib.import_module(f"campaigns.migrations.{module}"), create)(django_apps)


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Customer {n}")
    slug = factory.Sequence(lambda n: f"customer-{n}")
    phone_region = "US"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@agency.test")
    is_staff = True
    password = factory.django.Password("pw-for-tests-1")

    @factory.post_generation
    def permissions(self, create, extracted, **kwargs):
        if not create or not extracted:
            return
        for codename in extracted:
            app_label, _, name = codename.partition(".")
            self.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=name))


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Campaign

    customer = factory.SubFactory(CustomerFactory)
    name = factory.Sequence(lambda n: f"Campaign {n}")
    status = Campaign.Status.ACTIVE


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Account

    customer = factory.SubFactory(CustomerFactory)
    name = factory.Sequence(lambda n: f"Account {n}")
    domain = factory.Sequence(lambda n: f"account{n}.example")


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    account = factory.SubFactory(AccountFactory)
    customer = factory.LazyAttribute(lambda c: c.account.customer)
    first_name = factory.Sequence(lambda n: f"Pat{n}")
    last_name = "Jones"


class PhoneNumberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PhoneNumber
        django_get_or_create = ("e164",)

    e164 = factory.LazyFunction(next_us_number)


class ContactPhoneFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ContactPhone

    contact = factory.SubFactory(ContactFactory)
    phone = factory.SubFactory(PhoneNumberFactory)
    kind = ContactPhone.Kind.DIRECT


class ContactEmailFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ContactEmail

    contact = factory.SubFactory(ContactFactory)
    email = factory.Sequence(lambda n: f"person{n}@account.example")
    domain = factory.LazyAttribute(lambda e: e.email.split("@")[1])


class LeadFactory(factory.django.DjangoModelFactory):
    """A lead in an active campaign whose contact has one clean number (so it starts Eligible)."""

    class Meta:
        model = Lead
        skip_postgeneration_save = True

    campaign = factory.SubFactory(CampaignFactory)
    contact = factory.SubFactory(
        ContactFactory,
        account=factory.SubFactory(AccountFactory, customer=factory.SelfAttribute("...campaign.customer")),
    )
    customer = factory.LazyAttribute(lambda lead: lead.campaign.customer)

    @factory.post_generation
    def with_phone(self, create, extracted, **kwargs):
        if create and extracted is not False and not self.contact.phones.exists():
            ContactPhoneFactory(contact=self.contact)


class BlockFactory(factory.django.DjangoModelFactory):
    """A raw block row, for tests of what reads blocks; services create blocks everywhere else."""

    class Meta:
        model = Block

    target = Block.Target.CONTACT
    source = Block.Source.OPS_DISQUALIFY
    reach = Block.Reach.PLATFORM
    actor_job = "tests"
