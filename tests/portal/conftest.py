"""Two tenants with a bit of everything, and their portal users.

Customer B's strings are distinctive so that a test can say "none of B's data appears anywhere".
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from django.core.files.base import ContentFile

from campaigns.models import (
    Account,
    Block,
    Campaign,
    ConsiderationStage,
    Contact,
    Customer,
    Lead,
    LostReason,
    PhoneNumber,
    User,
)
from campaigns.services import BlockTarget, block_create
from campaigns.services.catalogues import consideration_stages_seed, lost_reasons_seed, project_create
from campaigns.services.opportunities import lead_qualify
from suppressions.models import Entry, RejectedRow, Upload
from suppressions.services import upload_create
from tests.built_once import built_once
from tests.campaigns.factories import (
    AccountFactory,
    CampaignFactory,
    ContactEmailFactory,
    ContactFactory,
    ContactPhoneFactory,
    CustomerFactory,
    LeadFactory,
    PhoneNumberFactory,
    UserFactory,
)
from tests.suppressions.factories import csv_bytes


@dataclass
class Tenant:
    customer: Customer
    user: User
    campaign: Campaign
    account: Account
    contact: Contact
    lead: Lead
    phone: PhoneNumber
    marked_contact: Contact
    marked_account: Account
    dnc_mark: Block
    upload: Upload
    entry: Entry
    rejected: RejectedRow
    suppressed_lead: Lead
    strings: list[str] = field(default_factory=list)


def customer_user(customer: Customer, username: str) -> User:
    return UserFactory(username=username, email=f"{username}@{customer.slug}.test", customer=customer, is_staff=False)


def run_upload(capture, *, customer: Customer, user: User | None, content: bytes, name: str = "list.csv") -> Upload:
    """Upload ``content`` through the pipeline and run its processing and matching (eagerly, on commit)."""
    with capture(execute=True):
        upload = upload_create(
            customer=customer, file=ContentFile(content, name=name), original_name=name, uploaded_by=user
        )
    upload.refresh_from_db()
    return upload


def make_tenant(capture, *, slug: str, words: dict[str, str], numbers: list[str]) -> Tenant:
    """Build one tenant's scene; ``words`` name its things, ``numbers`` are three fresh E.164 numbers."""
    customer = CustomerFactory(name=words["customer"], slug=slug)
    user = customer_user(customer, words["user"])
    campaign = CampaignFactory(customer=customer, name=words["campaign"])
    account = AccountFactory(customer=customer, name=words["account"], domain=words["domain"])
    contact = ContactFactory(account=account, first_name=words["first"], last_name=words["last"])
    phone = PhoneNumberFactory(e164=numbers[0])
    ContactPhoneFactory(contact=contact, phone=phone)
    ContactEmailFactory(contact=contact, email=f"{words['first'].lower()}@{words['domain']}", domain=words["domain"])
    lead = LeadFactory(campaign=campaign, contact=contact)

    marked_account = AccountFactory(customer=customer, name=words["marked_account"], domain="")
    marked_contact = ContactFactory(account=marked_account, first_name=words["marked_first"], last_name=words["last"])
    LeadFactory(campaign=campaign, contact=marked_contact)
    dnc_mark, _ = block_create(
        target=BlockTarget(contact=marked_contact),
        source=Block.Source.CUSTOMER_DNC,
        reason=Block.Reason.DO_NOT_CALL,
        reach=Block.Reach.CUSTOMER,
        actor=user,
        note=words["note"],
    )

    suppressed = ContactFactory(account=account, first_name=words["suppressed_first"], last_name=words["last"])
    ContactPhoneFactory(contact=suppressed, phone=PhoneNumberFactory(e164=numbers[1]))
    suppressed_lead = LeadFactory(campaign=campaign, contact=suppressed)
    upload = run_upload(
        capture,
        customer=customer,
        user=user,
        content=csv_bytes([["phone"], [numbers[1]], [numbers[2]], [words["rejected"]]]),
        name=words["upload"],
    )
    entry = Entry.objects.get(customer=customer, value=numbers[1])
    rejected = RejectedRow.objects.get(upload=upload)
    strings = [
        *words.values(),
        *numbers,
        *(n[2:] for n in numbers),
    ]
    return Tenant(
        customer=customer,
        user=user,
        campaign=campaign,
        account=account,
        contact=contact,
        lead=lead,
        phone=phone,
        marked_contact=marked_contact,
        marked_account=marked_account,
        dnc_mark=dnc_mark,
        upload=upload,
        entry=entry,
        rejected=rejected,
        suppressed_lead=suppressed_lead,
        strings=strings,
    )


