"""Admin of the CRM integration: connections with their health, records, events and rules."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import Count, Q
from django.utils.html import format_html_join

from suppressions.crm.models import CrmConnection, CrmEvent, CrmMatch, CrmRecord, CrmRule
from suppressions.crm.services import crm_rule_templates_add
from suppressions.crm.services.rules import crm_rule_changed


@admin.register(CrmConnection)
class CrmConnectionAdmin(admin.ModelAdmin):
    list_display = ["name", "customer", "kind", "is_active", "last_event_at", "processed", "failed", "pending"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "customer__name"]
    autocomplete_fields = ["customer"]
    list_select_related = ["customer"]
    readonly_fields = ["last_event_at", "created_at", "webhook_path", "recent_failures", "matches_per_rule"]

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


@admin.register(CrmRule)
class CrmRuleAdmin(admin.ModelAdmin):
    list_display = ["name", "customer", "object_type", "property", "operator", "value", "effect", "is_active"]
    list_filter = ["object_type", "effect", "is_active"]
    search_fields = ["name", "customer__name", "property"]
    autocomplete_fields = ["customer"]
    list_select_related = ["customer"]
    actions = ["add_templates"]

    def has_delete_permission(self, request, obj=None):
        # Its matches are evidence of blocks: switch a rule off instead of deleting it.
        return False

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        crm_rule_changed(rule=obj)
        messages.info(request, "The customer's CRM records are being re-evaluated against its rules.")

    @admin.action(description="Add the standard rules (existing customers, open deals) to these rules' customers")
    def add_templates(self, request, queryset):
        added = 0
        for customer_id in set(queryset.values_list("customer_id", flat=True)):
            from campaigns.models import Customer

            for rule in crm_rule_templates_add(customer=Customer.objects.get(pk=customer_id)):
                crm_rule_changed(rule=rule)
                added += 1
        messages.success(request, f"Added {added} rule(s).")


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

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


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
