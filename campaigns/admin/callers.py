"""Approved callers in the back office: approved and revoked on the campaign's page (an inline of every
approval, in force and revoked, with who and when) and in bulk from the user list ("Approve for campaigns…",
"Revoke approvals…"). Both need ``campaigns.approve_callers``; every write is ``callers_approve`` or
``approvals_revoke``, never a saved form.
"""

from __future__ import annotations

from collections import defaultdict

from django import forms
from django.contrib import admin
from django.db.models import F, QuerySet
from django.http import HttpRequest

from campaigns.admin.base import formset_changes, formset_saved
from campaigns.admin.forms import ApproveCallersForm, RevokeApprovalsForm
from campaigns.admin.workflows import Flow, _plural
from campaigns.models import CallerApproval, Campaign, User
from campaigns.services.actors import Actor
from campaigns.services.callers import APPROVE_PERMISSION, approvals_revoke, callers_approve, why_not_a_caller
from leadops.errors import LeadopsError

VIEW_PERMISSION = "campaigns.view_callerapproval"


def approver_name(user: User | None, job: str) -> str:
    if user is not None:
        return user.get_full_name() or user.get_username()
    return f"the {job} job" if job else "—"


# --- on the campaign's page -----------------------------------------------------------------------------


class CallerApprovalForm(forms.ModelForm):
    """A new row approves a caller; ticking "Revoke" on one in force revokes it, with the reason beside it."""

    revoke = forms.BooleanField(required=False, label="Revoke")

    class Meta:
        model = CallerApproval
        fields = ["caller", "revoke_reason"]
        labels = {"revoke_reason": "Why revoked"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        caller = self.fields["caller"]
        if self.instance.pk is None:
            # Any active agency user may be approved; a customer's user never (``why_not_a_caller``).
            caller.queryset = User.objects.filter(customer__isnull=True, is_active=True).order_by("username")
            self.fields["revoke"].disabled = self.fields["revoke_reason"].disabled = True
        else:
            caller.queryset = User.objects.filter(pk=self.instance.caller_id)
            caller.disabled = True
            if not self.instance.in_force:
                self.fields["revoke"].disabled = self.fields["revoke_reason"].disabled = True
        caller.label_from_instance = lambda user: (
            f"{user.get_full_name()} ({user.get_username()})" if user.get_full_name() else user.get_username()
        )

    def clean(self):
        cleaned = super().clean()
        caller = cleaned.get("caller")
        if self.instance.pk is None and caller is not None and (why := why_not_a_caller(caller)):
            self.add_error("caller", why)
        if self.instance.pk is not None and cleaned.get("revoke_reason") and not cleaned.get("revoke"):
            self.add_error("revoke", "Tick Revoke to revoke the approval with this reason.")
        return cleaned


class CallerApprovalInline(admin.TabularInline):
    """Every approval of the campaign: in force first, then the revoked ones (history, never deleted)."""

    model = CallerApproval
    form = CallerApprovalForm
    extra = 1
    can_delete = False
    fields = ("caller", "approved_at", "approved_by_label", "revoked_at", "revoked_by_label", "revoke_reason", "revoke")
    readonly_fields = ("approved_at", "approved_by_label", "revoked_at", "revoked_by_label")
    verbose_name = "approved caller"
    verbose_name_plural = "Approved callers (add a row to approve one; tick Revoke to end an approval, kept as history)"

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("caller", "approved_by", "revoked_by")
            .order_by(F("revoked_at").desc(nulls_first=True), "-approved_at", "-pk")
        )

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.has_perm(VIEW_PERMISSION) or request.user.has_perm(APPROVE_PERMISSION)

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.has_perm(APPROVE_PERMISSION)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.has_perm(APPROVE_PERMISSION)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    @admin.display(description="Approved by")
    def approved_by_label(self, obj: CallerApproval) -> str:
        return approver_name(obj.approved_by, obj.approved_by_job) if obj.pk else "—"

    @admin.display(description="Revoked by")
    def revoked_by_label(self, obj: CallerApproval) -> str:
        return approver_name(obj.revoked_by, obj.revoked_by_job) if obj.revoked_at else "—"


