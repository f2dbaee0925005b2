"""django-filter FilterSets of the portal's lists. Choice querysets are scoped like the lists themselves."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import django_filters
from django import forms
from django.db.models import Q
from django.utils import timezone

from campaigns.models import (
    Account,
    Campaign,
    ConsiderationStage,
    Contact,
    Lead,
    Opportunity,
    Project,
)
from campaigns.portal.selectors import NO_NUMBER, NO_NUMBER_LABEL, SOURCE_LABELS, has_no_number, owned, stopped_by
from campaigns.selectors.searching import accounts_found, contacts_found, leads_found
from suppressions.models import Entry, Upload
from suppressions.selectors import leads_out_by_upload

_DATE = {"type": "date"}


def _customer(request):
    return getattr(getattr(request, "user", None), "customer", None)


def _customer_id(request) -> int | None:
    customer = _customer(request)
    return customer.pk if customer is not None else None


def _found_contacts(value: str, request):
    return owned(Contact, _customer(request)).filter(contacts_found(value, customer_id=_customer_id(request)))


def _own_uploads(request):
    return owned(Upload, _customer(request)).order_by("-created_at", "-id")


def _own_campaigns(request):
    return owned(Campaign, _customer(request)).order_by("name")


def _own_projects(request):
    return owned(Project, _customer(request)).order_by("name", "id")


def _own_stage_labels(request) -> list[tuple[str, str]]:
    labels = owned(ConsiderationStage, _customer(request)).order_by("label").values_list("label", flat=True)
    return [(label, label) for label in dict.fromkeys(labels)]


class _DateRange(django_filters.DateFromToRangeFilter):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", django_filters.widgets.DateRangeWidget(attrs=_DATE))
        super().__init__(*args, **kwargs)


class EntryFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label="Search", method="search", widget=forms.TextInput(attrs={"type": "search"}))
    kind = django_filters.ChoiceFilter(choices=Entry.Kind.choices, empty_label="Any kind")
    upload = django_filters.ModelChoiceFilter(queryset=_own_uploads, empty_label="Any upload")
    added = _DateRange(field_name="created_at", label="Added between")

    class Meta:
        model = Entry
        fields = ["q", "kind", "upload", "added"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        digits = "".join(ch for ch in value if ch.isdigit())
        condition = Q(value__icontains=value.lower())
        if len(digits) >= 3:
            condition |= Q(kind=Entry.Kind.PHONE, value__contains=digits)
        return queryset.filter(condition)


_DNC_CHOICES = [("yes", "Marked Do Not Call"), ("no", "Not marked")]


class _MarkedFilter(django_filters.ChoiceFilter):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, choices=_DNC_CHOICES, empty_label="Any", label="Do Not Call", **kwargs)

    def filter(self, qs, value):
        if value == "yes":
            return qs.filter(marked_dnc=True)
        if value == "no":
            return qs.filter(marked_dnc=False)
        return qs


class AccountFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label="Search", method="search", widget=forms.TextInput(attrs={"type": "search"}))
    dnc = _MarkedFilter()

    class Meta:
        model = Account
        fields = ["q", "dnc"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(accounts_found(value, customer_id=_customer_id(self.request)))


class ContactFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label="Search", method="search", widget=forms.TextInput(attrs={"type": "search"}))
    # Typed, not picked: a customer may have a hundred thousand accounts, and a list of every one of them took
    # five seconds to render on each load of the page (bench/search.py's portal pages, at a million contacts).
    account = django_filters.CharFilter(
        label="Account",
        method="by_account",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Any account"}),
    )
    dnc = _MarkedFilter()

    class Meta:
        model = Contact
        fields = ["q", "account", "dnc"]

    def by_account(self, queryset, name, value):
        """The contacts of the accounts whose name (or domain) the words begin, as the accounts list finds them."""
        value = value.strip()
        if not value:
            return queryset
        customer_id = _customer_id(self.request)
        accounts = Account.objects.filter(customer_id=customer_id).filter(
            accounts_found(value, customer_id=customer_id)
        )
        return queryset.filter(account__in=accounts.values("pk"))

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(contacts_found(value, customer_id=_customer_id(self.request)))


_SOURCE_CHOICES = [*SOURCE_LABELS.items(), (NO_NUMBER, NO_NUMBER_LABEL)]


class DisqualifiedLeadFilter(django_filters.FilterSet):
    """Filter Disqualified leads by campaign, and by the source and date of a block that stops them.

    Source and dates describe the same block ("a suppression made in March"), so they are one condition.
    """

    q = django_filters.CharFilter(label="Search", method="search", widget=forms.TextInput(attrs={"type": "search"}))
    campaign = django_filters.ModelChoiceFilter(queryset=_own_campaigns, empty_label="Any campaign")
    source = django_filters.ChoiceFilter(
        choices=_SOURCE_CHOICES, empty_label="Any reason", label="Reason", method="noop"
    )
    since = django_filters.DateFilter(label="Since", method="noop", widget=forms.DateInput(attrs=_DATE))
    until = django_filters.DateFilter(label="Until", method="noop", widget=forms.DateInput(attrs=_DATE))
    upload = django_filters.ModelChoiceFilter(
        queryset=_own_uploads, empty_label="Any upload", label="Stopped by the upload", method="by_upload"
    )

    class Meta:
        model = Lead
        fields = ["q", "campaign", "source", "since", "until", "upload"]

    def by_upload(self, queryset, name, value):
        return queryset.filter(pk__in=leads_out_by_upload(value).values("pk")) if value else queryset

    def noop(self, queryset, name, value):
        return queryset  # applied together in filter_queryset

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(leads_found(value, customer_id=_customer_id(self.request)))

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        data = self.form.cleaned_data
        source, since, until = data.get("source"), data.get("since"), data.get("until")
        if source == NO_NUMBER:
            return queryset.filter(has_no_number())
        if not (source or since or until):
            return queryset
        return queryset.filter(stopped_by(source=source or None, since=_day_start(since), until=_day_after(until)))


def _day_start(day) -> datetime | None:
    if day is None:
        return None
    return timezone.make_aware(datetime.combine(day, time.min))


def _day_after(day) -> datetime | None:
    if day is None:
        return None
    return timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))


class OpportunityFilter(django_filters.FilterSet):
    """Filter opportunities by consideration stage (by its name, whichever campaign), state, campaign, project."""

    q = django_filters.CharFilter(label="Search", method="search", widget=forms.TextInput(attrs={"type": "search"}))
    state = django_filters.ChoiceFilter(choices=Opportunity.State.choices, empty_label="Open, won or lost")
    stage = django_filters.ChoiceFilter(
        field_name="consideration_stage__label", label="Stage", empty_label="Any stage", choices=[]
    )
    campaign = django_filters.ModelChoiceFilter(queryset=_own_campaigns, empty_label="Any campaign")
    project = django_filters.ModelChoiceFilter(queryset=_own_projects, empty_label="Any project")

    class Meta:
        model = Opportunity
        fields = ["q", "state", "stage", "campaign", "project"]

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, request=request, **kwargs)
        self.filters["stage"].extra["choices"] = _own_stage_labels(request)

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        # The opportunities of the contacts the words find (names, account, email, a number in any writing).
        return queryset.filter(contact__in=_found_contacts(value, self.request))
