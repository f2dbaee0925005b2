"""Forms of the admin's add pages: they read what ops type and say what is wrong before a service runs.

The services normalise and guard again; these only turn the same refusals into form errors.
"""

from __future__ import annotations

from django import forms

from campaigns.models import Account, Contact, ContactPhone, Lead
from leadops.normalizing import NormalizationError, normalize_domain, normalize_email, normalize_phone


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
