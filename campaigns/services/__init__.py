"""Writes: every state change in leadops is one of these functions."""

from campaigns.services.actors import Actor
from campaigns.services.blocks import BlockTarget, block_create, blocks_lift, leads_reached_by
from campaigns.services.directory import (
    account_create,
    account_update,
    campaign_create,
    campaign_update,
    contact_create,
    contact_email_add,
    contact_phone_add,
    contact_update,
    customer_create,
    customer_update,
    disposition_create,
    disposition_update,
    lead_create,
    lead_update,
    phone_number_get_or_create,
)
from campaigns.services.scrubbing import contacts_scrub, scrub_step_register
from campaigns.services.statuses import (
    StatusDrift,
    lead_statuses_blocks_added,
    lead_statuses_check,
    lead_statuses_recompute,
    leads_wake_waiting,
)
from campaigns.services.undisqualify import UndisqualifyResult, lead_undisqualify

__all__ = [
    "Actor",
    "BlockTarget",
    "StatusDrift",
    "UndisqualifyResult",
    "account_create",
    "account_update",
    "block_create",
    "blocks_lift",
    "campaign_create",
    "campaign_update",
    "contact_create",
    "contact_email_add",
    "contact_phone_add",
    "contact_update",
    "contacts_scrub",
    "customer_create",
    "customer_update",
    "disposition_create",
    "disposition_update",
    "lead_create",
    "lead_statuses_blocks_added",
    "lead_statuses_check",
    "lead_statuses_recompute",
    "lead_undisqualify",
    "lead_update",
    "leads_reached_by",
    "leads_wake_waiting",
    "phone_number_get_or_create",
    "scrub_step_register",
]
