"""Forms of the admin's add pages: they read what ops type and say what is wrong before a service runs.

The services normalise and guard again; these only turn the same refusals into form errors.
"""

from __future__ import annotations

from django import forms

from campaigns.models import Account, Contact, ContactPhone, Lead
from campaigns.selectors.explaining import moment_parse
from campaigns.selectors.scope import campaigns_visible_to, customers_visible_to
from campaigns.selectors.unqualifying import reopen_words, unqualify_choices
from leadops.errors import LeadopsError
from leadops.normalizing import NormalizationError, format_phone, normalize_domain, normalize_email, normalize_phone


class AccountAddForm(forms.ModelForm):
    class Meta:
        model = Account
        fields = ["customer", "name", "domain"]

    def clean_domain(self) -> str:
        domain = self.cleaned_data.get("domain", "")
        if not domain.strip():
            return ""
        try:
            return normalize_domain(domain)
        except NormalizationError as exc:
            raise forms.ValidationError(exc.message) from exc


class ContactForm(forms.ModelForm):
    """The contact's names, plus one number to add (and on the add page, one email address)."""

    new_phone = forms.CharField(
        required=False,
        label="Add a number",
        help_text="Any writing; national numbers are read with the customer's region. Shared numbers "
        "(a switchboard) are stored once.",
    )
    new_phone_kind = forms.ChoiceField(
        choices=ContactPhone.Kind.choices, initial=ContactPhone.Kind.DIRECT, label="Kind of number"
    )
    new_email = forms.CharField(required=False, label="Email address")

    class Meta:
        model = Contact
        fields = ["account", "first_name", "last_name", "title"]

    def _region(self) -> str:
        account = self.cleaned_data.get("account") or getattr(self.instance, "account", None)
        return account.customer.phone_region if account is not None else "US"

    def clean(self):
        cleaned = super().clean()
        raw_phone = (cleaned.get("new_phone") or "").strip()
        if raw_phone:
            try:
                normalize_phone(raw_phone, self._region())
            except NormalizationError as exc:
                self.add_error("new_phone", exc.message)
        raw_email = (cleaned.get("new_email") or "").strip()
        if raw_email:
            try:
                cleaned["new_email"] = normalize_email(raw_email)
            except NormalizationError as exc:
                self.add_error("new_email", exc.message)
        return cleaned


class LeadAddForm(forms.ModelForm):
    class Meta:
        model = Lead
        fields = ["campaign", "contact", "priority", "source"]

    def clean(self):
        cleaned = super().clean()
        campaign, contact = cleaned.get("campaign"), cleaned.get("contact")
        if campaign is not None and contact is not None and contact.customer_id != campaign.customer_id:
            self.add_error("contact", "A lead's contact must belong to the campaign's customer.")
        return cleaned


# --- workflows ------------------------------------------------------------------------------------

# Beside every note ops write on a block: the customer reads it only when this is ticked.
INTERNAL_NOTE_HELP = "Internal: only agency staff read it, unless you tick “Show this note to the customer” below."
NOTE_SHOWN_LABEL = "Show this note to the customer"
NOTE_SHOWN_HELP = (
    "Ticked, the customer reads the note word for word in its portal and through its API key, beside the "
    "reason. Leave it unticked for anything meant for colleagues (names, competitors, how you found out)."
)
# Beside the words ops write that no customer page ever shows.
NEVER_SHOWN_HELP = "Internal: the customer never sees it."


def note_field(**kwargs) -> forms.CharField:
    """Return a block's note field, saying beside it who reads it."""
    kwargs.setdefault("required", False)
    kwargs.setdefault("help_text", INTERNAL_NOTE_HELP)
    return forms.CharField(widget=forms.Textarea(attrs={"rows": 2, "cols": 60}), **kwargs)


def note_shown_field() -> forms.BooleanField:
    return forms.BooleanField(required=False, initial=False, label=NOTE_SHOWN_LABEL, help_text=NOTE_SHOWN_HELP)


# The confirmation pages' forms. Each carries ``previewed``: the choices the page's "what will change"
# was computed for. A confirmation whose choices differ from what was shown is shown again, never run.


