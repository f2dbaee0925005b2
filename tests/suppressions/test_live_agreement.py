"""The dial check, ``explain``, the pull and matching give one answer about a suppressed lead.

Each way an entry matches is paired with the target its block is made on: a phone, an email or an email
domain matches the contact, a website domain matches the account. A lifted block is an exception for its own
target only, so an exception ops made for a colleague (or for the contact through another way of matching)
never hides a match of its own.
"""

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from campaigns.dialer.pool import PULL_MAX, lead_release, leads_pull
from campaigns.models import Account, LeadStatus
from campaigns.selectors import can_dial, explain
from campaigns.services import lead_undisqualify
from suppressions.models import Entry
from suppressions.services import customer_rematch
from tests.campaigns.api_factories import CallerFactory
from tests.campaigns.factories import (
    AccountFactory,
    CampaignFactory,
    ContactEmailFactory,
    ContactFactory,
    ContactPhoneFactory,
    LeadFactory,
    PhoneNumberFactory,
)
from tests.suppressions.factories import EntryFactory

pytestmark = pytest.mark.django_db

SWITCHBOARD = "+12025550143"


def _lead(campaign, account, *, email=None, phone=None):
    contact = ContactFactory(account=account)
    ContactPhoneFactory(contact=contact, phone=PhoneNumberFactory(e164=phone) if phone else PhoneNumberFactory())
    if email:
        ContactEmailFactory(contact=contact, email=email, domain=email.split("@")[1])
    return LeadFactory(campaign=campaign, contact=contact)


def _status(lead):
    lead.refresh_from_db()
    return lead.status


def _undisqualified(lead, ops_user):
    """Match the customer's list, then let ops lift every block behind ``lead`` as an exception."""
    customer_rematch(customer=lead.customer)
    assert _status(lead) == LeadStatus.DISQUALIFIED
    lead_undisqualify(lead=lead, actor=ops_user, reason="The customer confirmed this person may be called.")
    assert _status(lead) == LeadStatus.ELIGIBLE


def _colleague_excepted(customer, ops_user, *, entry: tuple[str, str], website: str, colleague: dict, newcomer: dict):
    """Account A (``website``) has a contact X whom ``entry`` matches and ops undisqualified (lifting the
    blocks on X and on A); then a contact Y arrives at A. Return Y's lead."""
    campaign = CampaignFactory(customer=customer)
    account = AccountFactory(customer=customer, name="Cyberdyne", domain=website)
    x = _lead(campaign, account, **colleague)
    EntryFactory(customer=customer, kind=entry[0], value=entry[1])
    _undisqualified(x, ops_user)
    return _lead(campaign, account, **newcomer)


def _contact_excepted_then_website_known(customer, ops_user, *, website: str):
    """Contact Y (``ivy@cyberdyne.com``) at an account with no website is matched by its email domain and
    ops undisqualify Y; later the account's website is filled in as ``website``. Return Y's lead."""
    campaign = CampaignFactory(customer=customer)
    account = AccountFactory(customer=customer, name="Cyberdyne", domain="")
    y = _lead(campaign, account, email="ivy@cyberdyne.com")
    EntryFactory(customer=customer, kind=Entry.Kind.DOMAIN, value="cyberdyne.com")
    _undisqualified(y, ops_user)
    Account.objects.filter(pk=account.pk).update(domain=website)
    return y


@dataclass(frozen=True)
class Scene:
    way: str  # the way the entry matches the lead under test
    story: str
    build: Callable
    stopped: bool

    def __str__(self) -> str:
        return self.way


SCENES = [
    Scene(
        "phone",
        "a colleague's exception on a shared switchboard does not cover the newcomer",
        lambda c, u: _colleague_excepted(
            c,
            u,
            entry=(Entry.Kind.PHONE, SWITCHBOARD),
            website="cyberdyne.com",
            colleague={"phone": SWITCHBOARD},
            newcomer={"phone": SWITCHBOARD},
        ),
        stopped=True,
    ),
    Scene(
        "email",
        "a colleague's exception on a shared inbox does not cover the newcomer",
        lambda c, u: _colleague_excepted(
            c,
            u,
            entry=(Entry.Kind.EMAIL, "info@cyberdyne.com"),
            website="cyberdyne.com",
            colleague={"email": "info@cyberdyne.com"},
            newcomer={"email": "info@cyberdyne.com"},
        ),
        stopped=True,
    ),
    Scene(
        "email-domain",
        "the account's lifted block does not hide the newcomer's own email",
        lambda c, u: _colleague_excepted(
            c,
            u,
            entry=(Entry.Kind.DOMAIN, "cyberdyne.com"),
            website="cyberdyne.com",
            colleague={"email": "ned@cyberdyne.com"},
            newcomer={"email": "ivy@cyberdyne.com"},
        ),
        stopped=True,
    ),
    Scene(
        "website-domain-excepted",
        "the account's exception covers a newcomer matched only by the website",
        lambda c, u: _colleague_excepted(
            c,
            u,
            entry=(Entry.Kind.DOMAIN, "cyberdyne.com"),
            website="cyberdyne.com",
            colleague={"email": "ned@cyberdyne.com"},
            newcomer={"email": "ivy@personal.example"},
        ),
        stopped=False,
    ),
    Scene(
        "website-domain",
        "the contact's lifted block does not hide its account's website",
        lambda c, u: _contact_excepted_then_website_known(c, u, website="cyberdyne.com"),
        stopped=True,
    ),
    Scene(
        "email-subdomain",
        "the account's lifted block does not hide the newcomer's own email subdomain",
        lambda c, u: _colleague_excepted(
            c,
            u,
            entry=(Entry.Kind.DOMAIN, "cyberdyne.com"),
            website="www.cyberdyne.com",
            colleague={"email": "ned@mail.cyberdyne.com"},
            newcomer={"email": "ivy@eu.cyberdyne.com"},
        ),
        stopped=True,
    ),
    Scene(
        "website-subdomain",
        "the contact's lifted block does not hide its account's website subdomain",
        lambda c, u: _contact_excepted_then_website_known(c, u, website="shop.cyberdyne.com"),
        stopped=True,
    ),
]


def _answers(lead, caller) -> dict[str, bool]:
    """Return whether each live reader says ``lead`` is stopped: the dial check on its number, ``explain``,
    and the pull (whatever the pull leases is given back at once)."""
    number = lead.contact.phones.select_related("phone").get().phone.e164
    dial_refused = not can_dial(lead, number).allowed
    explained = bool(explain(lead))
    pulled = leads_pull(campaign=lead.campaign, caller=caller, count=PULL_MAX)
    for leased in pulled:
        lead_release(lead=leased, actor="tests")
    return {"dial check": dial_refused, "explain": explained, "pull": lead.pk not in {p.pk for p in pulled}}


@pytest.mark.parametrize("scene", SCENES, ids=str)
def test_dial_check_explain_pull_and_matching_agree_on_a_suppressed_lead(scene, customer, ops_user):
    # given
    lead = scene.build(customer, ops_user)
    caller = CallerFactory(username="carl", approved_for=[lead.campaign])

    # when
    live = _answers(lead, caller)
    customer_rematch(customer=customer)
    matched = _status(lead) == LeadStatus.DISQUALIFIED
    after = _answers(lead, caller)

    # then
    assert live == {"dial check": scene.stopped, "explain": scene.stopped, "pull": scene.stopped}
    assert matched == scene.stopped
    assert after == live
