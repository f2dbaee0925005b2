"""What every ModelAdmin of the back office shares: list pages at scale, no deletion, read-only inlines."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Model, QuerySet
from django.forms import BaseModelFormSet, ModelForm
from django.http import HttpRequest
from django.urls import reverse
from django.utils.http import urlencode

from campaigns.admin.pagination import BoundedCountPaginator

NOTHING_STOPS_THIS_LEAD = "Nothing stops this lead."


def take_over(obj: Model, saved: Model) -> None:
    """Make the add form's ``obj`` the row the service ``saved``: its id, then every field as stored.

    After ``save_model`` Django's ``ModelAdmin`` goes on with the object it passed in, not with what
    ``save_model`` made: the inlines (built on ``form.instance``) save against it, the log entry and the
    redirect of ``response_add`` name it. Giving it the saved row's primary key and reloading it with
    ``refresh_from_db`` (Django's documented reload) is all they need; the service stays the one write.
    """
    obj.pk = saved.pk
    obj.refresh_from_db()


def formset_changes(formset: BaseModelFormSet) -> tuple[list[ModelForm], list[ModelForm]]:
    """Return the forms of ``formset`` that add a row, and those that change one, as ``formset.save()`` would
    find them (no inline here offers deletion)."""
    added = [form for form in formset.extra_forms if form.has_changed()]
    changed = [form for form in formset.initial_forms if form.instance.pk is not None and form.has_changed()]
    return added, changed


def formset_saved(formset: BaseModelFormSet, *, new: list[Model], changed: list[tuple[Model, ModelForm]]) -> None:
    """Record on ``formset`` what the services saved for it, as ``formset.save()`` does: the admin's log entry
    (``construct_change_message``) names the rows added and the fields changed from these."""
    formset.new_objects = new
    formset.changed_objects = [(obj, form.changed_data) for obj, form in changed]
    formset.deleted_objects = []


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
