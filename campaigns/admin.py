"""The ops back office: an adapter over the services and selectors, for every model of the domain core.

* Rows that change lead statuses are created through the services (``customer_create``, ``lead_create``
  …), never by a bare ``save()``; fields that only a service may change are read-only here.
* Blocks are read-only: they are created by workflows and lifted with Undisqualify, never deleted. No
  admin here offers deletion of anything that history hangs on (leads, contacts, accounts, numbers,
  calls, meetings), so nothing ever cascades into blocks.
* List pages stay fast at a million rows: ``list_select_related`` for every related column, and
  ``BoundedCountPaginator`` instead of a full-table ``COUNT(*)`` per page load.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.admin.views.main import ChangeList
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Model, Prefetch, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from import_export.admin import ExportMixin

import campaigns.api.admin  # noqa: F401 - registers the API key admin
from campaigns.admin_forms import AccountAddForm, ContactForm, LeadAddForm, MeetingOutcomeForm, RecordCallForm
from campaigns.admin_pagination import BoundedCountPaginator
from campaigns.admin_workflows import (
    WorkflowEntryMixin,
    customer_dnc_accounts,
    customer_dnc_contacts,
    disqualify_accounts,
    disqualify_contacts,
    mark_phone_dnc,
    reopen_leads,
    undisqualify_accounts,
    undisqualify_contacts,
    undisqualify_leads,
    unqualify_leads,
    workflow_url,
)
from campaigns.imports.models import FitRule
from campaigns.imports.services import fit_rules_changed
from campaigns.models import (
    Account,
    Block,
    Call,
    Campaign,
    Contact,
    ContactEmail,
    ContactPhone,
    Customer,
    Disposition,
    Lead,
    Meeting,
    PhoneNumber,
    User,
)
from campaigns.resources import LeadExportResource
from campaigns.selectors import block_sentence, explain
from campaigns.selectors.account_details import account_details, leads_reasons
from campaigns.services import (
    account_create,
    account_update,
    campaign_create,
    campaign_update,
    contact_create,
    contact_phone_add,
    contact_update,
    customer_create,
    customer_update,
    lead_create,
    lead_update,
)
from campaigns.services.calls import call_record, meeting_outcome_set
from leadops.errors import LeadopsError

NOTHING_STOPS_THIS_LEAD = "Nothing stops this lead."

admin.site.site_header = "leadops"
admin.site.site_title = "leadops"
admin.site.index_title = "Back office"


def take_over(obj: Model, saved: Model) -> None:
    """Make the add form's ``obj`` the row the service ``saved``: its id, then every field as stored.

    After ``save_model`` Django's ``ModelAdmin`` goes on with the object it passed in, not with what
    ``save_model`` made: the inlines (built on ``form.instance``) save against it, the log entry and the
    redirect of ``response_add`` name it. Giving it the saved row's primary key and reloading it with
    ``refresh_from_db`` (Django's documented reload) is all they need; the service stays the one write.
    """
    obj.pk = saved.pk
    obj.refresh_from_db()


class ListAtScale:
    """List pages that never count a whole table, and find a row by its id when the search is a number."""

    paginator = BoundedCountPaginator
    show_full_result_count = False
    list_per_page = 100

    def get_search_results(self, request: HttpRequest, queryset: QuerySet, search_term: str):
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        term = search_term.strip().lstrip("#")
        if term.isdigit():
            results = results | queryset.filter(pk=int(term))
        return results, may_have_duplicates


class KeepsHistory:
    """Nothing here is ever deleted from the admin: leads, blocks, calls and their evidence hang on it."""

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


class MayLiftBlocks:
    """The Undisqualify and Reopen actions need ``campaigns.lift_block``; platform DNCs need more (the
    service says which blocks it kept and why)."""

    def has_lift_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("campaigns.lift_block")


def changelist_url(model: type[Model], **params: object) -> str:
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    return f"{url}?{urlencode(params)}" if params else url


# --- tenants and users ----------------------------------------------------------------------------


@admin.register(Customer)
class CustomerAdmin(ListAtScale, KeepsHistory, admin.ModelAdmin):
    list_display = ("name", "slug", "phone_region", "created_at")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    fields = ("name", "slug", "phone_region")

    def get_readonly_fields(self, request, obj=None):
        # The slug names the tenant in URLs and uploads; it does not change once made.
        return ("slug",) if obj is not None else ()

    def get_prepopulated_fields(self, request, obj=None):
        return self.prepopulated_fields if obj is None else {}

    def save_model(self, request, obj, form, change):
        if change:
            customer_update(customer=obj, name=obj.name, phone_region=obj.phone_region, actor=request.user)
            return
        take_over(obj, customer_create(name=obj.name, slug=obj.slug, phone_region=obj.phone_region))


@admin.register(User)
class UserAdmin(ListAtScale, DjangoUserAdmin):
    list_display = ("username", "email", "first_name", "last_name", "customer", "is_staff", "is_active")
    list_filter = (*DjangoUserAdmin.list_filter, "customer")
    list_select_related = ("customer",)
    search_fields = (*DjangoUserAdmin.search_fields, "customer__name")
    autocomplete_fields = ("customer",)
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        ("Customer", {"fields": ("customer",), "description": "Empty for agency staff."}),
    )
    add_fieldsets = (
        *DjangoUserAdmin.add_fieldsets,
        ("Customer", {"fields": ("customer",), "description": "Set only for a customer's portal user."}),
    )


# --- campaigns ------------------------------------------------------------------------------------


class DispositionInline(admin.TabularInline):
    model = Disposition
    extra = 0
    can_delete = False
    fields = ("sort_order", "code", "label", "effect", "is_active")
    ordering = ("sort_order", "label")
    verbose_name_plural = "Disposition catalogue (each disposition's effect on the lead is its 'effect')"


class FitRuleInline(admin.TabularInline):
    """The campaign's ideal customer profile; switch a rule off rather than delete it (it is evidence)."""

    model = FitRule
    extra = 0
    fields = ("field", "operator", "values", "minimum", "maximum", "is_active")
    can_delete = False


@admin.register(Campaign)
class CampaignAdmin(ListAtScale, KeepsHistory, admin.ModelAdmin):
    list_display = ("name", "customer", "status", "cooldown_hours", "attempt_cap", "created_at")
    list_filter = ("status", "customer")
    list_select_related = ("customer",)
    search_fields = ("name", "customer__name")
    autocomplete_fields = ("customer",)
    readonly_fields = ("leads_by_status",)

    def get_fields(self, request, obj=None):
        fields = ["customer", "name", "status", "cooldown_hours", "attempt_cap"]
        return [*fields, "leads_by_status"] if obj is not None else fields

    def get_readonly_fields(self, request, obj=None):
        # A campaign never moves to another customer: its leads, blocks and calls belong to that one.
        return ("customer", "leads_by_status") if obj is not None else ()

    def get_inlines(self, request, obj):
        # A new campaign gets the default disposition catalogue from campaign_create; edit it afterwards.
        return [DispositionInline, FitRuleInline] if obj is not None else []

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if any(formset.model is FitRule and formset.has_changed() for formset in formsets):
            fit_rules_changed(campaign=form.instance)
            messages.info(request, "The campaign's leads are being re-evaluated against its fit rules.")

    def add_view(self, request, form_url="", extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "subtitle": "The default disposition catalogue (No answer, Busy, … Meeting booked) is created with "
            "the campaign; edit it on the campaign's page afterwards.",
        }
        return super().add_view(request, form_url, extra_context)

    @admin.display(description="Leads")
    def leads_by_status(self, obj: Campaign) -> str:
        counts = dict(Lead.objects.filter(campaign=obj).values_list("status").annotate(n=Count("pk")))
        if not counts:
            return "No leads yet."
        return format_html_join(
            ", ",
            '<a href="{}">{} {}</a>',
            (
                (changelist_url(Lead, campaign__id__exact=obj.pk, status__exact=status), n, label)
                for status, label in Lead._meta.get_field("status").choices
                if (n := counts.get(status))
            ),
        )

    def save_model(self, request, obj, form, change):
        if change:
            campaign_update(
                campaign=obj,
                name=obj.name,
                status=obj.status,
                cooldown_hours=obj.cooldown_hours,
                attempt_cap=obj.attempt_cap,
                actor=request.user,
            )
            return
        campaign = campaign_create(
            customer=obj.customer,
            name=obj.name,
            status=obj.status,
            cooldown_hours=obj.cooldown_hours,
            attempt_cap=obj.attempt_cap,
        )
        take_over(obj, campaign)


@admin.register(Disposition)
class DispositionAdmin(ListAtScale, KeepsHistory, admin.ModelAdmin):
    list_display = ("label", "code", "effect", "campaign", "customer", "is_active", "sort_order")
    list_filter = ("effect", "is_active", "campaign__customer")
    list_select_related = ("campaign__customer",)
    search_fields = ("label", "code", "campaign__name")
    autocomplete_fields = ("campaign",)

    @admin.display(description="Customer", ordering="campaign__customer__name")
    def customer(self, obj: Disposition) -> Customer:
        return obj.campaign.customer


# --- accounts, contacts, numbers ------------------------------------------------------------------


@admin.register(Account)
class AccountAdmin(WorkflowEntryMixin, MayLiftBlocks, ListAtScale, KeepsHistory, admin.ModelAdmin):
    list_display = ("name", "domain", "customer", "created_at", "details_link")
    actions = [disqualify_accounts, customer_dnc_accounts, undisqualify_accounts]
    list_filter = ("customer",)
    list_select_related = ("customer",)
    search_fields = ("^name", "^domain")
    autocomplete_fields = ("customer",)

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = AccountAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        # The domain is matched against suppressions as stored; only account_create normalises it.
        return ("customer", "domain", "contacts_link", "details_link") if obj is not None else ()

    def get_fields(self, request, obj=None):
        fields = ["customer", "name", "domain"]
        return [*fields, "details_link", "contacts_link"] if obj is not None else fields

    @admin.display(description="Contacts")
    def contacts_link(self, obj: Account) -> str:
        return format_html('<a href="{}">Contacts at {}</a>', changelist_url(Contact, account__id__exact=obj.pk), obj)

    @admin.display(description="Details")
    def details_link(self, obj: Account) -> str:
        return format_html(
            '<a href="{}">Account details and workflows</a>', reverse("admin:campaigns_account_details", args=[obj.pk])
        )

    def get_urls(self):
        return [
            path(
                "<path:object_id>/details/",
                self.admin_site.admin_view(self.details_view),
                name="campaigns_account_details",
            ),
            *super().get_urls(),
        ]

    def details_view(self, request: HttpRequest, object_id: str) -> TemplateResponse:
        """Account Details: contacts, numbers, emails, leads and every block, one page of contacts at a time."""
        account = self.get_object(request, unquote(object_id))
        if account is None:
            raise Http404("No such account.")
        if not self.has_view_or_change_permission(request, account):
            raise PermissionDenied
        details = account_details(account, page_number=request.GET.get("page", 1))
        here = request.get_full_path()
        request.current_app = self.admin_site.name
        return TemplateResponse(
            request,
            "admin/campaigns/account/details.html",
            {
                **self.admin_site.each_context(request),
                "title": f"{account} — account details",
                "subtitle": None,
                "opts": self.opts,
                "original": account,
                "details": details,
                "here": here,
                "account_changelist": changelist_url(Account),
                "contact_changelist": changelist_url(Contact),
                "phone_changelist": changelist_url(PhoneNumber),
                "lead_changelist": changelist_url(Lead),
                "can": {
                    "change_account": self.has_change_permission(request, account),
                    "change_contact": request.user.has_perm("campaigns.change_contact"),
                    "mark_dnc": request.user.has_perm("campaigns.change_phonenumber"),
                    "lift": request.user.has_perm("campaigns.lift_block"),
                    "change_lead": request.user.has_perm("campaigns.change_lead"),
                },
            },
        )

    def save_model(self, request, obj, form, change):
        if change:
            account_update(account=obj, name=obj.name, actor=request.user)
            return
        take_over(obj, account_create(customer=obj.customer, name=obj.name, domain=obj.domain))


class ContactPhoneInline(ReadOnlyInline):
    model = ContactPhone
    fields = ("phone", "kind", "stopped_by")
    readonly_fields = ("stopped_by",)
    verbose_name = "number"
    verbose_name_plural = "Numbers (add one above; a number is blocked with Mark Phone DNC, never removed here)"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("phone")

    @admin.display(description="Blocked?")
    def stopped_by(self, obj: ContactPhone) -> str:
        blocks = (
            Block.objects.active()
            .filter(
                Q(target=Block.Target.PHONE, phone_id=obj.phone_id)
                | Q(target=Block.Target.CONTACT_PHONE, phone_id=obj.phone_id, contact_id=obj.contact_id)
            )
            .select_related("actor", "customer", "campaign", "phone", "contact")
        )
        sentences = [block_sentence(b) for b in blocks]
        return format_html_join("", "<p>{}</p>", ((s,) for s in sentences)) if sentences else "Dialable."


class ContactEmailInline(ReadOnlyInline):
    model = ContactEmail
    fields = ("email", "domain")


class LeadInline(ReadOnlyInline):
    model = Lead
    fk_name = "contact"
    fields = ("campaign", "status", "waiting_until", "attempts", "last_attempt_at")
    show_change_link = True

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("campaign")


@admin.register(Contact)
class ContactAdmin(WorkflowEntryMixin, MayLiftBlocks, ListAtScale, KeepsHistory, admin.ModelAdmin):
    form = ContactForm
    actions = [disqualify_contacts, customer_dnc_contacts, undisqualify_contacts]
    list_display = ("__str__", "title", "account", "customer", "created_at")
    list_filter = ("customer",)
    list_select_related = ("account", "customer")
    search_fields = ("^last_name", "^first_name", "^account__name", "=emails__email", "=phones__phone__e164")
    search_help_text = "Last name, first name, account name, exact email, E.164 number, or a contact id."
    autocomplete_fields = ("account",)
    inlines = [ContactPhoneInline, ContactEmailInline, LeadInline]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["account", "first_name", "last_name", "title", "new_phone", "new_phone_kind", "new_email"]
        return ["workflows", "customer", "account", "first_name", "last_name", "title", "new_phone", "new_phone_kind"]

    def get_readonly_fields(self, request, obj=None):
        # A contact stays with its account and tenant: its leads and blocks were recorded for them.
        return ("workflows", "customer", "account") if obj is not None else ()

    @admin.display(description="Workflows")
    def workflows(self, obj: Contact) -> str:
        here = reverse("admin:campaigns_contact_change", args=[obj.pk])
        phone_ids = list(obj.phones.values_list("phone_id", flat=True))
        links = [
            (reverse("admin:campaigns_account_details", args=[obj.account_id]), "Account details"),
            (workflow_url(Contact, "disqualify_contacts", [obj.pk], here), "Disqualify"),
            (workflow_url(Contact, "customer_dnc_contacts", [obj.pk], here), "Customer Do Not Call"),
            (workflow_url(Contact, "undisqualify_contacts", [obj.pk], here), "Undisqualify"),
        ]
        if phone_ids:
            links.append((workflow_url(PhoneNumber, "mark_phone_dnc", phone_ids, here), "Mark Phone DNC (all numbers)"))
        return format_html_join(" · ", '<a href="{}">{}</a>', links)

    def save_model(self, request, obj, form, change):
        if change:
            # Through the service: a new title is judged by the fit rules of the contact's campaigns.
            contact_update(
                contact=obj, first_name=obj.first_name, last_name=obj.last_name, title=obj.title, actor=request.user
            )
            return
        phone = form.cleaned_data.get("new_phone", "").strip()
        email = form.cleaned_data.get("new_email", "")
        contact = contact_create(
            account=obj.account,
            first_name=obj.first_name,
            last_name=obj.last_name,
            title=obj.title,
            emails=[email] if email else [],
            phones=[(phone, form.cleaned_data["new_phone_kind"])] if phone else [],
        )
        take_over(obj, contact)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        phone = form.cleaned_data.get("new_phone", "").strip()
        if change and phone:
            contact_phone_add(contact=form.instance, raw=phone, kind=form.cleaned_data["new_phone_kind"])


@admin.register(PhoneNumber)
class PhoneNumberAdmin(WorkflowEntryMixin, ListAtScale, KeepsHistory, admin.ModelAdmin):
    """Numbers are created once, normalised, by the services; here they are looked up, never edited.
    Mark Phone DNC is the one workflow on them (``campaigns.change_phonenumber``)."""

    list_display = ("e164", "__str__", "created_at", "do_not_call")
    search_fields = ("^e164",)
    search_help_text = "The number in E.164, e.g. +1202555 (a prefix is enough)."
    fields = ("e164", "created_at", "blocked_by", "shared_by", "blocks_link")
    readonly_fields = fields
    actions = [mark_phone_dnc]

    def get_queryset(self, request):
        active = Block.objects.active().filter(target=Block.Target.PHONE).select_related("actor", "customer", "phone")
        return super().get_queryset(request).prefetch_related(Prefetch("blocks", active, to_attr="active_blocks"))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: PhoneNumber | None = None) -> bool:
        return False

    def has_mark_dnc_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("campaigns.change_phonenumber")

    @admin.display(description="Do not call?")
    def do_not_call(self, obj: PhoneNumber) -> str:
        sentences = [block_sentence(b) for b in obj.active_blocks]
        return format_html_join("", "<p>{}</p>", ((s,) for s in sentences)) if sentences else "—"

    @admin.display(description="Blocked?")
    def blocked_by(self, obj: PhoneNumber) -> str:
        return self.do_not_call(obj)

    @admin.display(description="Contacts with this number")
    def shared_by(self, obj: PhoneNumber) -> str:
        shown = 50
        links = list(
            ContactPhone.objects.filter(phone=obj)
            .select_related("contact__account")
            .order_by("contact__last_name", "contact_id")[: shown + 1]
        )
        if not links:
            return "Nobody."
        items = format_html_join(
            "",
            '<li><a href="{}">{}</a> at {} ({})</li>',
            (
                (
                    reverse("admin:campaigns_contact_change", args=[link.contact_id]),
                    link.contact,
                    link.contact.account,
                    link.get_kind_display(),
                )
                for link in links[:shown]
            ),
        )
        more = ""
        if len(links) > shown:
            more = format_html(
                '<li><a href="{}">All contacts with this number…</a></li>',
                changelist_url(Contact, q=obj.e164),
            )
        return format_html("<ul>{}{}</ul>", items, more)

    @admin.display(description="Blocks")
    def blocks_link(self, obj: PhoneNumber) -> str:
        return format_html('<a href="{}">Blocks on this number</a>', changelist_url(Block, q=obj.e164))


