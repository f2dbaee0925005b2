"""Admin of the CRM integration: connections with their health, records, events and rules."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.models import ADDITION, LogEntry
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html_join

from campaigns.models import Customer
from campaigns.selectors.scope import customers_visible_to
from leadops.errors import LeadopsError
from leadops.home import home_panel_register
from leadops.previewing import PreviewedForm, previewed_field
from suppressions.crm.models import (
    CrmConnection,
    CrmEvent,
    CrmMatch,
    CrmRecord,
    CrmRule,
    CrmRuleChange,
    ObjectType,
)
from suppressions.crm.optouts import DEADLINE_BUSINESS_DAYS, optouts_not_in_force, receipt_to_force
from suppressions.crm.services.connections import crm_connection_create, crm_connection_update
from suppressions.crm.services.files import crm_records_upload
from suppressions.crm.services.preview import crm_rule_preview
from suppressions.crm.services.rules import RULE_FIELDS, crm_rule_create, crm_rule_update, crm_rules_templates_add


class CrmFileForm(forms.Form):
    file = forms.FileField(help_text="CSV, TSV or XLSX with a header row: Record ID, Name, Domain, Email, Phone, …")
    object_type = forms.ChoiceField(choices=ObjectType.choices, help_text="For rows without an 'Object type' column.")


CONNECTION_SHOWN = ["last_event_at", "created_at", "webhook_path", "recent_failures", "matches_per_rule"]


@admin.register(CrmConnection)
class CrmConnectionAdmin(admin.ModelAdmin):
    list_display = ["name", "customer", "kind", "is_active", "last_event_at", "processed", "failed", "pending"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "customer__name"]
    autocomplete_fields = ["customer"]
    list_select_related = ["customer"]
    fields = ["customer", "name", "kind", "secret", "is_active", *CONNECTION_SHOWN]

    def get_readonly_fields(self, request, obj=None):
        # The records a connection brought are its customer's: the customer is chosen once.
        return ["customer", *CONNECTION_SHOWN] if obj is not None else CONNECTION_SHOWN

    def has_delete_permission(self, request, obj=None):
        # Its events and records hang on it: switch a connection off (its webhook then answers 404) instead.
        return False

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            crm_connection_update(
                connection=obj,
                name=data["name"],
                kind=data["kind"],
                secret=data["secret"],
                is_active=data["is_active"],
                actor=request.user,
            )
            return
        connection = crm_connection_create(
            customer=data["customer"],
            name=data["name"],
            kind=data["kind"],
            is_active=data["is_active"],
            actor=request.user,
        )
        obj.pk = connection.pk
        obj.refresh_from_db()

    def get_urls(self):
        return [
            path("<int:pk>/upload/", self.admin_site.admin_view(self.upload_view), name="crm_crmconnection_upload"),
            *super().get_urls(),
        ]

    def upload_view(self, request: HttpRequest, pk: int):
        """Upload a CSV/XLSX of CRM records for a connection without webhooks."""
        connection = get_object_or_404(CrmConnection.objects.select_related("customer"), pk=pk)
        if not self.has_change_permission(request, connection):
            raise PermissionDenied
        form = CrmFileForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                result = crm_records_upload(
                    connection=connection,
                    stream=upload,
                    filename=upload.name,
                    object_type=form.cleaned_data["object_type"],
                )
            except LeadopsError as exc:
                form.add_error("file", exc.message)
            else:
                self.log_change(request, connection, f"Uploaded CRM records from {upload.name}")
                messages.success(
                    request,
                    f"{result.rows} rows read: {result.received.stored} new records or changes stored for "
                    f"processing, {result.received.replayed} already received, {len(result.rejected)} rejected.",
                )
                for line, reason in result.rejected[:20]:
                    messages.warning(request, f"Line {line}: {reason}.")
                return HttpResponseRedirect(reverse("admin:crm_crmconnection_change", args=[pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": connection,
            "title": f"Upload CRM records to {connection}",
            "form": form,
        }
        return TemplateResponse(request, "admin/crm/crmconnection/upload.html", context)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                n_processed=Count("events", filter=Q(events__status=CrmEvent.Status.PROCESSED)),
                n_failed=Count("events", filter=Q(events__status=CrmEvent.Status.FAILED)),
                n_pending=Count("events", filter=Q(events__status=CrmEvent.Status.PENDING)),
            )
        )

    @admin.display(description="processed", ordering="n_processed")
    def processed(self, obj):
        return obj.n_processed

    @admin.display(description="failed", ordering="n_failed")
    def failed(self, obj):
        return obj.n_failed

    @admin.display(description="pending", ordering="n_pending")
    def pending(self, obj):
        return obj.n_pending

    @admin.display(description="Webhook URL path")
    def webhook_path(self, obj):
        return f"/api/v1/crm/{obj.pk}/events" if obj.pk else "—"

    @admin.display(description="Recent failed events")
    def recent_failures(self, obj):
        failures = obj.events.filter(status=CrmEvent.Status.FAILED).order_by("-received_at")[:20]
        if not failures:
            return "None."
        return format_html_join("\n", "<div>{} — {}</div>", ((e.event_id, e.error) for e in failures))

    @admin.display(description="Matched accounts and contacts per rule")
    def matches_per_rule(self, obj):
        rules = (
            CrmRule.objects.filter(customer_id=obj.customer_id)
            .annotate(open_matches=Count("matches", filter=Q(matches__ended_at__isnull=True)))
            .order_by("name")
        )
        return (
            format_html_join("\n", "<div>{}: {} matching records</div>", ((r.name, r.open_matches) for r in rules))
            or "No rules."
        )


class CrmRuleAdminForm(PreviewedForm, forms.ModelForm):
    """The rule's fields; saved only once the page has shown what it would do (``leadops.previewing``)."""

    previewed = previewed_field()

    class Meta:
        model = CrmRule
        fields = ["customer", *RULE_FIELDS]

    def _customer(self, cleaned):
        return cleaned.get("customer") or (self.instance.customer if self.instance.customer_id else None)

    def previewed_values(self, cleaned):
        customer = self._customer(cleaned)
        return {"customer": customer.pk if customer else None, **{name: cleaned.get(name) for name in RULE_FIELDS}}

    def preview_of(self, cleaned):
        rule = self.instance if self.instance.pk else None
        fields = {name: cleaned.get(name) for name in RULE_FIELDS}
        return crm_rule_preview(customer=self._customer(cleaned), fields=fields, rule=rule)


