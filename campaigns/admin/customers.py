"""Tenants and users."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from campaigns.admin.base import (
    KeepsHistory,
    ListAtScale,
    ScopedToCampaigns,
    take_over,
)
from campaigns.admin.callers import ApprovesCallers, approve_for_campaigns, revoke_approvals
from campaigns.models import (
    Customer,
    User,
)
from campaigns.services import (
    customer_create,
    customer_update,
)

# --- tenants and users ----------------------------------------------------------------------------


@admin.register(Customer)
class CustomerAdmin(ScopedToCampaigns, ListAtScale, KeepsHistory, admin.ModelAdmin):
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
class UserAdmin(ApprovesCallers, ListAtScale, DjangoUserAdmin):
    list_display = ("username", "email", "first_name", "last_name", "customer", "is_staff", "is_active")
    list_filter = (*DjangoUserAdmin.list_filter, "customer")
    actions = [approve_for_campaigns, revoke_approvals]
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
