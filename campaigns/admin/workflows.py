"""The ops workflows as admin actions: each one a decorated function with a confirmation page.

Like Django's ``delete_selected``, an action called from a list (or from the Account Details page, which
posts to the same list) first answers with a confirmation page (a ``TemplateResponse`` that re-posts the
selection with ``post=yes``) saying exactly what will change; only the confirmed POST calls the service.
Each action is also reachable for a given selection at ``<model>/workflow/<action>/?ids=…`` (the buttons
of the change pages); that view checks the action's permission itself and answers 403 without it.

Nothing here decides anything: the writes are ``campaigns.services`` functions and the "what will change"
reads are ``campaigns.selectors.impact``. The admin adds only what is the admin's: forms, the log entry,
messages and where to go next.

What a user may act on is the list's ``get_queryset``: an approved caller's selection holds only rows of the
campaigns they are approved for (``campaigns.selectors.scope``; none at all is "not found"), the previews list
only those and count the rest, and the forms offer only their campaigns and customers. Each action has its own
permission (``MayRunWorkflows``, ``MayLiftBlocks``): a caller reads the change forms but may run these.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.models import CHANGE, LogEntry
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from campaigns.admin.forms import (
    CustomerDncForm,
    DisqualifyForm,
    PhoneDncForm,
    ReopenForm,
    UndisqualifyForm,
    UnqualifyForm,
)
from campaigns.models import Block, Contact, Lead, LeadStatus
from campaigns.selectors.explaining import block_sentence, blocks_stopping_many, explain
from campaigns.selectors.impact import (
    accounts_disqualify_impact,
    blocks_behind,
    contacts_disqualify_impact,
    leads_in_pool_impact,
    phone_dnc_impact,
    sharers_of_blocked_numbers,
)
from campaigns.selectors.scope import visible
from campaigns.services.calls import leads_reopen, leads_unqualify
from campaigns.services.undisqualify import leads_undisqualify, why_actor_may_not_lift
from campaigns.services.workflows import (
    accounts_disqualify,
    blocks_undisqualify,
    contacts_disqualify,
    customer_dnc_mark,
    phone_numbers_mark_dnc,
)
from leadops.errors import LeadopsError

# A confirmation re-posts the ids it lists; a bigger selection is refused with a message rather than
# sending thousands of ids back and forth (filter the list, or use the account's page).
SELECTION_LIMIT = 1000
LEADS_UNDISQUALIFIED_AT_ONCE = 50
BLOCKS_LISTED = 500
BLOCK_RELATIONS = ("actor", "customer", "campaign", "phone", "contact", "account", "lead__contact", "lead__campaign")


class Flow:
    """One run of an action: unconfirmed (show what will change) or confirmed (``post=yes``)."""

    def __init__(self, modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet, action: str):
        self.modeladmin = modeladmin
        self.request = request
        self.queryset = queryset
        self.action = action
        self.confirmed = request.method == "POST" and request.POST.get("post") == "yes"
        self.data = request.POST if self.confirmed else None
        self.opts = modeladmin.model._meta

    def require(self, permission: str) -> None:
        """Refuse (403) a user without the action's permission, however the action was reached, and answer "not
        found" (404) for a selection of which they may see nothing (an approved caller posting another campaign's
        ids: the list's ``get_queryset`` left none of them)."""
        if not getattr(self.modeladmin, f"has_{permission}_permission")(self.request):
            raise PermissionDenied
        if not self.queryset.exists():
            raise Http404("Nothing selected.")

    @property
    def next_url(self) -> str:
        url = self.request.POST.get("next") or self.request.GET.get("next") or ""
        if url and url_has_allowed_host_and_scheme(url, {self.request.get_host()}, self.request.is_secure()):
            return url
        return ""

    @property
    def changelist_url(self) -> str:
        return reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist")

    def too_many(self) -> HttpResponseRedirect | None:
        if self.queryset.order_by()[: SELECTION_LIMIT + 1].count() > SELECTION_LIMIT:
            self.modeladmin.message_user(
                self.request,
                f"Select at most {SELECTION_LIMIT:,} at a time: filter the list first. Nothing was changed.",
                messages.WARNING,
            )
            return self.done()
        return None

    def render(self, name: str, *, title: str, form=None, problems: Iterable[str] = (), **context) -> TemplateResponse:
        objects = list(self.queryset)
        request = self.request
        request.current_app = self.modeladmin.admin_site.name
        return TemplateResponse(
            request,
            [
                f"admin/{self.opts.app_label}/{self.opts.model_name}/{name}.html",
                f"admin/{self.opts.app_label}/workflow/{name}.html",
            ],
            {
                **self.modeladmin.admin_site.each_context(request),
                "title": title,
                "subtitle": None,
                "opts": self.opts,
                "objects": objects,
                "selected_ids": [obj.pk for obj in objects],
                "action_name": self.action,
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                "form": form,
                "problems": list(problems),
                "changelist_url": self.changelist_url,
                "next": self.next_url,
                "back_url": self.next_url or self.changelist_url,
                "media": self.modeladmin.media + (form.media if form is not None else admin.widgets.forms.Media()),
                **context,
            },
        )

    def done(self) -> HttpResponseRedirect:
        return HttpResponseRedirect(self.next_url or self.changelist_url)

    def log(self, objects: Iterable[Model], message: str) -> None:
        """Write the admin log entry (one per object, one INSERT) for what the workflow changed."""
        objects = list(objects)
        if objects:
            LogEntry.objects.log_actions(
                user_id=self.request.user.pk, queryset=objects, action_flag=CHANGE, change_message=message
            )

    def message(self, text: str, level: int = messages.SUCCESS) -> None:
        self.modeladmin.message_user(self.request, text, level)


