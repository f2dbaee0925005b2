"""Many people at once, for search at scale (``tests/campaigns/test_search.py``, ``bench/search.py``)."""

from __future__ import annotations

import random

from campaigns.models import Account, Campaign, Contact, ContactEmail, ContactPhone, Lead, PhoneNumber

FIRST = ["James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David", "Elizabeth"]
LAST = ["Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez"]
WORDS = ["North", "Valley", "Family", "Dental", "Care", "Health", "Partners", "Clinic", "Group", "Center"]


def rows_add(campaign: Campaign, *, contacts: int, batch: int = 10_000, seed: int = 19) -> None:
    """Add ``contacts`` contacts to ``campaign``'s customer (ten per account), each with an email, a number and
    a lead in ``campaign``, with bulk inserts."""
    rng = random.Random(seed)
    customer = campaign.customer
    start = PhoneNumber.objects.count()
    for offset in range(0, contacts, batch):
        size = min(batch, contacts - offset)
        accounts = Account.objects.bulk_create(
            Account(
                customer=customer,
                name=f"{rng.choice(WORDS)} {rng.choice(WORDS)} {offset + i}",
                domain=f"acct{offset + i}.example",
            )
            for i in range(0, size, 10)
        )
        people = Contact.objects.bulk_create(
            Contact(
                customer=customer,
                account=accounts[i // 10],
                first_name=rng.choice(FIRST),
                last_name=f"{rng.choice(LAST)}{rng.randrange(1000)}",
            )
            for i in range(size)
        )
        ContactEmail.objects.bulk_create(
            ContactEmail(contact=c, email=f"p{offset + i}@acct{offset + i}.example", domain=f"acct{offset + i}.example")
            for i, c in enumerate(people)
        )
        phones = PhoneNumber.objects.bulk_create(
            PhoneNumber(e164=f"+1212{5_000_000 + start + offset + i}") for i in range(size)
        )
        ContactPhone.objects.bulk_create(
            ContactPhone(contact=c, phone=p, kind=ContactPhone.Kind.DIRECT) for c, p in zip(people, phones, strict=True)
        )
        Lead.objects.bulk_create(Lead(campaign=campaign, customer=customer, contact=c) for c in people)
