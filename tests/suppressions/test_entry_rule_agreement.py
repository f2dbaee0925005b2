"""Every reader of "a suppression entry matches this contact" gives one answer (``suppressions.rules``).

For each way of matching (``WAYS``: a number, an email, an email domain, a website; each domain also through a
subdomain) x entry removed or not x the entry's block lifted as an exception or not: the live check (the dial
check), the pull's skip (``active_suppression_exists``), ``explain`` and a rematch agree. An entry whose block
was lifted is an exception: nothing reads it again; a removed entry stops nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from campaigns.models import Block, Lead, LeadStatus
from campaigns.selectors import can_dial, explain
from campaigns.services import blocks_lift
from suppressions.models import Entry
from suppressions.rules import WAYS, active_suppression_exists
from suppressions.services import customer_rematch, entries_remove
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

NUMBER = "+12025550143"


@dataclass(frozen=True)
class Match:
    way: str
    entry: tuple[str, str]
    email: str
    website: str

    def __str__(self) -> str:
        return self.way


MATCHES = [
    Match("phone", (Entry.Kind.PHONE, NUMBER), "ivy@personal.example", "other.example"),
    Match("email", (Entry.Kind.EMAIL, "ivy@cyberdyne.com"), "ivy@cyberdyne.com", "other.example"),
    Match("email domain", (Entry.Kind.DOMAIN, "cyberdyne.com"), "ivy@cyberdyne.com", "other.example"),
    Match("email subdomain", (Entry.Kind.DOMAIN, "cyberdyne.com"), "ivy@eu.cyberdyne.com", "other.example"),
    Match("website", (Entry.Kind.DOMAIN, "cyberdyne.com"), "ivy@personal.example", "cyberdyne.com"),
    Match("website subdomain", (Entry.Kind.DOMAIN, "cyberdyne.com"), "ivy@personal.example", "shop.cyberdyne.com"),
]
CASES = [(match, removed, lifted) for match in MATCHES for removed in (False, True) for lifted in (False, True)]


def test_every_way_of_matching_is_in_the_matrix():
    assert {way.name for way in WAYS} <= {match.way for match in MATCHES}


def _lead(customer, match: Match) -> Lead:
    account = AccountFactory(customer=customer, domain=match.website)
    contact = ContactFactory(account=account)
    ContactPhoneFactory(contact=contact, phone=PhoneNumberFactory(e164=NUMBER))
    ContactEmailFactory(contact=contact, email=match.email, domain=match.email.split("@")[1])
    return LeadFactory(campaign=CampaignFactory(customer=customer), contact=contact)


def _answers(lead: Lead) -> dict[str, bool]:
    lead = Lead.objects.select_related("contact__account", "campaign", "customer").get(pk=lead.pk)
    return {
        "dial check": not can_dial(lead, NUMBER).allowed,
        "explain": bool(explain(lead)),
        "pull's skip": Lead.objects.filter(active_suppression_exists(), pk=lead.pk).exists()
        or lead.status != LeadStatus.ELIGIBLE,
    }


@pytest.mark.parametrize(
    ("match", "removed", "lifted"),
    CASES,
    ids=[f"{m}-{'removed' if r else 'listed'}-{'lifted' if li else 'standing'}" for m, r, li in CASES],
)
def test_live_check_pull_explain_and_rematch_agree_on_each_way_of_matching(customer, ops_user, match, removed, lifted):
    # given
    lead = _lead(customer, match)
    entry = EntryFactory(customer=customer, kind=match.entry[0], value=match.entry[1])
    if lifted:
        customer_rematch(customer=customer)
        blocks_lift(
            blocks=Block.objects.filter(evidence_id=entry.pk, source=Block.Source.SUPPRESSION),
            actor=ops_user,
            reason="The customer confirmed this person may be called.",
        )
    if removed:
        entries_remove(entries=Entry.objects.filter(pk=entry.pk), actor=ops_user, reason="Sent by mistake.")
    stopped = not removed and not lifted

    # when
    live = _answers(lead)
    customer_rematch(customer=customer)
    lead.refresh_from_db()
    matched = lead.status == LeadStatus.DISQUALIFIED
    after = _answers(lead)

    # then
    assert live == {"dial check": stopped, "explain": stopped, "pull's skip": stopped}
    assert matched == stopped
    assert after == live