class WorkflowForm(forms.Form):
    previewed = forms.CharField(required=False, widget=forms.HiddenInput)

    def impact_key(self, data: dict | None = None) -> str:
        """Return the choices the impact depends on, as a string; empty when it depends on none."""
        return ""

    def previewed_matches(self) -> bool:
        return self.cleaned_data.get("previewed", "") == self.impact_key(self.cleaned_data)


class DisqualifyForm(WorkflowForm):
    reason = forms.ChoiceField(choices=())
    reach = forms.ChoiceField(choices=(), widget=forms.RadioSelect, initial="customer", label="Disqualify for")
    campaign = forms.ModelChoiceField(queryset=None, required=False, help_text="Only when one campaign.")
    days = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=3650,
        label="For how many days",
        help_text="Empty: until someone lifts it (Undisqualify). 90 for 'do not call for 90 days': the block then "
        "ends by itself, and Undisqualify may still lift it early.",
    )
    note = note_field()
    note_shown = note_shown_field()

    def __init__(self, *args, customer_ids=(), user, **kwargs):
        from campaigns.models import DISQUALIFY_REASONS, Block
        from campaigns.services.workflows import DISQUALIFY_REACHES

        super().__init__(*args, **kwargs)
        self.fields["reason"].choices = [("", "—")] + [(r, Block.Reason(r).label) for r in DISQUALIFY_REASONS]
        self.fields["reach"].choices = [
            (r, "Every campaign of the customer" if r == Block.Reach.CUSTOMER else "One campaign")
            for r in DISQUALIFY_REACHES
        ]
        # One campaign: of the customer, and one the user works (an approved caller's own campaigns only).
        self.fields["campaign"].queryset = campaigns_visible_to(user).filter(customer_id__in=customer_ids)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("reach") == "campaign" and not cleaned.get("campaign"):
            self.add_error("campaign", "Choose the campaign.")
        return cleaned


class PhoneDncForm(WorkflowForm):
    reach = forms.ChoiceField(
        choices=(("platform", "Every customer (the person asked not to be called)"), ("customer", "One customer")),
        widget=forms.RadioSelect,
        initial="platform",
        label="Do not call for",
    )
    customer = forms.ModelChoiceField(queryset=None, required=False, help_text="Only when one customer.")
    note = note_field()
    note_shown = note_shown_field()

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        # One customer: any for ops, a customer of their campaigns for an approved caller.
        self.fields["customer"].queryset = customers_visible_to(user)

    def impact_key(self, data=None) -> str:
        data = self.cleaned_data if data is None else data
        customer = data.get("customer")
        reach = data.get("reach") or "platform"
        return reach if reach == "platform" else f"customer:{getattr(customer, 'pk', customer) or ''}"

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("reach") == "customer" and not cleaned.get("customer"):
            self.add_error("customer", "Choose the customer.")
        return cleaned


class CustomerDncForm(WorkflowForm):
    note = note_field(
        required=True,
        label="The customer's instruction",
        help_text="Who at the customer asked, when and how (e.g. 'Email from J. Doe, 2026-11-20'). "
        + INTERNAL_NOTE_HELP,
    )
    note_shown = note_shown_field()


class UndisqualifyForm(WorkflowForm):
    blocks = forms.TypedMultipleChoiceField(
        choices=(), coerce=int, widget=forms.CheckboxSelectMultiple, label="Lift these blocks"
    )
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        label="Why",
        help_text=f"Mandatory; kept on each block. {NEVER_SHOWN_HELP}",
    )

    def __init__(self, *args, block_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["blocks"].choices = list(block_choices)
        if not self.is_bound:
            self.fields["blocks"].initial = [pk for pk, _ in block_choices]


class UnqualifyForm(WorkflowForm):
    reason = forms.ChoiceField(choices=())
    note = note_field()
    note_shown = note_shown_field()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].choices = [("", "—"), *unqualify_choices()]


class ReopenForm(WorkflowForm):
    @property
    def what_it_does(self) -> str:
        return reopen_words()

    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}), label="Why", help_text=NEVER_SHOWN_HELP
    )