def _customer_ids(queryset: QuerySet) -> set[int]:
    return set(queryset.order_by().values_list("customer_id", flat=True).distinct())


def _one_customer_problem(customer_ids: set[int], what: str) -> list[str]:
    if len(customer_ids) > 1:
        return [f"These {what} belong to {len(customer_ids)} customers: choose {what} of one customer at a time."]
    return []


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


# --- Disqualify -------------------------------------------------------------------------------------


def _disqualify(modeladmin, request, queryset, *, action: str, what: str) -> TemplateResponse | HttpResponseRedirect:
    flow = Flow(modeladmin, request, queryset, action)
    flow.require("disqualify")
    if (refused := flow.too_many()) is not None:
        return refused
    customer_ids = _customer_ids(queryset)
    form = DisqualifyForm(
        flow.data, customer_ids=customer_ids, user=request.user, initial={"reach": Block.Reach.CUSTOMER}
    )
    problems = _one_customer_problem(customer_ids, what)
    if flow.confirmed and not problems and form.is_valid():
        data = form.cleaned_data
        service = contacts_disqualify if what == "contacts" else accounts_disqualify
        try:
            made = service(
                **{what: queryset},
                reason=data["reason"],
                reach=data["reach"],
                campaign=data["campaign"] if data["reach"] == Block.Reach.CAMPAIGN else None,
                actor=request.user,
                note=data["note"],
                note_shown=data["note_shown"],
                ends_at=timezone.now() + timedelta(days=data["days"]) if data["days"] else None,
            )
        except LeadopsError as exc:
            form.add_error(None, exc.message)
        else:
            scope = (
                f"in the campaign {data['campaign']}" if data["reach"] == Block.Reach.CAMPAIGN else "for the customer"
            )
            if data["days"]:
                scope += f" for {_plural(data['days'], 'day')}"
            label = Block.Reason(data["reason"]).label
            flow.log(queryset, f"Disqualified {scope} ({label}) with the Disqualify workflow.")
            flow.message(
                f"Disqualified {_plural(len(made.blocks), what[:-1])} {scope} ({label}): "
                f"{_plural(made.leads_changed, 'lead')} left the pool."
            )
            return flow.done()
    impact_fn = contacts_disqualify_impact if what == "contacts" else accounts_disqualify_impact
    return flow.render(
        "disqualify_confirmation",
        title=f"Disqualify {what}",
        form=form,
        problems=problems,
        impact=impact_fn(**{what: queryset}, user=request.user),
        what=what,
    )


