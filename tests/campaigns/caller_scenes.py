"""A scene for approved callers in the admin: Amy Lee works one campaign of a clinic customer; the customer's
other campaign and another customer's campaign are full of things she must never see, each named with words
distinctive enough that a test can say "none of them appears anywhere"."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import Group

from campaigns.models import (
    Account,
    Block,
    Campaign,
    Contact,
    ContactPhone,
    Customer,
    Disposition,
    Lead,
    PhoneNumber,
    User,
)
from campaigns.services import BlockTarget, block_create, blocks_lift
from campaigns.services.callers import callers_approve
from campaigns.services.calls import call_record, lead_unqualify
from campaigns.services.workflows import contacts_disqualify, phone_numbers_mark_dnc
from tests.campaigns.api_factories import DialerCampaignFactory, disposition
from tests.campaigns.factories import (
    AccountFactory,
    ContactEmailFactory,
    ContactFactory,
    ContactPhoneFactory,
    CustomerFactory,
    LeadFactory,
    PhoneNumberFactory,
    UserFactory,
    staff_groups_create,
)

PASSWORD = "pw-for-tests-1"


@dataclass
class CallerScene:
    """Amy is approved for ``mine`` only.

    At Riverside Family Clinic (customer Acme Clinics): Maria (the switchboard and a mobile) and Tom (the
    switchboard) have leads in ``mine``; Tom has one in ``sibling`` too, the customer's other campaign, Eligible;
    Quentin (the switchboard, and a direct line) only in ``sibling``, disqualified there by ops. Obscura Holdings
    has Xena, only in ``sibling``, unqualified by Ben. Customer Globex Zeta's Quincy, in ``theirs``, shares the
    switchboard (Do Not Call for Globex Zeta only) and Maria's mobile; Ben, approved for ``sibling`` and
    ``theirs``, recorded a Do Not Call on Maria's mobile from Quincy's lead and marked it again with a note. Ops
    once marked the switchboard Do Not Call with a note and lifted it with a reason.
    """

    amy: User
    ben: User
    ops: User
    customer: Customer
    other_customer: Customer
    mine: Campaign
    sibling: Campaign
    theirs: Campaign
    clinic: Account
    obscura: Account
    quuxberg: Account
    board: PhoneNumber
    mobile: PhoneNumber
    quentins_line: PhoneNumber
    quincys_line: PhoneNumber
    maria: Lead
    tom: Lead
    tom_sibling: Lead
    quentin: Lead
    xena: Lead
    quincy: Lead
    secrets: list[str] = field(default_factory=list)

    @property
    def hidden_leads(self) -> list[Lead]:
        return [self.tom_sibling, self.quentin, self.xena, self.quincy]

    @property
    def hidden_contacts(self) -> list[Contact]:
        return [self.quentin.contact, self.xena.contact, self.quincy.contact]


def member_of(group: str, username: str, **fields) -> User:
    staff_groups_create()
    user = UserFactory(username=username, **fields)
    user.groups.add(Group.objects.get(name=group))
    return user


def _person(account: Account, first: str, last: str, phones: list[tuple[PhoneNumber, str]], email: str) -> Contact:
    contact = ContactFactory(account=account, first_name=first, last_name=last)
    for phone, kind in phones:
        ContactPhoneFactory(contact=contact, phone=phone, kind=kind)
    ContactEmailFactory(contact=contact, email=email, domain=email.split("@")[1])
    return contact


def caller_scene() -> CallerScene:
    office, mobile_kind, direct = ContactPhone.Kind.OFFICE, ContactPhone.Kind.MOBILE, ContactPhone.Kind.DIRECT
    ops = member_of("Ops", "olga")
    amy = member_of("Callers", "amy.lee", first_name="Amy", last_name="Lee")
    ben = member_of("Callers", "ben.okafor", first_name="Ben", last_name="Okafor")

    customer = CustomerFactory(name="Acme Clinics", slug="acme-clinics")
    other_customer = CustomerFactory(name="Globex Zeta", slug="globex-zeta")
    mine = DialerCampaignFactory(customer=customer, name="Clinic outreach Q3")
    sibling = DialerCampaignFactory(customer=customer, name="Hidden Harvest Drive")
    theirs = DialerCampaignFactory(customer=other_customer, name="Zephyr Campaign")
    callers_approve(callers=[amy], campaigns=[mine], actor=ops)
    callers_approve(callers=[ben], campaigns=[sibling, theirs], actor=ops)

    board = PhoneNumberFactory(e164="+12025550143")
    mobile = PhoneNumberFactory(e164="+16465550188")
    quentins_line = PhoneNumberFactory(e164="+12025550777")
    quincys_line = PhoneNumberFactory(e164="+13105559871")
    xenas_line = PhoneNumberFactory(e164="+12025550999")

    clinic = AccountFactory(customer=customer, name="Riverside Family Clinic", domain="riverside-clinic.example")
    maria_c = _person(
        clinic, "Maria", "Lopez", [(board, office), (mobile, mobile_kind)], "maria@riverside-clinic.example"
    )
    tom_c = _person(clinic, "Tom", "Becker", [(board, office)], "tom@riverside-clinic.example")
    quentin_c = _person(
        clinic,
        "Quentin",
        "Hiddenfield",
        [(board, office), (quentins_line, direct)],
        "quentin.h@riverside-clinic.example",
    )
    obscura = AccountFactory(customer=customer, name="Obscura Holdings", domain="obscura-holdings.example")
    xena_c = _person(obscura, "Xena", "Obscura", [(xenas_line, direct)], "xena@obscura-holdings.example")
    quuxberg = AccountFactory(customer=other_customer, name="Quuxberg Holdings", domain="quuxberg.example")
    quincy_c = _person(
        quuxberg,
        "Quincy",
        "Zimmerwald",
        [(board, office), (mobile, mobile_kind), (quincys_line, direct)],
        "quincy@quuxberg.example",
    )

    maria = LeadFactory(campaign=mine, contact=maria_c, with_phone=False)
    tom = LeadFactory(campaign=mine, contact=tom_c, with_phone=False)
    tom_sibling = LeadFactory(campaign=sibling, contact=tom_c, with_phone=False)
    quentin = LeadFactory(campaign=sibling, contact=quentin_c, with_phone=False)
    xena = LeadFactory(campaign=sibling, contact=xena_c, with_phone=False)
    quincy = LeadFactory(campaign=theirs, contact=quincy_c, with_phone=False)

    # What happened outside Amy's campaign, with words of its own: Globex Zeta's catalogue says "Do not call" its
    # own way, and a note and a lift reason were written there.
    Disposition.objects.filter(campaign=theirs, code="do_not_call").update(label="Zephyr asked: do not call")
    call_record(
        lead=quincy,
        caller=ben,
        disposition=disposition(theirs, "do_not_call"),
        number=mobile.e164,
        notes="zeta call notes about Quincy",
        actor=ben,
    )
    block_create(
        target=BlockTarget(phone=mobile),
        source=Block.Source.OPS_PHONE_DNC,
        reason=Block.Reason.DO_NOT_CALL,
        reach=Block.Reach.PLATFORM,
        actor=ben,
        caller_campaign=theirs,
        evidence_text="Do not call, Zephyr Campaign, Quincy Zimmerwald",
        note="zeta secret note",
    )
    mistake, _ = block_create(
        target=BlockTarget(phone=board),
        source=Block.Source.OPS_PHONE_DNC,
        reason=Block.Reason.DO_NOT_CALL,
        reach=Block.Reach.PLATFORM,
        actor=ops,
        note="zeta ops note",
    )
    blocks_lift(blocks=Block.objects.filter(pk=mistake.pk), actor=ops, reason="zeta lift reason")
    phone_numbers_mark_dnc(
        phones=PhoneNumber.objects.filter(pk=board.pk),
        reach=Block.Reach.CUSTOMER,
        customer=other_customer,
        actor=ops,
        note="globex only note",
    )
    call_record(
        lead=quentin,
        caller=ben,
        disposition=disposition(sibling, "no_answer"),
        number=quentins_line.e164,
        notes="harvest call notes",
        actor=ben,
    )
    contacts_disqualify(
        contacts=Contact.objects.filter(pk=quentin_c.pk),
        reason=Block.Reason.NOT_A_FIT,
        reach=Block.Reach.CAMPAIGN,
        campaign=sibling,
        actor=ops,
        note="harvest internal note",
    )
    lead_unqualify(lead=xena, reason=Block.Reason.WRONG_NUMBER, actor=ben, note="harvest unqualify note")
    # What ops' workflows log on rows every campaign shares (Tom's contact, the shared switchboard).
    LogEntry.objects.log_actions(
        user_id=ops.pk,
        queryset=Contact.objects.filter(pk=tom_c.pk),
        action_flag=CHANGE,
        change_message="Disqualified in the campaign Hidden Harvest Drive (Not a fit) with the Disqualify workflow.",
    )
    LogEntry.objects.log_actions(
        user_id=ops.pk,
        queryset=PhoneNumber.objects.filter(pk=board.pk),
        action_flag=CHANGE,
        change_message="Marked Do Not Call for Globex Zeta with the Mark Phone DNC workflow.",
    )
    for lead in (maria, tom, tom_sibling, quentin, xena, quincy):
        lead.refresh_from_db()
    secrets = [
        "Hidden Harvest Drive",
        "Quentin",
        "Hiddenfield",
        "quentin.h@riverside-clinic.example",
        "Xena",
        "Obscura",
        "Globex Zeta",
        "globex-zeta",
        "Zephyr",
        "Quuxberg",
        "Quincy",
        "Zimmerwald",
        "zeta secret note",
        "zeta call notes",
        "globex only note",
        "harvest internal note",
        "harvest call notes",
        "harvest unqualify note",
        "zeta ops note",
        "zeta lift reason",
        *(n for p in (quentins_line, quincys_line, xenas_line) for n in _writings(p.e164)),
    ]
    return CallerScene(
        amy=amy,
        ben=ben,
        ops=ops,
        customer=customer,
        other_customer=other_customer,
        mine=mine,
        sibling=sibling,
        theirs=theirs,
        clinic=clinic,
        obscura=obscura,
        quuxberg=quuxberg,
        board=board,
        mobile=mobile,
        quentins_line=quentins_line,
        quincys_line=quincys_line,
        maria=maria,
        tom=tom,
        tom_sibling=tom_sibling,
        quentin=quentin,
        xena=xena,
        quincy=quincy,
        secrets=secrets,
    )


def _writings(e164: str) -> list[str]:
    """Return the ways a page may write a number: E.164, national digits, and the formatted form."""
    from leadops.normalizing import format_phone

    return [e164, e164[2:] if e164.startswith("+1") else e164[1:], format_phone(e164)]


def leaks(body: str, secrets: list[str]) -> list[str]:
    lowered = body.lower()
    return [s for s in secrets if s.lower() in lowered]
