"""What every ModelAdmin of the back office shares: list pages at scale, no deletion, read-only inlines, and
what an approved caller may see of each model."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.utils import get_fields_from_path, unquote
from django.contrib.admin.views.main import PAGE_VAR, SEARCH_VAR, ChangeList
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.forms import BaseModelFormSet, ModelForm
from django.http import Http404, HttpRequest
from django.urls import reverse
from django.utils.http import urlencode

from campaigns.models import User
from campaigns.selectors.explaining import OPS, Audience
from campaigns.selectors.scope import audience_for, sees_everything, visible
from leadops.pagination import BoundedCountPaginator, page_asked

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
    """List pages that never count a whole table, and find a row by its id when the search is a number.

    A list of people (``finds`` set to one of ``campaigns.selectors.searching``'s finders) finds what people
    type instead: words across names, account name and email, a phone number in any writing, or an id.
    """

    paginator = BoundedCountPaginator
    show_full_result_count = False
    list_per_page = 100
    finds = None

    def get_paginator(
        self, request: HttpRequest, queryset: QuerySet, per_page: int, orphans=0, allow_empty_first_page=True
    ):
        searched = bool(request.GET.get(SEARCH_VAR, "").strip())
        # The changelist's page numbers start at 1 in the query string (``p``).
        through = page_asked(request.GET.get(PAGE_VAR, 1))
        return self.paginator(
            queryset, per_page, orphans, allow_empty_first_page, searched=searched, searched_through=through
        )

    def get_search_results(self, request: HttpRequest, queryset: QuerySet, search_term: str):
        if self.finds is not None:
            if not search_term.strip():
                return queryset, False
            return queryset.filter(type(self).finds(search_term)), False
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


# --- what an approved caller sees -------------------------------------------------------------------------


def seen_by(obj: Model, request: HttpRequest, audience: Audience | None = None) -> Model:
    """Remember on ``obj`` who reads it in this request, for the display methods (which get no request)."""
    obj._viewer = request.user
    obj._audience = audience_for(request.user) if audience is None else audience
    return obj


def viewer_of(obj: Model) -> User | None:
    """Return who reads ``obj`` in this request (``seen_by``), or None when no one said (ops' wording)."""
    return getattr(obj, "_viewer", None)


def audience_of(obj: Model) -> Audience:
    """Return how the reader of ``obj`` reads block sentences: ``OPS`` unless ``seen_by`` said otherwise."""
    return getattr(obj, "_audience", OPS)


class ScopedRelatedFieldListFilter(admin.RelatedFieldListFilter):
    """A list filter whose choices are only the related rows the user may see: a caller's campaign filter names
    their campaigns, never another's (ops: every row, as Django's own filter)."""

    def field_choices(self, field, request, model_admin):
        ordering = self.field_admin_ordering(field, request, model_admin)
        if sees_everything(request.user):
            return field.get_choices(include_blank=False, ordering=ordering)
        mine = visible(field.related_model._default_manager.all(), request.user).values("pk")
        return field.get_choices(include_blank=False, ordering=ordering, limit_choices_to={"pk__in": mine})


class ScopedChangeList(ChangeList):
    """A list page whose rows know who reads them (``seen_by``): one audience for the page."""

    def get_results(self, request):
        super().get_results(request)
        self.audience = audience_for(request.user)
        for row in self.result_list:
            seen_by(row, request, self.audience)


class ScopedToCampaigns:
    """What an approved caller sees of this model, and nothing else: ``campaigns.selectors.scope``, the one place
    that says it (ops and superusers see every row, unfiltered).

    The list, the change page, history, actions, autocomplete and the list filters' choices all read
    ``get_queryset``; a row outside the caller's scope is not found (404), exactly like one that does not
    exist. A caller reads; they change things only through the workflows (each with its own permission), so
    the change form is ops' alone.
    """

    def get_queryset(self, request):
        return visible(super().get_queryset(request), request.user)

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            # Not "doesn't exist, perhaps it was deleted?" and a redirect (Django's history and delete pages do
            # so before asking for any permission): for anyone but ops, a row outside their scope is not found.
            if not sees_everything(request.user):
                raise Http404("Not found.")
            return None
        return seen_by(obj, request)

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return sees_everything(request.user) and super().has_change_permission(request, obj)

    def history_view(self, request, object_id, extra_context=None):
        if not sees_everything(request.user):
            # The log is ops' own words about a row every campaign shares (a workflow logs the campaign or the
            # customer it was for): not an approved caller's to read. A row outside their scope is not found.
            self.get_object(request, unquote(object_id))
            raise PermissionDenied
        return super().history_view(request, object_id, extra_context)

    def get_changelist(self, request, **kwargs):
        return ScopedChangeList

    def get_list_filter(self, request):
        scoped = []
        for entry in super().get_list_filter(request):
            if isinstance(entry, str) and get_fields_from_path(self.model, entry)[-1].many_to_one:
                entry = (entry, ScopedRelatedFieldListFilter)
            scoped.append(entry)
        return scoped


class MayRunWorkflows:
    """The workflows' permissions: Disqualify needs the model's change permission, Customer Do Not Call also
    ``work_every_campaign`` (it records the customer's own instruction: ops' job), Unqualify ``change_lead``,
    Reopen ``reopen_lead``. What each may touch is ``get_queryset``'s answer."""

    def has_disqualify_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(f"{self.opts.app_label}.change_{self.opts.model_name}")

    def has_customer_dnc_permission(self, request: HttpRequest) -> bool:
        return sees_everything(request.user) and self.has_disqualify_permission(request)

    def has_unqualify_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("campaigns.change_lead")

    def has_reopen_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("campaigns.reopen_lead")