@admin.action(description="Disqualify selected contacts…", permissions=["disqualify"])
def disqualify_contacts(modeladmin, request, queryset):
    return _disqualify(modeladmin, request, queryset, action="disqualify_contacts", what="contacts")


@admin.action(description="Disqualify selected accounts…", permissions=["disqualify"])
def disqualify_accounts(modeladmin, request, queryset):
    return _disqualify(modeladmin, request, queryset, action="disqualify_accounts", what="accounts")


# --- Customer Do Not Call ---------------------------------------------------------------------------


def _customer_dnc(modeladmin, request, queryset, *, action: str, what: str):
    flow = Flow(modeladmin, request, queryset, action)
    flow.require("customer_dnc")
    if (refused := flow.too_many()) is not None:
        return refused
    customer_ids = _customer_ids(queryset)
    problems = _one_customer_problem(customer_ids, what)
    form = CustomerDncForm(flow.data)
    if flow.confirmed and not problems and form.is_valid():
        try:
            made = customer_dnc_mark(
                **{what: queryset},
                actor=request.user,
                note=form.cleaned_data["note"],
                note_shown=form.cleaned_data["note_shown"],
            )
        except LeadopsError as exc:
            form.add_error(None, exc.message)
        else:
            flow.log(queryset, f"Recorded the customer's Do Not Call: {form.cleaned_data['note']}")
            flow.message(
                f"Recorded the customer's Do Not Call for {_plural(len(made.blocks), what[:-1])}: "
                f"{_plural(made.leads_changed, 'lead')} left the pool."
            )
            return flow.done()
    impact_fn = contacts_disqualify_impact if what == "contacts" else accounts_disqualify_impact
    return flow.render(
        "customer_dnc_confirmation",
        title=f"Record the customer's Do Not Call for {what}",
        form=form,
        problems=problems,
        impact=impact_fn(**{what: queryset}, user=request.user),
        what=what,
    )


@admin.action(description="Customer Do Not Call for selected contacts…", permissions=["customer_dnc"])
def customer_dnc_contacts(modeladmin, request, queryset):
    return _customer_dnc(modeladmin, request, queryset, action="customer_dnc_contacts", what="contacts")


@admin.action(description="Customer Do Not Call for selected accounts…", permissions=["customer_dnc"])
def customer_dnc_accounts(modeladmin, request, queryset):
    return _customer_dnc(modeladmin, request, queryset, action="customer_dnc_accounts", what="accounts")


# --- Mark Phone DNC ---------------------------------------------------------------------------------


@admin.action(description="Mark selected numbers Do Not Call…", permissions=["mark_dnc"])
def mark_phone_dnc(modeladmin, request, queryset):
    flow = Flow(modeladmin, request, queryset, "mark_phone_dnc")
    flow.require("mark_dnc")
    if (refused := flow.too_many()) is not None:
        return refused
    form = PhoneDncForm(
        flow.data, user=request.user, initial={"reach": Block.Reach.PLATFORM, "previewed": Block.Reach.PLATFORM}
    )
    reach, customer = Block.Reach.PLATFORM, None
    if flow.confirmed and form.is_valid():
        data = form.cleaned_data
        reach, customer = data["reach"], data["customer"] if data["reach"] == Block.Reach.CUSTOMER else None
        if form.previewed_matches():
            try:
                made = phone_numbers_mark_dnc(
                    phones=queryset,
                    reach=reach,
                    customer=customer,
                    actor=request.user,
                    note=data["note"],
                    note_shown=data["note_shown"],
                )
            except LeadopsError as exc:
                form.add_error(None, exc.message)
            else:
                scope = "platform-wide" if reach == Block.Reach.PLATFORM else f"for {customer}"
                flow.log(queryset, f"Marked Do Not Call {scope} with the Mark Phone DNC workflow.")
                flow.message(
                    f"Marked {_plural(len(made.blocks), 'number')} Do Not Call {scope}: "
                    f"{_plural(made.leads_changed, 'lead')} left the pool."
                )
                return flow.done()
        else:
            # The choices changed since the page was shown: show what they will change, and ask again.
            form = PhoneDncForm({**request.POST.dict(), "previewed": form.impact_key()}, user=request.user)
            form.is_valid()
            flow.message("The choices changed: check what they will change and confirm again.", messages.WARNING)
    return flow.render(
        "mark_dnc_confirmation",
        title="Mark numbers Do Not Call",
        form=form,
        impact=phone_dnc_impact(phones=queryset, reach=reach, customer=customer, user=request.user),
        reach=reach,
        customer=customer,
    )


