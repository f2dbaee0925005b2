"""The words of Unqualify and Reopen, written once: the reasons with their definitions (the form and the
sentences), and what Reopen will and will not undo (its confirmation)."""

from __future__ import annotations

from campaigns.models import Block
from campaigns.rules import UNQUALIFY_DEFINITIONS, UNQUALIFY_REASONS


def unqualify_reason_words(reason: str) -> str:
    """Return a reason with its definition: ``Wrong number: the call connected, but …``."""
    definition = UNQUALIFY_DEFINITIONS[reason]
    return f"{Block.Reason(reason).label}: {definition[0].lower()}{definition[1:]}"


def unqualify_choices() -> list[tuple[str, str]]:
    """Return the form's choices: each unqualify reason with its definition."""
    return [(reason, unqualify_reason_words(reason)) for reason in UNQUALIFY_REASONS]


def reopen_words() -> str:
    """Return what Reopen will and will not undo, for its confirmation."""
    return (
        "Reopening will lift what unqualified these leads: the Unqualify reason, or the attempt cap (whose count "
        "of attempts starts again), so they return to the pool and their stage steps back to what their calls "
        "say. It will not lift anything else: a Do Not Call, a customer's suppression or CRM rule, a fit rule "
        "or a meeting's outcome stay (Undisqualify lifts those), and calls already made stay on record."
    )
