"""``{{ lead|waiting_words }}``: why a Waiting lead waits and until when, in words (``waiting_sentence``)."""

from __future__ import annotations

from django import template

from campaigns.models import Lead, LeadStatus
from campaigns.selectors.explaining import waiting_sentence

register = template.Library()


@register.filter
def waiting_words(lead: Lead) -> str:
    return waiting_sentence(lead) if lead.status == LeadStatus.WAITING else ""