# --- Undisqualify -----------------------------------------------------------------------------------


CAME_BACK_LISTED = 100


def came_back_shown(request, lead_ids: list[int]) -> dict | None:
    """The leads an undisqualify brought back, as the user may see them: up to ``CAME_BACK_LISTED``, then how many
    more, and how many are in campaigns they do not work (never which)."""
    if not lead_ids:
        return None
    seen = visible(Lead.objects.filter(pk__in=lead_ids), request.user)
    leads = list(seen.select_related("contact__account", "campaign").order_by("pk")[: CAME_BACK_LISTED + 1])
    seen_count = len(leads) if len(leads) <= CAME_BACK_LISTED else seen.count()
    return {
        "count": len(lead_ids),
        "leads": leads[:CAME_BACK_LISTED],
        "more": max(0, seen_count - CAME_BACK_LISTED),
        "not_seen": len(lead_ids) - seen_count,
    }


@admin.action(description="Undisqualify selected leads…", permissions=["lift"])
def undisqualify_leads(modeladmin, request, queryset):
    flow = Flow(modeladmin, request, queryset, "undisqualify_leads")
    flow.require("lift")
    if queryset.order_by()[: LEADS_UNDISQUALIFIED_AT_ONCE + 1].count() > LEADS_UNDISQUALIFIED_AT_ONCE:
        flow.message(f"Undisqualify at most {LEADS_UNDISQUALIFIED_AT_ONCE} leads at a time.", messages.WARNING)
        return flow.done()
    leads = list(queryset.select_related("contact__account", "campaign", "customer"))
    stopping = {pk: blocks for pk, (blocks, _) in blocks_stopping_many(leads).items()}
    sharers = sharers_of_blocked_numbers(Block.objects.filter(pk__in=[b.pk for bs in stopping.values() for b in bs]))
    rows = [
        {
            "lead": lead,
            "blocks": [
                {
                    "block": b,
                    "sentence": block_sentence(b, lead=lead),
                    "why_not": why_actor_may_not_lift(b, actor=request.user),
                    "shared_by": sharers.get(b.phone_id, 0) if b.target == Block.Target.PHONE else 0,
                }
                for b in stopping[lead.pk]
            ],
            "other_reasons": [r.message for r in explain(lead) if r.block is None],
        }
        for lead in leads
    ]
    choices = [(item["block"].pk, item["sentence"]) for row in rows for item in row["blocks"]]
    form = UndisqualifyForm(flow.data, block_choices=list(dict(choices).items()))
    if flow.confirmed and form.is_valid():
        try:
            results = leads_undisqualify(
                leads=queryset,
                actor=request.user,
                reason=form.cleaned_data["reason"],
                block_ids=set(form.cleaned_data["blocks"]),
            )
        except LeadopsError as exc:
            form.add_error(None, exc.message)
        else:
            flow.log(leads, f"Undisqualified: {form.cleaned_data['reason']}")
            return flow.render(
                "undisqualify_result",
                title="Undisqualify: done",
                results=[
                    {
                        "lead": lead,
                        "status": LeadStatus(result.status).label,
                        "lifted": [block_sentence(b, lead=lead) for b in result.lifted],
                        "kept": [
                            {"sentence": block_sentence(k.block, lead=lead) if k.block else "", "why": k.why}
                            for k in result.kept
                        ],
                    }
                    for lead in leads
                    if (result := results.get(lead.pk)) is not None
                ],
                came_back=came_back_shown(request, next(iter(results.values())).came_back if results else []),
            )
    return flow.render("undisqualify_confirmation", title="Undisqualify leads", form=form, rows=rows)


