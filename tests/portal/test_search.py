"""The portal's lists find what a customer types: words across names, account and email; a number in any writing;
never another customer's people."""

import pytest
from django.urls import reverse

from tests.campaigns.factories import (
    AccountFactory,
    CampaignFactory,
    ContactEmailFactory,
    ContactFactory,
    ContactPhoneFactory,
    CustomerFactory,
    LeadFactory,
    PhoneNumberFactory,
)
from tests.portal.conftest import customer_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(client):
    customer = CustomerFactory(name="Northwind Health", slug="northwind")
    campaign = CampaignFactory(customer=customer)
    harbor = AccountFactory(customer=customer, name="Harbor Medical Group")
    mia = ContactFactory(account=harbor, first_name="Mia", last_name="Young")
    ContactEmailFactory(contact=mia, email="mia.young@harbormedical.org", domain="harbormedical.org")
    ContactPhoneFactory(contact=mia, phone=PhoneNumberFactory(e164="+12027266092"))
    LeadFactory(campaign=campaign, contact=mia)
    ContactFactory(account=AccountFactory(customer=customer, name="Oak Park Pharmacy"), first_name="Jo")
    # another customer's Mia Young at a Harbor Medical
    ContactFactory(
        account=AccountFactory(customer=CustomerFactory(slug="other"), name="Harbor Medical"),
        first_name="Mia",
        last_name="Young",
    )
    client.force_login(customer_user(customer, "nw.user"))
    return mia


@pytest.mark.parametrize("term", ["Mia Young", "Harbor Medical", "(202) 726-6092", "mia.young@harbormedical.org"])
def test_the_portal_contact_list_finds_what_people_type(client, signed_in, term):
    response = client.get(reverse("portal:contacts"), {"q": term})
    assert [c.pk for c in response.context["contacts"]] == [signed_in.pk]


def test_the_portal_account_list_finds_an_account_by_its_words_and_its_people(client, signed_in):
    for term in ("Harbor Medical", "Mia Young"):
        response = client.get(reverse("portal:accounts"), {"q": term})
        assert [a.pk for a in response.context["accounts"]] == [signed_in.account_id]
