"""The API's request and response shapes (also its OpenAPI description)."""

from __future__ import annotations

from django.core.validators import RegexValidator
from rest_framework import serializers

from campaigns.dialer.pool import PULL_MAX

# What the request fields refuse, said so that the OpenAPI description states it (``tests/campaigns/
# test_api_schema.py`` holds every request field's declared constraints to what the API refuses, both ways).
# A text field may not be blank, and DRF reads it with its surrounding spaces trimmed: at least one
# character that is not a space. No text may hold a NUL character (DRF and PostgreSQL refuse it).
NOT_BLANK = r"^[^\x00]*[^\s\x00][^\x00]*$"
NO_NUL = r"^[^\x00]*$"


class StrictCharField(serializers.CharField):
    """A JSON string, as the schema says: a number or a boolean is refused, not turned into text."""

    default_error_messages = {"invalid": "Not a string."}

    def __init__(self, **kwargs):
        kwargs.setdefault("min_length", 1)
        super().__init__(**kwargs)
        self.validators.append(RegexValidator(NOT_BLANK, message="Write some text, without NUL characters."))

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictTextField(serializers.CharField):
    """A JSON string that may be empty or all spaces, kept as written, with no NUL character.

    Not ``allow_blank``: drf-spectacular would then wrap the pattern in a ``oneOf`` with the empty string,
    which the empty string matches twice (so a strict client would refuse it); the empty string is let
    through here instead.
    """

    default_error_messages = {"invalid": "Not a string."}

    def __init__(self, **kwargs):
        super().__init__(trim_whitespace=False, **kwargs)
        self.validators.append(RegexValidator(NO_NUL, message="Write text without NUL characters."))

    def run_validation(self, data=serializers.empty):
        if data == "":
            return ""
        return super().run_validation(data)

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer, as the schema says: a string or a boolean is refused, not read as a number."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    field = serializers.CharField(help_text="The request field the error is about, or empty.")


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


class ReasonSerializer(serializers.Serializer):
    code = serializers.CharField(
        help_text="e.g. platform_dnc, suppression, disposition, not_contacts_number; calling_window or "
        "frequency_cap when the number may be called, only not now (none_callable_now: an empty pull's)."
    )
    message = serializers.CharField(help_text="One plain sentence: who, when, through what, how to lift it.")
    block_id = serializers.IntegerField(allow_null=True)
    next_allowed_at = serializers.DateTimeField(
        required=False,
        allow_null=True,
        help_text="calling_window, frequency_cap and none_callable_now only: the first moment this reason no longer "
        "holds (null when none is known: a number that cannot be placed, windows that never meet).",
    )
    rule = serializers.CharField(
        required=False,
        help_text="calling_window and frequency_cap only: the rule that holds, a jurisdiction's code (us-fl), "
        "campaign_hours, unplaceable, or number_cap, contact_cap, account_cap.",
    )
    count = serializers.IntegerField(
        required=False, help_text="frequency_cap only: the calls of the last 24 hours the cap counted."
    )


class PullRequestSerializer(serializers.Serializer):
    caller = StrictCharField(max_length=150, help_text="The caller's username.")
    count = StrictIntegerField(min_value=1, max_value=PULL_MAX, default=1)


class PulledContactSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    title = serializers.CharField(allow_blank=True)
    account = serializers.CharField()


class PulledNumberSerializer(serializers.Serializer):
    number = serializers.CharField(help_text="E.164.")
    kind = serializers.CharField()
    dialable = serializers.BooleanField(
        help_text="Whether it may be dialled now: no block, inside its window, under its caps."
    )
    reason = ReasonSerializer(allow_null=True, help_text="Why it may not be dialled now, when it may not.")


class PulledLeadSerializer(serializers.Serializer):
    lead_id = serializers.IntegerField()
    priority = serializers.IntegerField()
    attempts = serializers.IntegerField()
    last_attempt_at = serializers.DateTimeField(allow_null=True)
    contact = PulledContactSerializer()
    numbers = PulledNumberSerializer(many=True)
    lease_expires_at = serializers.DateTimeField()


class PullResponseSerializer(serializers.Serializer):
    leads = PulledLeadSerializer(many=True)
    reasons = ReasonSerializer(
        many=True,
        help_text=(
            "Why no lead came back when something holds the pull (code suppression_upload_pending: the customer's "
            "suppression upload is still being loaded), or when the leads at the head of the pool may be called only "
            "later (code none_callable_now, with next_allowed_at: when the first of them may be called; they stay "
            "Eligible); empty when leads came back or the pool is simply dry."
        ),
    )


class DialCheckQuerySerializer(serializers.Serializer):
    number = StrictCharField(max_length=64, help_text="The number in any writing; read with the customer's region.")
    at = serializers.DateTimeField(
        required=False,
        help_text="For the dialer's own audit: answer as of this past moment (ISO 8601; a moment to come is "
        "refused), from what was in force then. Such an answer is never recorded as a verdict.",
    )


class DialCheckResponseSerializer(serializers.Serializer):
    allowed = serializers.BooleanField()
    number = serializers.CharField(help_text="The number as E.164.")
    reasons = ReasonSerializer(many=True)
    next_allowed_at = serializers.DateTimeField(
        allow_null=True,
        help_text="When only calling_window or frequency_cap reasons refuse: the first moment none of them holds. "
        "Null when allowed, when a block refuses, or when no such moment is known.",
    )


class CallRequestSerializer(serializers.Serializer):
    caller = StrictCharField(max_length=150, help_text="The caller's username.")
    number = StrictCharField(max_length=64, help_text="The number dialled, in any writing.")
    disposition = StrictCharField(max_length=40, help_text="A disposition code of the lead's campaign.")
    notes = StrictTextField(required=False, default="", help_text="The caller's notes; the customer never sees them.")
    callback_at = serializers.DateTimeField(
        required=False,
        allow_null=True,
        default=None,
        help_text="When to call back (required for a callback disposition); the meeting time for Meeting booked.",
    )


class LeadStateSerializer(serializers.Serializer):
    lead_id = serializers.IntegerField()
    status = serializers.CharField(help_text="eligible, waiting or disqualified.")
    waiting_reason = serializers.CharField(allow_blank=True)
    waiting_until = serializers.DateTimeField(allow_null=True)
    reasons = ReasonSerializer(many=True, help_text="Why the lead may not be called, when it may not.")


class CallResponseSerializer(LeadStateSerializer):
    call_id = serializers.IntegerField()
    replayed = serializers.BooleanField(help_text="True when this Idempotency-Key was seen before.")


class ReleaseRequestSerializer(serializers.Serializer):
    caller = StrictCharField(
        max_length=150, required=False, help_text="When given, only this caller's lease is released."
    )