def _undisqualify_targets(modeladmin, request, queryset, *, action: str, what: str):
    flow = Flow(modeladmin, request, queryset, action)
    flow.require("lift")
    if (refused := flow.too_many()) is not None:
        return refused
    behind = blocks_behind(**{what: queryset})
    blocks = list(behind.select_related(*BLOCK_RELATIONS).order_by("-created_at", "-pk")[:BLOCKS_LISTED])
    sharers = sharers_of_blocked_numbers(behind)
    items = [
        {
            "block": b,
            "sentence": block_sentence(b),
            "why_not": why_actor_may_not_lift(b, actor=request.user),
            "shared_by": sharers.get(b.phone_id, 0) if b.target == Block.Target.PHONE else 0,
        }
        for b in blocks
    ]
    form = UndisqualifyForm(flow.data, block_choices=[(i["block"].pk, i["sentence"]) for i in items])
    if flow.confirmed and form.is_valid():
        result = blocks_undisqualify(
            blocks=behind.filter(pk__in=form.cleaned_data["blocks"]),
            actor=request.user,
            reason=form.cleaned_data["reason"],
        )
        flow.log(queryset, f"Undisqualified: {form.cleaned_data['reason']}")
        leads = Lead.objects.filter(
            contact_id__in=(
                queryset.values("pk")
                if what == "contacts"
                else Contact.objects.filter(account__in=queryset).values("pk")
            )
        )
        return flow.render(
            "undisqualify_result",
            title="Undisqualify: done",
            results=[
                {
                    "lead": None,
                    "lifted": [block_sentence(b) for b in result.lifted],
                    "kept": [{"sentence": block_sentence(k.block), "why": k.why} for k in result.kept if k.block],
                }
            ],
            leads_in_pool=leads_in_pool_impact(leads, user=request.user),
            came_back=came_back_shown(request, result.came_back),
            what=what,
        )
    return flow.render(
        "undisqualify_targets_confirmation",
        title=f"Undisqualify {what}",
        form=form,
        items=items,
        more=behind.count() > len(blocks),
        what=what,
    )


@admin.action(description="Undisqualify selected contacts…", permissions=["lift"])
def undisqualify_contacts(modeladmin, request, queryset):
    return _undisqualify_targets(modeladmin, request, queryset, action="undisqualify_contacts", what="contacts")


@admin.action(description="Undisqualify selected accounts…", permissions=["lift"])
def undisqualify_accounts(modeladmin, request, queryset):
    return _undisqualify_targets(modeladmin, request, queryset, action="undisqualify_accounts", what="accounts")


# --- Unqualify and reopen ---------------------------------------------------------------------------


@admin.action(description="Unqualify selected leads…", permissions=["unqualify"])
def unqualify_leads(modeladmin, request, queryset):
    flow = Flow(modeladmin, request, queryset, "unqualify_leads")
    flow.require("unqualify")
    if (refused := flow.too_many()) is not None:
        return refused
    form = UnqualifyForm(flow.data)
    if flow.confirmed and form.is_valid():
        label = Block.Reason(form.cleaned_data["reason"]).label
        try:
            blocks = leads_unqualify(
                leads=queryset,
                reason=form.cleaned_data["reason"],
                actor=request.user,
                note=form.cleaned_data["note"],
                note_shown=form.cleaned_data["note_shown"],
            )
        except LeadopsError as exc:
            # All or nothing: the service changed nothing; say why on the same page, the choices kept.
            form.add_error(None, exc.message)
        else:
            flow.log(Lead.objects.filter(pk__in=[b.lead_id for b in blocks]), f"Unqualified ({label}).")
            flow.message(f"Unqualified {_plural(len(blocks), 'lead')} ({label}).")
            return flow.done()
    return flow.render(
        "unqualify_confirmation",
        title="Unqualify leads",
        form=form,
        impact=leads_in_pool_impact(queryset, user=request.user),
    )


