"""The lead stages progress bar (``{% stage_bar lead %}``): New → … → Meeting booked, then Qualified or
Unqualified at its right end, where the qualify and unqualify actions live."""

from __future__ import annotations

from django import template

from campaigns.models import Lead, LeadStage

register = template.Library()

PATH = (LeadStage.NEW, LeadStage.ATTEMPTED, LeadStage.CONNECTED, LeadStage.MEETING_BOOKED)
ENDS = (LeadStage.QUALIFIED, LeadStage.UNQUALIFIED)


@register.inclusion_tag("admin/campaigns/lead/stage_bar.html")
def stage_bar(lead: Lead, actions: bool = True) -> dict[str, object]:
    """Return the bar's steps for ``lead``: each stage on the path as done, current or to come, and the end."""
    stage = lead.stage
    at = PATH.index(stage) if stage in PATH else len(PATH)
    steps = [
        {"label": LeadStage(s).label, "state": "done" if i < at else "current" if i == at else "todo"}
        for i, s in enumerate(PATH)
    ]
    end = LeadStage(stage).label if stage in ENDS else "Qualified / Unqualified"
    return {"lead": lead, "steps": steps, "end": end, "ended": stage in ENDS, "actions": actions}
