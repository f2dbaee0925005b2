"""The registries in the admin: the loads (read-only: a load is made with ``manage.py load_registry``), the
business campaigns' exemptions (granted and revoked through ``suppressions.services.registries``), and the ops
home's freshness panel."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest

from campaigns.models import Campaign
from leadops.errors import LeadopsError
from leadops.home import home_panel_register
from suppressions.models import RegistryExemption, RegistryLoad, registry_name
from suppressions.registries import FRESH_DAYS, national_freshness
from suppressions.services.registries import registry_exemption_grant, registry_exemption_revoke


@admin.register(RegistryLoad)
class RegistryLoadAdmin(admin.ModelAdmin):
    list_display = ("__str__", "registry", "kind", "loaded_at", "loaded_by_label", "added", "removed", "total")
    list_filter = ("registry", "kind")
    list_select_related = ("loaded_by",)
    show_full_result_count = False
    fields = ("registry", "kind", "loaded_at", "loaded_by_label", "files", "added", "removed", "total")
    readonly_fields = fields

    @admin.display(description="Loaded by")
    def loaded_by_label(self, obj: RegistryLoad) -> str:
        return obj.loaded_by.get_username() if obj.loaded_by_id else obj.loaded_by_job

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class RegistryExemptionForm(forms.ModelForm):
    class Meta:
        model = RegistryExemption
        fields = ("campaign", "reason")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["campaign"].queryset = Campaign.objects.filter(audience=Campaign.Audience.BUSINESS)
        self.fields["campaign"].help_text = "Only business campaigns may be exempted from the registries."

    def clean(self):
        cleaned = super().clean()
        campaign = cleaned.get("campaign")
        if (
            campaign is not None
            and RegistryExemption.objects.filter(campaign=campaign, revoked_at__isnull=True).exists()
        ):
            self.add_error("campaign", f"{campaign} is exempted already.")
        return cleaned


@admin.register(RegistryExemption)
class RegistryExemptionAdmin(admin.ModelAdmin):
    form = RegistryExemptionForm
    list_display = ("campaign", "reason", "granted_at", "granted_by", "revoked_at", "revoked_by")
    list_select_related = ("campaign", "granted_by", "revoked_by")
    list_filter = ("revoked_at",)
    actions = ["revoke"]

    def get_readonly_fields(self, request, obj=None):
        return ("campaign", "reason", "granted_at", "granted_by", "revoked_at", "revoked_by") if obj else ()

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        # The service records who and when; the form only parsed the input.
        saved = registry_exemption_grant(
            campaign=form.cleaned_data["campaign"], reason=form.cleaned_data["reason"], actor=request.user
        )
        obj.pk = saved.pk

    @admin.action(description="Revoke the selected exemptions", permissions=["add"])
    def revoke(self, request: HttpRequest, queryset):
        revoked = 0
        for exemption in queryset.filter(revoked_at__isnull=True):
            try:
                registry_exemption_revoke(exemption=exemption, actor=request.user)
            except LeadopsError as exc:
                self.message_user(request, exc.message, messages.ERROR)
                return
            revoked += 1
        self.message_user(request, f"{revoked} exemption{'s' if revoked != 1 else ''} revoked.", messages.SUCCESS)


def _registry_panel(request: HttpRequest) -> dict | None:
    """The ops home's warning: the national copy 25 days old or more, too old, or never loaded."""
    if not request.user.has_perm("suppressions.view_registryload"):
        return None
    freshness = national_freshness()
    if freshness.state == "fresh":
        return None
    return {
        "freshness": freshness,
        "fresh_days": FRESH_DAYS,
        "national": registry_name("national"),
    }


home_panel_register(
    name="registry-freshness", template="admin/suppressions/registry_panel.html", context=_registry_panel, order=15
)
