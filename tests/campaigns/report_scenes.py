"""A small customer whose every report figure is known by construction (``tests/campaigns/test_reports.py``).

Northwind's leads all came in on Monday 2 March 2026 at 10:00, in two campaigns (Clinics, and Labs for one):

| lead | source | campaign | industry, size | what happened | counted as |
|---|---|---|---|---|---|
| a1 | Vendor A | Clinics | Health, 51-200 | a no-answer call | entered, attempted |
| a2 | Vendor A | Clinics | Health, 1,200 | connected, meeting, qualified | entered … qualified |
| a3 | Vendor A | Clinics | Health | its account blocked 10 days before | at entry: existing |
| a4 | Vendor A | Clinics | Retail | suppressed 10 minutes after; lifted by a job | at entry: suppression |
| a5 | Vendor A | Clinics | Retail | failed a fit rule 5 minutes after; lifted by ops | at entry: fit rule |
| w1 | Webinar | Clinics | Retail | no number | no number |
| w2 | Webinar | Clinics | — | connected, meeting, not qualified | unqualified; later: meeting outcome |
| w3 | Webinar | Clinics | Health | connected; ops disqualified it 3 days later | later: disqualify workflow |
| w4 | Webinar | Labs | Health | its only number made DNC 2 days later | later: call disposition |

Plus two junk rows of a Vendor A import into Clinics that day; an older lead (12 February, Vendor A, Clinics:
outside the period, inside the 28 days before the fit-rule change of 2 March 09:00); another customer's lead.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile

from campaigns.imports.models import FitRule, LeadImport, LeadImportIssue
from campaigns.models import Block, Call, Campaign, Customer, FitRuleChange, Lead, Meeting, User
from campaigns.services import lead_statuses_recompute
from campaigns.services.reporting import lead_facts_refresh
from tests.campaigns.api_factories import CallerFactory, DialerCampaignFactory, disposition
from tests.campaigns.caller_scenes import member_of
from tests.campaigns.factories import (
    AccountFactory,
    BlockFactory,
    ContactEmailFactory,
    ContactFactory,
    ContactPhoneFactory,
    CustomerFactory,
    LeadFactory,
    UserFactory,
)

MONDAY = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


@dataclass
class ReportScene:
    customer: Customer
    clinics: Campaign
    labs: Campaign
    leads: dict[str, Lead]
    ops: User
    customer_user: User
    other_customer: Customer


def _lead(
    campaign, name, *, source, industry="", employees="", country="", title="", phone=True, email=False, at=MONDAY
):
    account = AccountFactory(
        customer=campaign.customer,
        name=f"{name} Co",
        attributes={k: v for k, v in {"industry": industry, "employees": employees}.items() if v},
    )
    contact = ContactFactory(
        account=account,
        first_name=name.capitalize(),
        last_name="Reportson",
        title=title,
        attributes={"country": country} if country else {},
        created_at=at,
    )
    if phone:
        ContactPhoneFactory(contact=contact)
    if email:
        ContactEmailFactory(contact=contact)
    return LeadFactory(campaign=campaign, contact=contact, source=source, created_at=at, with_phone=False)


def report_scene(*, refresh: bool = True) -> ReportScene:
    customer = CustomerFactory(name="Northwind Health", slug="northwind-report")
    clinics = DialerCampaignFactory(customer=customer, name="Clinics")
    labs = DialerCampaignFactory(customer=customer, name="Labs")
    ops = member_of("Ops", "ops.olga")
    caller = CallerFactory(username="caller.cara", approved_for=[clinics, labs])
    customer_user = UserFactory(username="nw.user", is_staff=False, customer=customer)
    v, w = "Vendor A", "Webinar"
    leads = {
        "a1": _lead(
            clinics, "a1", source=v, industry="Health", employees="51-200", country="US", title="CTO", email=True
        ),
        "a2": _lead(clinics, "a2", source=v, industry="Health", employees="1,200", email=True),
        "a3": _lead(clinics, "a3", source=v, industry="Health"),
        "a4": _lead(clinics, "a4", source=v, industry="Retail"),
        "a5": _lead(clinics, "a5", source=v, industry="Retail"),
        "w1": _lead(clinics, "w1", source=w, industry="Retail", phone=False),
        "w2": _lead(clinics, "w2", source=w),
        "w3": _lead(clinics, "w3", source=w, industry="Health"),
        "w4": _lead(labs, "w4", source=w, industry="Health"),
        "old": _lead(clinics, "old", source=v, industry="Health", at=MONDAY - timedelta(days=18)),
    }
    other = CustomerFactory(name="Globex", slug="globex-report")
    LeadFactory(campaign=DialerCampaignFactory(customer=other, name="Globex calls"), source=v)

    def call(lead, code, minutes):
        return Call.objects.create(
            lead=lead,
            caller=caller,
            disposition=disposition(lead.campaign, code),
            created_at=MONDAY + timedelta(minutes=minutes),
        )

    call(leads["a1"], "no_answer", 60)
    booked = call(leads["a2"], "meeting_booked", 60)
    call(leads["w2"], "meeting_booked", 60)
    call(leads["w3"], "gatekeeper", 60)
    for name, reason in (("a2", Block.Reason.QUALIFIED), ("w2", Block.Reason.NOT_QUALIFIED)):
        meeting = Meeting.objects.create(lead=leads[name], booked_by_call=booked if name == "a2" else None)
        BlockFactory(
            target=Block.Target.LEAD,
            lead=leads[name],
            source=Block.Source.MEETING_OUTCOME,
            reason=reason,
            reach=Block.Reach.CAMPAIGN,
            customer=customer,
            campaign=clinics,
            created_at=MONDAY + timedelta(days=1),
            evidence_type=ContentType.objects.get_for_model(Meeting),
            evidence_id=meeting.pk,
        )
    BlockFactory(
        target=Block.Target.ACCOUNT,
        account=leads["a3"].contact.account,
        source=Block.Source.CUSTOMER_DNC,
        reason=Block.Reason.DO_NOT_CALL,
        reach=Block.Reach.CUSTOMER,
        customer=customer,
        created_at=MONDAY - timedelta(days=10),
    )
    BlockFactory(
        target=Block.Target.CONTACT,
        contact=leads["a4"].contact,
        source=Block.Source.SUPPRESSION,
        reason=Block.Reason.SUPPRESSED,
        reach=Block.Reach.CUSTOMER,
        customer=customer,
        created_at=MONDAY + timedelta(minutes=10),
        lifted_at=MONDAY + timedelta(days=2),
        lifted_by_job="suppressions.rematch",
        lift_reason="The entry was removed.",
    )
    BlockFactory(
        target=Block.Target.LEAD,
        lead=leads["a5"],
        source=Block.Source.FIT_RULE,
        reason=Block.Reason.NOT_A_FIT,
        reach=Block.Reach.CAMPAIGN,
        customer=customer,
        campaign=clinics,
        created_at=MONDAY + timedelta(minutes=5),
        lifted_at=MONDAY + timedelta(days=1),
        lifted_by=ops,
        lift_reason="Retail clinics are in the profile.",
    )
    BlockFactory(
        target=Block.Target.LEAD,
        lead=leads["w3"],
        source=Block.Source.OPS_DISQUALIFY,
        reason=Block.Reason.NOT_INTERESTED,
        reach=Block.Reach.CAMPAIGN,
        customer=customer,
        campaign=clinics,
        actor=ops,
        actor_job="",
        note="zeta internal note",
        created_at=MONDAY + timedelta(days=3),
    )
    BlockFactory(
        target=Block.Target.PHONE,
        phone=leads["w4"].contact.phones.get().phone,
        source=Block.Source.DISPOSITION,
        reason=Block.Reason.DO_NOT_CALL,
        reach=Block.Reach.PLATFORM,
        created_at=MONDAY + timedelta(days=2),
    )
    lead_import = LeadImport.objects.create(
        campaign=clinics,
        original_name="vendor-a.csv",
        file=ContentFile(b"first_name\nx\n", name="vendor-a.csv"),
        source=v,
        status=LeadImport.Status.DONE,
        created_at=MONDAY,
    )
    for line in (2, 3):
        LeadImportIssue.objects.create(
            lead_import=lead_import, line_number=line, kind=LeadImportIssue.Kind.JUNK, rules="no_name", message="junk"
        )
    FitRule.objects.create(
        campaign=clinics, field=FitRule.Field.INDUSTRY, operator=FitRule.Operator.IN, values="Health"
    )
    FitRuleChange.objects.create(
        campaign=clinics,
        at=MONDAY - timedelta(hours=1),
        actor=ops,
        summary="added: industry is one of Health",
        rules_before=[],
        rules_after=["industry is one of Health"],
    )
    lead_statuses_recompute(leads=Lead.objects.filter(customer=customer), stages=True)
    if refresh:
        lead_facts_refresh(customer=customer, actor="tests")
        lead_facts_refresh(customer=other, actor="tests")
    return ReportScene(
        customer=customer,
        clinics=clinics,
        labs=labs,
        leads=leads,
        ops=ops,
        customer_user=customer_user,
        other_customer=other,
    )
