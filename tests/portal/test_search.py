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


def test_a_searched_portal_list_counts_to_the_search_cap_and_says_more_than(client, settings, monkeypatch):
    # given: a customer with three Youngs and a search cap of 2
    customer = CustomerFactory(name="Northwind Health", slug="northwind")
    for first in ("Mia", "Ann", "Bo"):
        ContactFactory(account=AccountFactory(customer=customer, name=f"{first} Clinic"), last_name="Young")
    client.force_login(customer_user(customer, "nw.count"))
    settings.LEADOPS_SEARCH_COUNT_LIMIT = 2
    # when: the contact list is searched, one row a page (so that the pages and their count are shown)
    import campaigns.portal.views as views

    monkeypatch.setattr(views._page, "__defaults__", (1,))
    response = client.get(reverse("portal:contacts"), {"q": "Young"})
    # then: it counts no further than the cap and says the count is a lower bound
    page = response.context["contacts"]
    assert (page.paginator.count_qualifier, page.paginator.count) == ("more than", 2)
    assert "more than 2 in all" in response.content.decode()


def test_a_portal_list_counts_with_thousands_grouped(signed_in, client, monkeypatch):
    # given: a count of 12,345 (the project leaves USE_THOUSAND_SEPARATOR off)
    from leadops.pagination import BoundedCountPaginator

    monkeypatch.setattr(BoundedCountPaginator, "count", 12_345)
    # when: the contact list is shown
    response = client.get(reverse("portal:contacts"))
    # then: the number is grouped
    assert "12,345 in all" in response.content.decode()


def test_the_contact_list_narrows_by_an_account_typed_not_picked_from_every_account(
    client, signed_in, django_assert_max_num_queries
):
    # given: a customer with many accounts (a real one may have a hundred thousand)
    customer = signed_in.customer
    for index in range(120):
        AccountFactory(customer=customer, name=f"Clinic {index:03d}")
    # when: the list is opened, and narrowed to an account by its words
    with django_assert_max_num_queries(15):
        opened = client.get(reverse("portal:contacts"))
    narrowed = client.get(reverse("portal:contacts"), {"account": "harbor med"})
    # then: no list of every account is rendered; the typed account finds its own people only
    assert b"Clinic 119" not in opened.content
    assert b'name="account"' in opened.content
    assert [c.pk for c in narrowed.context["contacts"]] == [signed_in.pk]
    assert list(client.get(reverse("portal:contacts"), {"account": "Nowhere Inc"}).context["contacts"]) == []
