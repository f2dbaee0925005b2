"""Connect a customer's CRM: the connection its webhook and file uploads arrive through."""

from __future__ import annotations

import logging

from django.db import transaction

from campaigns.models import Customer
from campaigns.services import Actor
from campaigns.services.actors import actor_label
from suppressions.crm.models import CrmConnection, new_secret

logger = logging.getLogger(__name__)


def crm_connection_create(
    *, customer: Customer, name: str, kind: str, secret: str | None = None, is_active: bool = True, actor: Actor
) -> CrmConnection:
    """Connect a CRM of ``customer``; its webhook bodies are signed with ``secret`` (a fresh one when omitted)."""
    connection = CrmConnection(customer=customer, name=name, kind=kind, is_active=is_active)
    if secret is not None:
        connection.secret = secret
    connection.full_clean()
    connection.save()
    logger.info("CRM connection #%s added by %s", connection.pk, actor_label(actor))
    return connection


def crm_connection_update(
    *, connection: CrmConnection, name: str, kind: str, secret: str, is_active: bool, actor: Actor
) -> CrmConnection:
    """Rename a connection, change its kind or secret, or switch it off (its webhook then answers 404); its
    customer never changes: the records it brought are that customer's."""
    with transaction.atomic():
        connection = CrmConnection.objects.select_for_update().get(pk=connection.pk)
        connection.name, connection.kind, connection.secret, connection.is_active = name, kind, secret, is_active
        connection.full_clean()
        connection.save(update_fields=["name", "kind", "secret", "is_active"])
    logger.info("CRM connection #%s changed by %s", connection.pk, actor_label(actor))
    return connection


def crm_connection_secret_rotate(*, connection: CrmConnection, actor: Actor) -> CrmConnection:
    """Give ``connection`` a fresh signing secret; from the commit on, a body signed with the old one is refused
    (the webhook reads the secret from the database on every request). Return it with the new secret, to be
    shown once."""
    with transaction.atomic():
        connection = CrmConnection.objects.select_for_update().get(pk=connection.pk)
        connection.secret = new_secret()
        connection.save(update_fields=["secret"])
    logger.info("CRM connection #%s secret rotated by %s", connection.pk, actor_label(actor))
    return connection