@admin.action(description="Reopen selected unqualified leads…", permissions=["reopen"])
def reopen_leads(modeladmin, request, queryset):
    flow = Flow(modeladmin, request, queryset, "reopen_leads")
    flow.require("reopen")
    if (refused := flow.too_many()) is not None:
        return refused
    form = ReopenForm(flow.data)
    if flow.confirmed and form.is_valid():
        selected = queryset.count()
        try:
            reopened = leads_reopen(leads=queryset, actor=request.user, reason=form.cleaned_data["reason"])
        except LeadopsError as exc:
            form.add_error(None, exc.message)
        else:
            flow.log(Lead.objects.filter(pk__in=reopened.lead_ids), f"Reopened: {form.cleaned_data['reason']}")
            nothing = selected - len(reopened.lead_ids)
            text = f"Reopened {_plural(len(reopened.lead_ids), 'lead')}."
            if nothing:
                text += f" {_plural(nothing, 'lead')} had nothing to reopen (Undisqualify lifts other blocks)."
            flow.message(text)
            return flow.done()
    return flow.render("reopen_confirmation", title="Reopen leads", form=form)


# --- entry points from change pages -----------------------------------------------------------------


class WorkflowEntryMixin:
    """``<model>/workflow/<action>/?ids=1,2&next=…``: start an action for a selection with a GET (a link)."""

    def get_urls(self):
        opts = self.model._meta
        urls = [
            path(
                "workflow/<str:action>/",
                self.admin_site.admin_view(self.workflow_entry_view),
                name=f"{opts.app_label}_{opts.model_name}_workflow",
            )
        ]
        return urls + super().get_urls()

    def changelist_view(self, request, extra_context=None):
        # A workflow started from another page (Account Details' "Mark Phone DNC…") with nothing ticked goes back
        # there with a message, not to this model's list of every row.
        back = request.POST.get("next", "") if request.method == "POST" else ""
        if (
            back
            and request.POST.get("action")
            and not request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)
            and request.POST.get("select_across") != "1"
            and url_has_allowed_host_and_scheme(back, {request.get_host()}, request.is_secure())
        ):
            what = self.model._meta.verbose_name_plural
            self.message_user(request, f"Tick one or more {what} first, then choose the workflow.", messages.WARNING)
            return HttpResponseRedirect(back)
        return super().changelist_view(request, extra_context)

    def workflow_entry_view(self, request: HttpRequest, action: str):
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        known = {name for name in (getattr(a, "__name__", a) for a in self.actions or ())}
        if action not in known:
            raise Http404("No such workflow.")
        # get_actions keeps only the actions whose permissions the user has.
        actions = self.get_actions(request)
        if action not in actions:
            raise PermissionDenied
        ids = [int(part) for part in request.GET.get("ids", "").split(",") if part.strip().isdigit()]
        queryset = self.get_queryset(request).filter(pk__in=ids)
        if not ids or not queryset.exists():
            raise Http404("Nothing selected.")
        return actions[action][0](self, request, queryset)


def workflow_url(model: type[Model], action: str, ids: Iterable[int], next_url: str = "") -> str:
    from django.utils.http import urlencode

    opts = model._meta
    params = {"ids": ",".join(str(i) for i in ids)}
    if next_url:
        params["next"] = next_url
    return f"{reverse(f'admin:{opts.app_label}_{opts.model_name}_workflow', args=[action])}?{urlencode(params)}"


__all__ = [
    "WorkflowEntryMixin",
    "customer_dnc_accounts",
    "customer_dnc_contacts",
    "disqualify_accounts",
    "disqualify_contacts",
    "mark_phone_dnc",
    "reopen_leads",
    "undisqualify_accounts",
    "undisqualify_contacts",
    "undisqualify_leads",
    "unqualify_leads",
    "workflow_url",
]