# --- leads ----------------------------------------------------------------------------------------


class CallInline(ReadOnlyInline):
    model = Call
    fields = ("created_at", "caller", "phone", "disposition", "effect", "notes", "callback_at")
    readonly_fields = ("effect",)
    verbose_name_plural = "Calls (kept for ever; record one with 'Record a call')"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("caller", "phone", "disposition")

    @admin.display(description="Effect")
    def effect(self, obj: Call) -> str:
        return obj.disposition.get_effect_display()


class MeetingInline(ReadOnlyInline):
    model = Meeting
    fields = ("created_at", "scheduled_for", "outcome", "outcome_set_at", "outcome_set_by")
    verbose_name_plural = "Meetings (set an outcome with 'Meeting outcome')"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("outcome_set_by")


class LeadChangeList(ChangeList):
    """Reads every shown lead's reasons once per page (``explain_many``), not once per row."""

    def get_results(self, request):
        super().get_results(request)
        leads = list(self.result_list)
        reasons = leads_reasons(leads)
        for lead in leads:
            lead.why_not_sentences = reasons[lead.pk]


@admin.register(Lead)
class LeadAdmin(WorkflowEntryMixin, MayLiftBlocks, ListAtScale, KeepsHistory, ExportMixin, admin.ModelAdmin):
    change_form_template = "admin/campaigns/lead/change_form.html"
    # The export button (django-import-export) sits beside an "Import leads" link to the lead import.
    change_list_template = "admin/campaigns/lead/change_list.html"
    resource_classes = [LeadExportResource]
    actions = [undisqualify_leads, unqualify_leads, reopen_leads]
    inlines = [CallInline, MeetingInline]
    list_display = (
        "id",
        "status",
        "why_not_short",
        "campaign",
        "contact",
        "account",
        "priority",
        "attempts",
        "last_attempt_at",
        "waiting_until",
    )
    list_display_links = ("id", "contact")
    list_filter = ("status", "waiting_reason", "campaign", "customer")
    list_select_related = ("campaign", "customer", "contact__account")
    search_fields = ("^contact__last_name", "^contact__first_name", "^contact__account__name")
    search_help_text = "Contact last or first name, account name, or a lead id."
    autocomplete_fields = ("campaign", "contact")
    readonly_fields = (
        "why_not",
        "customer",
        "campaign",
        "contact",
        "account",
        "status",
        "waiting_until",
        "waiting_reason",
        "leased_to",
        "attempts",
        "last_attempt_at",
        "created_at",
        "blocks_link",
    )
    fieldsets = (
        (None, {"fields": ("status", "why_not", "blocks_link")}),
        ("Lead", {"fields": ("campaign", "customer", "contact", "account", "priority", "source", "created_at")}),
        ("Calling", {"fields": ("waiting_until", "waiting_reason", "leased_to", "attempts", "last_attempt_at")}),
    )

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = LeadAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    def get_changelist(self, request, **kwargs):
        return LeadChangeList

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return ((None, {"fields": ("campaign", "contact", "priority", "source")}),)
        return self.fieldsets

    @admin.display(description="Why not?")
    def why_not_short(self, obj: Lead) -> str:
        sentences = getattr(obj, "why_not_sentences", None)
        if not sentences:
            return "—"
        return format_html_join("", "<p>{}</p>", ((s,) for s in sentences))

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<path:object_id>/record-call/", view(self.record_call_view), name="campaigns_lead_record_call"),
            path(
                "<path:object_id>/meeting-outcome/",
                view(self.meeting_outcome_view),
                name="campaigns_lead_meeting_outcome",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        lead = self.get_object(request, unquote(object_id))
        if lead is not None:
            here = reverse("admin:campaigns_lead_change", args=[lead.pk])
            extra_context = {
                **(extra_context or {}),
                "workflow_links": [
                    (reverse("admin:campaigns_lead_record_call", args=[lead.pk]), "Record a call"),
                    (reverse("admin:campaigns_lead_meeting_outcome", args=[lead.pk]), "Meeting outcome"),
                    (workflow_url(Lead, "undisqualify_leads", [lead.pk], here), "Undisqualify"),
                    (workflow_url(Lead, "unqualify_leads", [lead.pk], here), "Unqualify"),
                    (workflow_url(Lead, "reopen_leads", [lead.pk], here), "Reopen"),
                    (reverse("admin:campaigns_account_details", args=[lead.contact.account_id]), "Account details"),
                ],
            }
        return super().change_view(request, object_id, form_url, extra_context)

    def _workflow_lead(self, request: HttpRequest, object_id: str, permission: str) -> Lead:
        lead = self.get_object(request, unquote(object_id))
        if lead is None:
            raise Http404("No such lead.")
        if not request.user.has_perm(permission):
            raise PermissionDenied
        return lead

    def _render(self, request, template: str, lead: Lead, title: str, form) -> TemplateResponse:
        request.current_app = self.admin_site.name
        return TemplateResponse(
            request,
            template,
            {
                **self.admin_site.each_context(request),
                "title": title,
                "subtitle": None,
                "opts": self.opts,
                "original": lead,
                "lead": lead,
                "form": form,
                "why_not": [r.message for r in explain(lead)],
                "media": self.media + form.media,
            },
        )

    def record_call_view(self, request: HttpRequest, object_id: str):
        """Record a call on the lead with the dialer's own service, ``call_record``."""
        lead = self._workflow_lead(request, object_id, "campaigns.add_call")
        form = RecordCallForm(request.POST or None, lead=lead)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                call, _ = call_record(
                    lead=lead,
                    caller=request.user,
                    disposition=data["disposition"],
                    number=data["number"],
                    notes=data["notes"],
                    callback_at=data["callback_at"],
                    actor=request.user,
                )
            except LeadopsError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                self.log_change(request, lead, f"Recorded a call: {call.disposition.label}.")
                lead.refresh_from_db()
                self.message_user(
                    request,
                    f"Recorded '{call.disposition.label}' ({call.disposition.get_effect_display()}). "
                    f"The lead is now {lead.get_status_display()}.",
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(reverse("admin:campaigns_lead_change", args=[lead.pk]))
        return self._render(
            request, "admin/campaigns/lead/record_call.html", lead, f"Record a call: {lead.contact}", form
        )

    def meeting_outcome_view(self, request: HttpRequest, object_id: str):
        """Set the outcome of one of the lead's meetings with ``meeting_outcome_set``."""
        lead = self._workflow_lead(request, object_id, "campaigns.change_meeting")
        form = MeetingOutcomeForm(request.POST or None, lead=lead)
        if request.method == "POST" and form.is_valid():
            try:
                meeting = meeting_outcome_set(
                    meeting=form.cleaned_data["meeting"], outcome=form.cleaned_data["outcome"], actor=request.user
                )
            except LeadopsError as exc:
                form.add_error(None, exc.message)
            else:
                self.log_change(request, lead, f"Meeting #{meeting.pk} outcome: {meeting.get_outcome_display()}.")
                lead.refresh_from_db()
                self.message_user(
                    request,
                    f"Meeting #{meeting.pk} is {meeting.get_outcome_display()}; the lead is now "
                    f"{lead.get_status_display()}.",
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(reverse("admin:campaigns_lead_change", args=[lead.pk]))
        return self._render(
            request, "admin/campaigns/lead/meeting_outcome.html", lead, f"Meeting outcome: {lead.contact}", form
        )

    def get_readonly_fields(self, request, obj=None):
        # The status and calling state are written only by the status recompute and the dialer services.
        return self.readonly_fields if obj is not None else ()

    @admin.display(description="Account", ordering="contact__account__name")
    def account(self, obj: Lead) -> Account:
        return obj.contact.account

    @admin.display(description="Why not?")
    def why_not(self, obj: Lead) -> str:
        if obj.pk is None:
            return "—"
        reasons = explain(obj)
        if not reasons:
            return NOTHING_STOPS_THIS_LEAD
        return format_html("<ul>{}</ul>", format_html_join("", "<li>{}</li>", ((r.message,) for r in reasons)))

    @admin.display(description="Blocks")
    def blocks_link(self, obj: Lead) -> str:
        return format_html(
            '<a href="{}">Blocks on this lead</a> · <a href="{}">on its contact</a> · <a href="{}">on its account</a>',
            changelist_url(Block, lead__id__exact=obj.pk),
            changelist_url(Block, contact__id__exact=obj.contact_id),
            changelist_url(Block, account__id__exact=obj.contact.account_id),
        )

    def save_model(self, request, obj, form, change):
        if change:
            lead_update(lead=obj, priority=obj.priority, source=obj.source, actor=request.user)
            return
        lead = lead_create(campaign=obj.campaign, contact=obj.contact, priority=obj.priority, source=obj.source)
        take_over(obj, lead)


# --- blocks ---------------------------------------------------------------------------------------


class BlockStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return (("active", "Active"), ("lifted", "Lifted"))

    def queryset(self, request, queryset):
        if self.value() == "active":
            return queryset.filter(lifted_at__isnull=True)
        if self.value() == "lifted":
            return queryset.filter(lifted_at__isnull=False)
        return queryset


@admin.register(Block)
class BlockAdmin(ListAtScale, KeepsHistory, admin.ModelAdmin):
    """Read-only: blocks are made by the workflows and lifted with Undisqualify, never edited or deleted."""

    list_display = (
        "id",
        "target_label",
        "source",
        "reason",
        "reach",
        "actor_label",
        "created_at",
        "lifted_at",
        "sentence",
    )
    list_filter = (BlockStateFilter, "source", "reach", "target", "reason", "customer")
    list_select_related = (
        "actor",
        "customer",
        "campaign",
        "phone",
        "contact",
        "account",
        "lead__contact",
        "lead__campaign",
    )
    search_fields = ("=phone__e164", "^contact__last_name", "^account__name", "evidence_text")
    search_help_text = "E.164 number, contact last name, account name, evidence text, or a block id."
    fieldsets = (
        (None, {"fields": ("sentence", "target", "lead", "contact", "account", "phone")}),
        ("Why", {"fields": ("source", "reason", "reach", "customer", "campaign", "evidence_text", "note")}),
        ("Evidence", {"fields": ("evidence_type", "evidence_id")}),
        ("Made", {"fields": ("actor", "actor_job", "created_at")}),
        ("Lifted", {"fields": ("lifted_at", "lifted_by", "lifted_by_job", "lift_reason")}),
    )
    readonly_fields = ("sentence",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Block | None = None) -> bool:
        return False

    def lookup_allowed(self, lookup, value, request=None):
        # The lead, contact and account pages link here filtered by their id.
        if lookup in {"lead__id__exact", "contact__id__exact", "account__id__exact"}:
            return True
        return super().lookup_allowed(lookup, value, request)

    @admin.display(description="Target")
    def target_label(self, obj: Block) -> str:
        match obj.target:
            case Block.Target.LEAD:
                return f"Lead #{obj.lead_id} ({obj.lead.contact})"
            case Block.Target.CONTACT:
                return str(obj.contact)
            case Block.Target.ACCOUNT:
                return f"Account {obj.account}"
            case Block.Target.PHONE:
                return str(obj.phone)
        return f"{obj.phone} for {obj.contact}"

    @admin.display(description="Made by", ordering="actor__username")
    def actor_label(self, obj: Block) -> str:
        return obj.actor_name

    @admin.display(description="Sentence")
    def sentence(self, obj: Block) -> str:
        text = block_sentence(obj)
        return f"(Lifted) {text}" if obj.lifted_at else text


# --- calls and meetings ---------------------------------------------------------------------------


class RecordedByServices(KeepsHistory):
    """Calls and meetings are recorded by the dialer's services; the admin shows them."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(Call)
class CallAdmin(ListAtScale, RecordedByServices, admin.ModelAdmin):
    list_display = ("id", "created_at", "lead", "contact", "caller", "phone", "disposition", "callback_at")
    list_filter = ("disposition__effect", "caller")
    list_select_related = ("lead__contact", "caller", "phone", "disposition")
    search_fields = ("^caller__username", "^lead__contact__last_name", "=phone__e164")
    search_help_text = "Caller username, contact last name, E.164 number, or a call id."

    @admin.display(description="Contact")
    def contact(self, obj: Call) -> Contact:
        return obj.lead.contact


@admin.register(Meeting)
class MeetingAdmin(ListAtScale, RecordedByServices, admin.ModelAdmin):
    list_display = ("id", "lead", "contact", "scheduled_for", "outcome", "outcome_set_at", "outcome_set_by")
    list_filter = ("outcome",)
    list_select_related = ("lead__contact", "outcome_set_by")
    search_fields = ("^lead__contact__last_name",)

    @admin.display(description="Contact")
    def contact(self, obj: Meeting) -> Contact:
        return obj.lead.contact
