"""The portal's forms for a customer's own CRM rules and connections, and for asking the agency to lift a block.

The rule form is a ``ModelForm`` over ``CrmRule``: the model's own checks (operators, a value unless "is set")
are the admin's, and so is the service that saves (``crm_rule_create`` / ``crm_rule_update``).
"""

from __future__ import annotations

from django import forms

from campaigns.models import Block, Customer
from leadops.previewing import values_digest
from suppressions.crm.models import CrmConnection, CrmRule
from suppressions.crm.services.rules import RULE_TEMPLATES

# What a customer's rule may say stops a lead: the reasons that come from a CRM.
RULE_REASONS = [
    Block.Reason.EXISTING_CUSTOMER,
    Block.Reason.OPEN_DEAL,
    Block.Reason.COMPETITOR,
    Block.Reason.NOT_A_FIT,
    Block.Reason.DO_NOT_CALL,
    Block.Reason.OTHER,
]
EDITED = ("name", "object_type", "property", "operator", "value", "effect", "reason")


def template_named(slug: str) -> dict | None:
    """Return the standard rule whose name, lower-cased with dashes, is ``slug`` (``open-deals``)."""
    return next((t for t in RULE_TEMPLATES if t["name"].lower().replace(" ", "-") == slug), None)


class RuleForm(forms.ModelForm):
    """A rule's condition and effect; ``previewed`` carries the digest of what the preview showed."""

    previewed = forms.CharField(required=False, widget=forms.HiddenInput)

    class Meta:
        model = CrmRule
        fields = EDITED

    def __init__(self, *args, customer: Customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.customer = customer
        self.fields["reason"].choices = [(r.value, r.label) for r in RULE_REASONS]

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        taken = CrmRule.objects.filter(customer=self.customer, name__iexact=name)
        if self.instance.pk:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise forms.ValidationError("You have a rule of that name already.")
        return name

    def rule_fields(self) -> dict[str, object]:
        """Return the fields the services take (``RULE_FIELDS``): the edited ones and whether it is on."""
        is_active = self.instance.is_active if self.instance.pk else True
        return {**{name: self.cleaned_data[name] for name in EDITED}, "is_active": is_active}

    def digest(self) -> str:
        return fields_digest(self.rule_fields())

    def previewed_matches(self) -> bool:
        return self.cleaned_data.get("previewed", "") == self.digest()


fields_digest = values_digest


class ConnectionForm(forms.ModelForm):
    class Meta:
        model = CrmConnection
        fields = ("name", "kind")

    def __init__(self, *args, customer: Customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.customer = customer

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if CrmConnection.objects.filter(customer=self.customer, name__iexact=name).exists():
            raise forms.ValidationError("You have a connection of that name already.")
        return name


class UndoRequestForm(forms.Form):
    reason = forms.CharField(
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text='Why the agency should lift it, e.g. "This is not a customer of ours any more."',
    )
