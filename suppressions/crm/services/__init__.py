"""Writes of the CRM integration: receive events, fold them into records, evaluate rules."""

from suppressions.crm.services.connections import (
    crm_connection_create,
    crm_connection_secret_rotate,
    crm_connection_update,
)
from suppressions.crm.services.events import (
    ReceiveResult,
    crm_events_process,
    crm_events_receive,
    hubspot_to_events,
    validate_events,
)
from suppressions.crm.services.rules import (
    crm_rule_create,
    crm_rule_evaluate,
    crm_rule_switch,
    crm_rule_templates_add,
    crm_rule_update,
    crm_rules_evaluate,
    crm_rules_templates_add,
    matching_records,
)

__all__ = [
    "ReceiveResult",
    "crm_connection_create",
    "crm_connection_secret_rotate",
    "crm_connection_update",
    "crm_events_process",
    "crm_events_receive",
    "crm_rule_create",
    "crm_rule_evaluate",
    "crm_rule_switch",
    "crm_rule_templates_add",
    "crm_rule_update",
    "crm_rules_evaluate",
    "crm_rules_templates_add",
    "hubspot_to_events",
    "matching_records",
    "validate_events",
]