@admin.register(CrmRule)
class CrmRuleAdmin(admin.ModelAdmin):
    form = CrmRuleAdminForm
    change_form_template = "admin/crm/crmrule/change_form.html"
    list_display = ["name", "customer", "object_type", "property", "operator", "value", "effect", "is_active"]
    list_filter = ["object_type", "effect", "is_active"]
    search_fields = ["name", "customer__name", "property"]
    autocomplete_fields = ["customer"]
    list_select_related = ["customer"]
    actions = ["add_templates"]

    def has_delete_permission(self, request, obj=None):
        # Its matches are evidence of blocks: switch a rule off instead of deleting it.
        return False

    def get_readonly_fields(self, request, obj=None):
        # A rule stays its customer's: its matches are the evidence of that customer's blocks.
        return ("customer", "history") if obj is not None else ()

    def get_fields(self, request, obj=None):
        fields = ["customer", *RULE_FIELDS]
        return [*fields, "history"] if obj is not None else fields

    @admin.display(description="Changes (who, when, before → after)")
    def history(self, obj):
        changes = CrmRuleChange.objects.filter(rule=obj).select_related("changed_by").order_by("-changed_at", "-id")
        rows = (
            (
                f"{change.changed_at:%Y-%m-%d %H:%M}",
                change.changed_by.get_username() if change.changed_by_id else change.actor_job,
                "added" if change.before is None else _difference(change.before, change.after),
            )
            for change in changes[:50]
        )
        return format_html_join("\n", "<div>{} by {}: {}</div>", rows) or "No change recorded."

    def save_model(self, request, obj, form, change):
        fields = {name: form.cleaned_data[name] for name in RULE_FIELDS}
        if change:
            crm_rule_update(rule=obj, **fields, actor=request.user)
        else:
            rule = crm_rule_create(customer=form.cleaned_data["customer"], **fields, actor=request.user)
            obj.pk = rule.pk
            obj.refresh_from_db()
        messages.info(request, "Saved as previewed: the customer's CRM records are being re-evaluated against it.")

    @admin.action(
        description="Add the standard rules (existing customers, open deals) to these rules' customers",
        permissions=["add"],
    )
    def add_templates(self, request, queryset):
        customers = Customer.objects.filter(pk__in=queryset.order_by().values("customer_id"))
        added = crm_rules_templates_add(customers=customers, actor=request.user)
        if added:
            LogEntry.objects.log_actions(
                user_id=request.user.pk, queryset=added, action_flag=ADDITION, change_message="Added the standard rule."
            )
        messages.success(request, f"Added {len(added)} rule(s).")


