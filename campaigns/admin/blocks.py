"""Blocks: read-only, made by the workflows and lifted with Undisqualify."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html

from campaigns.admin.base import (
    KeepsHistory,
    ListAtScale,
    ScopedToCampaigns,
    audience_of,
)
from campaigns.models import (
    Block,
)
from campaigns.selectors import block_sentence
from campaigns.selectors.explaining import OPS, SENTENCE_RELATIONS, CallerAudience, block_badge
from campaigns.selectors.scope import sees_everything

# --- blocks ---------------------------------------------------------------------------------------

# What a block's page does not show an approved caller of a block made outside their campaigns.
ELSEWHERE_WORDS = {"evidence_text", "note", "lift_reason", "caller_campaign"}


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
class BlockAdmin(ScopedToCampaigns, ListAtScale, KeepsHistory, admin.ModelAdmin):
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
        "why",
    )
    list_filter = (BlockStateFilter, "source", "reach", "target", "reason", "customer")
    list_select_related = (*SENTENCE_RELATIONS, "lead__campaign")
    search_fields = ("=phone__e164", "^contact__last_name", "^account__name", "evidence_text")
    search_help_text = "E.164 number, contact last name, account name, evidence text, or a block id."
    fieldsets = (
        (None, {"fields": ("sentence", "target", "lead", "contact", "account", "phone")}),
        ("Why", {"fields": ("source", "reason", "reach", "customer", "campaign", "evidence_text", "note")}),
        ("Evidence", {"fields": ("evidence_type", "evidence_id")}),
        ("Made", {"fields": ("actor", "actor_job", "caller_campaign", "created_at")}),
        ("Lifted", {"fields": ("lifted_at", "lifted_by", "lifted_by_job", "lift_reason")}),
    )
    readonly_fields = ("sentence",)

    def get_fieldsets(self, request, obj=None):
        audience = audience_of(obj) if obj is not None else OPS
        if not isinstance(audience, CallerAudience) or audience.made_within(obj):
            return self.fieldsets
        # A block made outside the caller's campaigns (a shared number marked on another customer's call): what is
        # stopped, by whom and when, never its evidence, note or lift reason, nor the campaign its caller worked.
        return tuple(
            (title, {**options, "fields": [f for f in options["fields"] if f not in ELSEWHERE_WORDS]})
            for title, options in self.fieldsets
            if title != "Evidence"
        )

    def get_search_fields(self, request):
        # The evidence's words are searched only by those who may read them all.
        if sees_everything(request.user):
            return self.search_fields
        return tuple(f for f in self.search_fields if f != "evidence_text")

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

    @admin.display(description="Why")
    def why(self, obj: Block) -> str:
        # The badge expands to the sentence: the list stays within a 1400-px window.
        return format_html(
            '<details class="why-badge"><summary>{}</summary>{}</details>',
            block_badge(obj, audience=audience_of(obj)),
            self.sentence(obj),
        )

    @admin.display(description="Sentence")
    def sentence(self, obj: Block) -> str:
        text = block_sentence(obj, audience=audience_of(obj))
        return f"(Lifted) {text}" if obj.lifted_at else text