class AsOfForm(forms.Form):
    """A past moment (and, if wanted, one of the lead's numbers) to ask ``explain`` about."""

    at = forms.CharField(
        label="As of",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local", "step": "1"}),
        help_text="A past moment, in the agency's time zone (or ISO 8601 with an offset).",
    )
    number = forms.ChoiceField(choices=(), required=False, label="Number")

    def __init__(self, *args, lead, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["number"].choices = [("", "— the lead itself —")] + [
            (link.phone.e164, f"{format_phone(link.phone.e164)} ({link.get_kind_display()})")
            for link in lead.contact.phones.select_related("phone").order_by("pk")
        ]

    def clean_at(self):
        try:
            return moment_parse(self.cleaned_data["at"])
        except LeadopsError as exc:
            raise forms.ValidationError(exc.message) from exc


class RecordCallForm(forms.Form):
    disposition = forms.ModelChoiceField(queryset=None)
    number = forms.ChoiceField(choices=(), label="Number dialled")
    notes = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 3, "cols": 60}), help_text=NEVER_SHOWN_HELP
    )
    callback_at = forms.DateTimeField(
        required=False,
        label="Callback / meeting time",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
        help_text="Needed for 'Call back later'; the meeting's time for 'Meeting booked'.",
    )

    def __init__(self, *args, lead, **kwargs):
        from leadops.normalizing import format_phone

        super().__init__(*args, **kwargs)
        self.fields["disposition"].queryset = lead.campaign.dispositions.filter(is_active=True).order_by(
            "sort_order", "label"
        )
        self.fields["disposition"].label_from_instance = lambda d: f"{d.label} — {d.get_effect_display()}"
        self.fields["number"].choices = [("", "— none —")] + [
            (link.phone.e164, f"{format_phone(link.phone.e164)} ({link.get_kind_display()})")
            for link in lead.contact.phones.select_related("phone").order_by("pk")
        ]
        self.fields["number"].required = False


class MeetingOutcomeForm(forms.Form):
    meeting = forms.ModelChoiceField(queryset=None)
    outcome = forms.ChoiceField(choices=(), widget=forms.RadioSelect)

    def __init__(self, *args, lead, **kwargs):
        from campaigns.models import Meeting

        super().__init__(*args, **kwargs)
        self.fields["meeting"].queryset = lead.meetings.order_by("-created_at", "-pk")
        self.fields["meeting"].label_from_instance = lambda m: (
            f"Meeting #{m.pk}"
            + (f" on {m.scheduled_for:%Y-%m-%d %H:%M}" if m.scheduled_for else "")
            + f" ({m.get_outcome_display()})"
        )
        self.fields["outcome"].choices = [
            (o, Meeting.Outcome(o).label)
            for o in (Meeting.Outcome.QUALIFIED, Meeting.Outcome.NOT_QUALIFIED, Meeting.Outcome.NO_SHOW)
        ]


# --- approved callers -----------------------------------------------------------------------------


class ApproveCallersForm(WorkflowForm):
    campaigns = forms.ModelMultipleChoiceField(
        queryset=None,
        widget=forms.CheckboxSelectMultiple,
        label="Approve for",
        help_text="Each selected user may pull, call and work the leads of each campaign chosen, until revoked.",
    )

    def __init__(self, *args, **kwargs):
        from campaigns.models import Campaign

        super().__init__(*args, **kwargs)
        field = self.fields["campaigns"]
        field.queryset = Campaign.objects.exclude(status=Campaign.Status.ARCHIVED).select_related("customer")
        field.label_from_instance = lambda c: f"{c.customer} — {c} ({c.get_status_display()})"


class RevokeApprovalsForm(WorkflowForm):
    approvals = forms.ModelMultipleChoiceField(
        queryset=None, widget=forms.CheckboxSelectMultiple, label="Revoke these approvals"
    )
    reason = forms.CharField(
        required=False,
        max_length=500,
        label="Why",
        help_text="Kept on each approval. The callers' leases in those campaigns go back to the pool at once.",
    )

    def __init__(self, *args, approvals, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["approvals"]
        field.queryset = approvals
        field.label_from_instance = lambda a: f"{a.caller} for {a.campaign} ({a.campaign.customer})"
        if not self.is_bound:
            field.initial = [a.pk for a in approvals]