# Customer A's and customer B's scenes: the arguments of ``make_tenant`` after ``capture``.
TENANT_A = {
    "slug": "acme",
    "words": {
        "customer": "Acme Corp",
        "user": "alice-acme",
        "campaign": "Spring Outreach",
        "account": "Anvil Works",
        "domain": "anvil-works.example",
        "first": "Ada",
        "last": "Lovelace",
        "marked_account": "Arrow Freight",
        "marked_first": "Alan",
        "suppressed_first": "Amy",
        "note": "asked Acme by email",
        "upload": "acme-dnc.csv",
        "rejected": "not-a-number-acme",
    },
    "numbers": ["+12022001001", "+12022001002", "+12022001003"],
}
TENANT_B = {
    "slug": "globex",
    "words": {
        "customer": "Globex Zeta",
        "user": "zed-globex",
        "campaign": "Zephyr Campaign",
        "account": "Quuxberg Holdings",
        "domain": "quuxberg.example",
        "first": "Quincy",
        "last": "Zimmerwald",
        "marked_account": "Xylophon GmbH",
        "marked_first": "Xaver",
        "suppressed_first": "Yolanda",
        "note": "zeta secret note",
        "upload": "globex-zeta-list.csv",
        "rejected": "zeta-garbage-value",
    },
    "numbers": ["+13105559871", "+13105559872", "+13105559873"],
}


@pytest.fixture
def tenant_a(db, django_capture_on_commit_callbacks):
    return make_tenant(django_capture_on_commit_callbacks, **TENANT_A)


@pytest.fixture
def tenant_b(db, django_capture_on_commit_callbacks):
    return make_tenant(django_capture_on_commit_callbacks, **TENANT_B)


@pytest.fixture(scope="module")
def tenant_a_built_once(django_db_setup, django_db_blocker, tmp_path_factory):
    """Customer A's scene, built once for a module that asks for it (``tests.built_once``).

    A module whose tests are all non-transactional uses it by overriding ``tenant_a``::

        @pytest.fixture
        def tenant_a(tenant_a_built_once, db):
            return copy.deepcopy(tenant_a_built_once)
    """
    media = tmp_path_factory.mktemp("media")
    with built_once(django_db_blocker, media, lambda capture: make_tenant(capture, **TENANT_A)) as tenant:
        yield tenant


@pytest.fixture
def portal_client(client, tenant_a):
    """A test client signed in as customer A's user (``force_login`` bypasses django-axes)."""
    client.force_login(tenant_a.user)
    return client


def qualify(
    lead: Lead, *, actor: User, project: str = "", lost: str = "", stage: str = "Consideration", note: str = ""
):
    """Qualify ``lead`` through the service: open for a new ``project`` of its customer, or lost for ``lost``."""
    lost_reasons_seed(customers=Customer.objects.filter(pk=lead.customer_id))
    consideration_stages_seed(campaigns=Campaign.objects.filter(pk=lead.campaign_id))
    return lead_qualify(
        lead=lead,
        actor=actor,
        consideration_stage=ConsiderationStage.objects.get(campaign_id=lead.campaign_id, label=stage),
        project=project_create(customer=lead.customer, name=project, actor="tests") if project else None,
        lost_reason=LostReason.objects.get(customer_id=lead.customer_id, label=lost) if lost else None,
        lost_note=note,
    )


def ops_user(username: str) -> User:
    return UserFactory(username=username, permissions=["campaigns.work_every_campaign"])
