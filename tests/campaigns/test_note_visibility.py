"""A note ops write on a block is internal unless they tick "Show this note to the customer" in its form."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from campaigns.models import Block, Contact, Lead, PhoneNumber
from campaigns.selectors.explaining import CUSTOMER, OPS, block_sentence
from campaigns.services import BlockTarget, block_create
from tests.campaigns.factories import UserFactory
from tests.campaigns.test_admin_workflows import create_ops_groups, run_action
from tests.campaigns.workflow_scenes import switchboard_scene
from tests.portal.conftest import customer_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def ops(client):
    create_ops_groups()
    user = UserFactory(username="olga")
    user.groups.add(Group.objects.get(name="Ops"))
    client.force_login(user)
    return user


@pytest.fixture
def scene():
    return switchboard_scene()


@pytest.mark.parametrize(
    ("model", "action"),
    [
        (Contact, "disqualify_contacts"),
        (Contact, "customer_dnc_contacts"),
        (PhoneNumber, "mark_phone_dnc"),
    ],
)
def test_every_note_field_says_beside_it_that_the_note_is_internal_unless_shown(client, ops, scene, model, action):
    # given
    ids = [scene.board.pk] if model is PhoneNumber else [scene.tom.contact_id]

    # when
    page = run_action(client, model, action, ids).content.decode()

    # then
    assert "Show this note to the customer" in page
    assert "Internal: only agency staff read it" in page
    assert "the customer reads the note word for word in its portal and through its API key" in page


def test_unqualify_reopen_undisqualify_and_record_call_say_their_words_stay_internal(client, ops, scene):
    # when
    unqualify = run_action(client, Lead, "unqualify_leads", [scene.tom.pk]).content.decode()
    call = client.get(reverse("admin:campaigns_lead_record_call", args=[scene.tom.pk])).content.decode()

    # then
    assert "Show this note to the customer" in unqualify
    assert "Internal: the customer never sees it." in call


@pytest.mark.parametrize(("ticked", "shown"), [({}, False), ({"note_shown": "on"}, True)])
def test_disqualify_stores_whether_ops_showed_the_note(client, ops, scene, ticked, shown):
    # when
    run_action(
        client,
        Contact,
        "disqualify_contacts",
        [scene.tom.contact_id],
        post="yes",
        reason=Block.Reason.COMPETITOR,
        reach="customer",
        note="Works for a rival",
        **ticked,
    )

    # then
    block = Block.objects.get(source=Block.Source.OPS_DISQUALIFY, note="Works for a rival")
    assert block.note_shown is shown
    customer_words = block_sentence(block, audience=CUSTOMER)
    assert ("Works for a rival" in customer_words) is shown
    assert "Works for a rival" in block_sentence(block, audience=OPS)
    assert "olga" not in customer_words


def test_a_customers_own_note_is_its_own_to_read(scene):
    # given
    user = customer_user(scene.tom.customer, "tom-boss")
    block, _ = block_create(
        target=BlockTarget(contact=scene.tom.contact),
        source=Block.Source.CUSTOMER_DNC,
        reason=Block.Reason.DO_NOT_CALL,
        reach=Block.Reach.CUSTOMER,
        actor=user,
        note="our own words",
    )

    # then
    assert block.note_for_customer == "our own words"
    assert 'Note: "our own words"' in block_sentence(block, audience=CUSTOMER)
