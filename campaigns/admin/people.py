"""Accounts, contacts and phone numbers, with Account Details and the workflows on them."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import Http404, HttpRequest
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from campaigns.admin.base import (
    KeepsHistory,
    ListAtScale,
    MayLiftBlocks,
    MayRunWorkflows,
    ReadOnlyInline,
    ScopedToCampaigns,
    audience_of,
    changelist_url,
    take_over,
    viewer_of,
)
from campaigns.admin.dossiers import DossierMixin
from campaigns.admin.forms import AccountAddForm, ContactForm
from campaigns.admin.workflows import (
    WorkflowEntryMixin,
    customer_dnc_accounts,
    customer_dnc_contacts,
    disqualify_accounts,
    disqualify_contacts,
    mark_phone_dnc,
    undisqualify_accounts,
    undisqualify_contacts,
    workflow_url,
)
from campaigns.models import (
    Account,
    Block,
    Contact,
    ContactEmail,
    ContactPhone,
    Lead,
    PhoneNumber,
)
from campaigns.rules import NUMBER_TARGETS, blocks_on_any
from campaigns.selectors import OPS, block_sentence
from campaigns.selectors.account_details import account_details
from campaigns.selectors.explaining import SENTENCE_RELATIONS, block_badge
from campaigns.selectors.scope import audience_for, sees_everything, visible
from campaigns.selectors.searching import accounts_found, contacts_found, phone_numbers_found
from campaigns.services import (
    account_create,
    account_update,
    contact_create,
    contact_phone_add,
    contact_update,
)
from suppressions.dossiers import contact_dossier, number_dossier

# --- accounts, contacts, numbers ------------------------------------------------------------------


@admin.register(Account)
class AccountAdmin(
    ScopedToCampaigns, WorkflowEntryMixin, MayRunWorkflows, MayLiftBlocks, ListAtScale, KeepsHistory, admin.ModelAdmin
):
    list_display = ("name", "domain", "customer", "created_at", "details_link")
    actions = [disqualify_accounts, customer_dnc_accounts, undisqualify_accounts]
    list_filter = ("customer",)
    list_select_related = ("customer",)
    search_fields = ("name", "domain")
    search_help_text = "Account name or domain, a contact's name or email, a phone number written any way, or an id."
    finds = accounts_found
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
        # The permission first: without it, whether the account exists is none of the user's business.
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        account = self.get_object(request, unquote(object_id))
        if account is None:
            raise Http404("No such account.")
        if not self.has_view_or_change_permission(request, account):
            raise PermissionDenied
        details = account_details(account, user=request.user, page_number=request.GET.get("page", 1))
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
                    "disqualify_account": self.has_disqualify_permission(request),
                    "customer_dnc_account": self.has_customer_dnc_permission(request),
                    "disqualify_contact": request.user.has_perm("campaigns.change_contact"),
                    "customer_dnc_contact": sees_everything(request.user)
                    and request.user.has_perm("campaigns.change_contact"),
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
        # An inline is made for each request (``get_inline_instances``): who reads it is this request's user.
        self.viewer = request.user
        return super().get_queryset(request).select_related("phone")

    @admin.display(description="Blocked?")
    def stopped_by(self, obj: ContactPhone) -> str:
        blocks = visible(
            Block.objects.active().filter(blocks_on_any(NUMBER_TARGETS, contact=obj.contact_id, phone=obj.phone_id)),
            self.viewer,
        ).select_related(*SENTENCE_RELATIONS)
        audience = audience_for(self.viewer)
        sentences = [block_sentence(b, audience=audience) for b in blocks]
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
        # The contact's leads the user may see: an approved caller, only those of their campaigns.
        return visible(super().get_queryset(request), request.user).select_related("campaign")


@admin.register(Contact)
class ContactAdmin(
    DossierMixin,
    ScopedToCampaigns,
    WorkflowEntryMixin,
    MayRunWorkflows,
    MayLiftBlocks,
    ListAtScale,
    KeepsHistory,
    admin.ModelAdmin,
):
    form = ContactForm
    actions = [disqualify_contacts, customer_dnc_contacts, undisqualify_contacts]
    list_display = ("__str__", "title", "account", "customer", "created_at")
    list_filter = ("customer",)
    list_select_related = ("account", "customer")
    search_fields = ("first_name", "last_name", "account__name", "emails__email", "phones__phone__e164")
    search_help_text = (
        'Names, account name or email ("Mia Young", "Harbor Medical"), a phone number written any way, or a contact id.'
    )
    finds = contacts_found
    autocomplete_fields = ("account",)
    inlines = [ContactPhoneInline, ContactEmailInline, LeadInline]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["account", "first_name", "last_name", "title", "new_phone", "new_phone_kind", "new_email"]
        fields = ["workflows", "customer", "account", "first_name", "last_name", "title"]
        # Adding a number is a change of the contact: not for one who only reads it (an approved caller).
        return [*fields, "new_phone", "new_phone_kind"] if self.has_change_permission(request, obj) else fields

    def get_readonly_fields(self, request, obj=None):
        # A contact stays with its account and tenant: its leads and blocks were recorded for them.
        return ("workflows", "customer", "account") if obj is not None else ()

    def dossier_of(self, obj: Contact, viewer) -> dict:
        return contact_dossier(obj, viewer=viewer)

    @admin.display(description="Workflows")
    def workflows(self, obj: Contact) -> str:
        here = reverse("admin:campaigns_contact_change", args=[obj.pk])
        phone_ids = list(obj.phones.values_list("phone_id", flat=True))
        viewer = viewer_of(obj)
        may = viewer.has_perm if viewer is not None else (lambda permission: True)
        ops = viewer is None or sees_everything(viewer)
        links = [
            (True, reverse("admin:campaigns_account_details", args=[obj.account_id]), "Account details"),
            (True, reverse("admin:campaigns_contact_dossier", args=[obj.pk]), "Dossier"),
            (
                may("campaigns.change_contact"),
                workflow_url(Contact, "disqualify_contacts", [obj.pk], here),
                "Disqualify",
            ),
            (
                ops and may("campaigns.change_contact"),
                workflow_url(Contact, "customer_dnc_contacts", [obj.pk], here),
                "Customer Do Not Call",
            ),
            (
                may("campaigns.lift_block"),
                workflow_url(Contact, "undisqualify_contacts", [obj.pk], here),
                "Undisqualify",
            ),
            (
                bool(phone_ids) and may("campaigns.change_phonenumber"),
                workflow_url(PhoneNumber, "mark_phone_dnc", phone_ids, here),
                "Mark Phone DNC (all numbers)",
            ),
        ]
        return format_html_join(" · ", '<a href="{}">{}</a>', [(url, label) for shown, url, label in links if shown])

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
class PhoneNumberAdmin(
    DossierMixin, ScopedToCampaigns, WorkflowEntryMixin, ListAtScale, KeepsHistory, admin.ModelAdmin
):
    """Numbers are created once, normalised, by the services; here they are looked up, never edited.
    Mark Phone DNC is the one workflow on them (``campaigns.change_phonenumber``)."""

    list_display = ("e164", "__str__", "created_at", "do_not_call")
    search_fields = ("e164",)
    search_help_text = (
        "A number written any way (202-555-0143, +1 202…; a +1202 prefix is enough), or a contact's names, "
        "account name or email: their numbers."
    )
    finds = phone_numbers_found
    fields = ("e164", "created_at", "blocked_by", "shared_by", "blocks_link")
    readonly_fields = fields
    actions = [mark_phone_dnc]

    def get_queryset(self, request):
        active = Block.objects.active().filter(target=Block.Target.PHONE)
        # Of a shared number, a caller reads the blocks that reach their leads (not another customer's).
        active = visible(active, request.user).select_related(*SENTENCE_RELATIONS)
        return super().get_queryset(request).prefetch_related(Prefetch("blocks", active, to_attr="active_blocks"))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: PhoneNumber | None = None) -> bool:
        return False

    def has_mark_dnc_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("campaigns.change_phonenumber")

    @admin.display(description="Do not call?")
    def do_not_call(self, obj: PhoneNumber) -> str:
        # A badge per block, expanding to its sentence: the list stays within a 1400-px window.
        audience = audience_of(obj)
        if not obj.active_blocks:
            return "—"
        return format_html_join(
            "",
            '<details class="why-badge"><summary>{}</summary>{}</details>',
            ((block_badge(b, audience=audience), block_sentence(b, audience=audience)) for b in obj.active_blocks),
        )

    @admin.display(description="Blocked?")
    def blocked_by(self, obj: PhoneNumber) -> str:
        sentences = [block_sentence(b, audience=audience_of(obj)) for b in obj.active_blocks]
        return format_html_join("", "<p>{}</p>", ((s,) for s in sentences)) if sentences else "—"

    @admin.display(description="Contacts with this number")
    def shared_by(self, obj: PhoneNumber) -> str:
        shown = 50
        sharing = ContactPhone.objects.filter(phone=obj)
        viewer = viewer_of(obj)
        hidden = ""
        if viewer is not None and audience_of(obj) != OPS:
            seen = visible(sharing, viewer)
            not_seen = sharing.count() - seen.count()
            sharing = seen
            if not_seen:
                hidden = format_html(
                    "<li>… and {} contact{} in campaigns you do not work</li>", not_seen, "" if not_seen == 1 else "s"
                )
        links = list(
            sharing.select_related("contact__account").order_by("contact__last_name", "contact_id")[: shown + 1]
        )
        if not links:
            return format_html("<ul>{}</ul>", hidden) if hidden else "Nobody."
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
        return format_html("<ul>{}{}{}</ul>", items, more, hidden)

    @admin.display(description="Blocks")
    def blocks_link(self, obj: PhoneNumber) -> str:
        return format_html(
            '<a href="{}">Blocks on this number</a> · {}', changelist_url(Block, q=obj.e164), self.dossier_link(obj)
        )

    def dossier_of(self, obj: PhoneNumber, viewer) -> dict:
        return number_dossier(obj.e164, viewer=viewer)

    def dossier_file_stem(self, obj: PhoneNumber) -> str:
        return f"dossier-{obj.e164.lstrip('+')}"
