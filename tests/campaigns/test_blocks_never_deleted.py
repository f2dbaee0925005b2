"""A block is never deleted: not by the model, the queryset, raw SQL, nor a cascade."""

import pytest
from django.db import connection, transaction
from django.db.models.deletion import ProtectedError
from django.db.utils import DatabaseError, IntegrityError

from campaigns.models import Block, BlockDeletionError
from campaigns.services import BlockTarget, block_create
from tests.campaigns.factories import LeadFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def block():
    lead = LeadFactory()
    created, _ = block_create(
        target=BlockTarget(contact=lead.contact),
        source=Block.Source.OPS_DISQUALIFY,
        reason=Block.Reason.OTHER,
        reach=Block.Reach.CUSTOMER,
        actor="tests",
    )
    return created


def test_model_delete_is_refused(block):
    with pytest.raises(BlockDeletionError):
        block.delete()
    assert Block.objects.filter(pk=block.pk).exists()


def test_queryset_delete_is_refused(block):
    with pytest.raises(BlockDeletionError):
        Block.objects.filter(pk=block.pk).delete()
    assert Block.objects.filter(pk=block.pk).exists()


def test_the_database_refuses_a_raw_delete(block):
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM campaigns_block WHERE id = %s", [block.pk])
    assert Block.objects.filter(pk=block.pk).exists()


def test_deleting_the_blocked_contact_is_refused(block):
    with pytest.raises(ProtectedError):
        block.contact.delete()
    assert Block.objects.filter(pk=block.pk).exists()


def test_a_lift_without_a_reason_is_refused_by_the_database(block):
    from django.utils import timezone

    with pytest.raises(IntegrityError), transaction.atomic():
        Block.objects.filter(pk=block.pk).update(lifted_at=timezone.now(), lifted_by_job="tests")