def _difference(before: dict, after: dict) -> str:
    changed = [
        f"{name} {before.get(name)!r} → {after.get(name)!r}" for name in after if before.get(name) != after.get(name)
    ]
    return "; ".join(changed) or "saved unchanged"


@admin.register(CrmRecord)
class CrmRecordAdmin(admin.ModelAdmin):
    list_display = ["__str__", "connection", "object_type", "external_id", "domain", "is_deleted", "last_seen_at"]
    list_filter = ["object_type", "is_deleted"]
    search_fields = ["name", "external_id", "domain"]
    list_select_related = ["connection"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CrmEvent)
class CrmEventAdmin(admin.ModelAdmin):
    list_display = ["event_id", "connection", "status", "received_at", "processed_at", "error"]
    list_filter = ["status"]
    search_fields = ["event_id"]
    list_select_related = ["connection"]
    show_full_result_count = False

    def get_urls(self):
        view = self.admin_site.admin_view(self.optouts_view)
        return [path("opt-outs/", view, name="crm_crmevent_optouts"), *super().get_urls()]

    def optouts_view(self, request: HttpRequest) -> TemplateResponse:
        """Opt-out deadlines: every channel's time from receipt to force, and what is not in force yet."""
        if not request.user.has_perm("suppressions.view_upload"):
            raise PermissionDenied
        customers = customers_visible_to(request.user)
        request.current_app = self.admin_site.name
        return TemplateResponse(
            request,
            "admin/crm/optouts.html",
            {
                **self.admin_site.each_context(request),
                "title": "Opt-out deadlines",
                "pending": optouts_not_in_force(customers=customers),
                "delays": receipt_to_force(customers=customers, since=timezone.now() - timedelta(days=90)),
                "deadline_days": DEADLINE_BUSINESS_DAYS,
            },
        )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def _optouts_panel(request: HttpRequest) -> dict | None:
    """The ops home's warning: opt-outs late, or within two business days of their deadline."""
    if not request.user.has_perm("suppressions.view_upload"):
        return None
    urgent = [i for i in optouts_not_in_force(customers=customers_visible_to(request.user)) if i.needs_attention]
    if not urgent:
        return None
    return {"urgent": urgent, "late": sum(i.is_late for i in urgent), "url": reverse("admin:crm_crmevent_optouts")}


home_panel_register(name="optout-deadlines", template="admin/crm/optouts_panel.html", context=_optouts_panel, order=10)


@admin.register(CrmMatch)
class CrmMatchAdmin(admin.ModelAdmin):
    list_display = ["rule", "record", "matched_at", "ended_at"]
    list_select_related = ["rule", "record"]
    list_filter = ["rule"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