def approvals_save(formset, *, campaign: Campaign, actor: Actor) -> None:
    """Approve the callers of the inline's new rows and revoke the approvals ticked "Revoke", through the
    services (one call to approve, one per reason to revoke)."""
    added, changed = formset_changes(formset)
    callers = [f.cleaned_data["caller"] for f in added]
    new = callers_approve(callers=callers, campaigns=[campaign], actor=actor).created if callers else []
    revoking = [f for f in changed if f.cleaned_data.get("revoke")]
    by_reason: dict[str, list[int]] = defaultdict(list)
    for f in revoking:
        by_reason[f.cleaned_data.get("revoke_reason") or ""].append(f.instance.pk)
    for reason, ids in by_reason.items():
        approvals_revoke(approvals=CallerApproval.objects.filter(pk__in=ids), actor=actor, reason=reason)
    formset_saved(formset, new=new, changed=[(f.instance, f) for f in revoking])


# --- from the user list ---------------------------------------------------------------------------------


class ApprovesCallers:
    """The user list's "Approve for campaigns…" and "Revoke approvals…" (``campaigns.approve_callers``)."""

    def has_approve_callers_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(APPROVE_PERMISSION)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        # Who approves callers reads the user list to choose them (the Ops groups hold no user permission).
        return super().has_view_permission(request, obj) or self.has_approve_callers_permission(request)


def _refusals(queryset: QuerySet[User]) -> list[str]:
    return [why for why in map(why_not_a_caller, queryset) if why]


@admin.action(description="Approve for campaigns…", permissions=["approve_callers"])
def approve_for_campaigns(modeladmin, request, queryset):
    """Choose the campaigns, then approve every selected user for every one of them (``callers_approve``)."""
    flow = Flow(modeladmin, request, queryset, "approve_for_campaigns")
    flow.require("approve_callers")
    if (refused := flow.too_many()) is not None:
        return refused
    form = ApproveCallersForm(flow.data)
    problems = _refusals(queryset)
    if flow.confirmed and not problems and form.is_valid():
        campaigns = list(form.cleaned_data["campaigns"])
        try:
            approved = callers_approve(callers=queryset, campaigns=campaigns, actor=request.user)
        except LeadopsError as exc:
            form.add_error(None, exc.message)
        else:
            names = ", ".join(str(c) for c in campaigns)
            flow.log(queryset, f"Approved as a caller for {names}.")
            already = f" ({_plural(approved.already, 'approval')} already in force)" if approved.already else ""
            flow.message(
                f"Approved {_plural(queryset.count(), 'caller')} for {_plural(len(campaigns), 'campaign')}: "
                f"{_plural(len(approved.created), 'new approval')}{already}."
            )
            return flow.done()
    return flow.render("approve_callers", title="Approve callers for campaigns", form=form, problems=problems)


@admin.action(description="Revoke approvals…", permissions=["approve_callers"])
def revoke_approvals(modeladmin, request, queryset):
    """Choose which of the selected users' approvals in force to end (``approvals_revoke``)."""
    flow = Flow(modeladmin, request, queryset, "revoke_approvals")
    flow.require("approve_callers")
    if (refused := flow.too_many()) is not None:
        return refused
    in_force = (
        CallerApproval.objects.in_force()
        .filter(caller__in=queryset)
        .select_related("caller", "campaign__customer")
        .order_by("caller__username", "campaign__customer__name", "campaign__name")
    )
    form = RevokeApprovalsForm(flow.data, approvals=in_force)
    problems = [] if in_force.exists() else ["None of these users has an approval in force: nothing to revoke."]
    if flow.confirmed and not problems and form.is_valid():
        try:
            revoked = approvals_revoke(
                approvals=in_force.filter(pk__in=[a.pk for a in form.cleaned_data["approvals"]]),
                actor=request.user,
                reason=form.cleaned_data["reason"],
            )
        except LeadopsError as exc:
            form.add_error(None, exc.message)
        else:
            flow.log(queryset, f"Revoked caller approvals: {form.cleaned_data['reason'] or 'no reason given'}")
            flow.message(
                f"Revoked {_plural(revoked.revoked, 'approval')}: "
                f"{_plural(revoked.released, 'lease')} given back to the pool."
            )
            return flow.done()
    return flow.render("revoke_approvals", title="Revoke caller approvals", form=form, problems=problems)
