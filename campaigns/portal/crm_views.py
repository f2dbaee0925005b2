"""The portal's self-service pages: the customer's CRM connections and rules, each rule change previewed
before it is saved, and asking the agency to lift a block.

Thin views, as in ``views``: every id is looked up through ``owned_or_404`` first, whatever the method; the
writes are the admin's services (``suppressions.crm.services``, ``campaigns.services.undo_requests``).
A rule is saved only from a page that showed its preview for exactly the fields posted (``RuleForm.previewed``).
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_safe

from campaigns.models import Block, Lead
from campaigns.portal.crm_forms import ConnectionForm, RuleForm, UndoRequestForm, fields_digest, template_named
from campaigns.portal.selectors import (
    connections_for,
    lead_reasons,
    owned_or_404,
    recent_failures,
    rule_history,
    rules_for,
    undo_requests_for,
)
from campaigns.portal.views import customer_required
from campaigns.services.undo_requests import undo_request_create
from leadops.errors import LeadopsError
from suppressions.crm.models import CrmConnection, CrmRule
from suppressions.crm.services import (
    crm_connection_create,
    crm_connection_secret_rotate,
    crm_rule_create,
    crm_rule_switch,
    crm_rule_update,
)
from suppressions.crm.services.preview import crm_rule_preview
from suppressions.crm.services.rules import RULE_TEMPLATES, rule_fields


def _webhook_url(request, connection: CrmConnection) -> str:
    return request.build_absolute_uri(reverse("crm:events", args=[connection.pk]))


# --- The CRM page ---------------------------------------------------------------------------------------


@customer_required
@require_safe
def crm(request):
    customer = request.customer
    rules = list(rules_for(customer))
    names = {rule.name.lower() for rule in rules}
    return render(
        request,
        "portal/crm.html",
        {
            "connections": connections_for(customer),
            "rules": rules,
            "templates": [
                {**t, "slug": t["name"].lower().replace(" ", "-")}
                for t in RULE_TEMPLATES
                if t["name"].lower() not in names
            ],
            "nav": "crm",
        },
    )


@customer_required
@require_http_methods(["GET", "POST"])
def crm_connection_new(request):
    """Connect a CRM; the page after shows its webhook URL and signing secret, once."""
    customer = request.customer
    form = ConnectionForm(request.POST or None, customer=customer)
    if request.method == "POST" and form.is_valid():
        try:
            connection = crm_connection_create(
                customer=customer, name=form.cleaned_data["name"], kind=form.cleaned_data["kind"], actor=request.user
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            return _secret_once(request, connection, created=True)
    return render(
        request, "portal/crm_connection_new.html", {"form": form, "nav": "crm"}, status=400 if form.errors else 200
    )


def _secret_once(request, connection: CrmConnection, *, created: bool):
    """The one page that shows a connection's secret: the answer to the POST that made it, never stored."""
    response = render(
        request,
        "portal/crm_secret.html",
        {
            "connection": connection,
            "webhook_url": _webhook_url(request, connection),
            "secret": connection.secret,
            "created": created,
            "nav": "crm",
        },
    )
    response["Cache-Control"] = "no-store"
    return response


@customer_required
def crm_connection(request, connection_id: int):
    customer = request.customer
    connection = owned_or_404(connections_for(customer), customer, connection_id)
    return _crm_connection(request, connection)


@require_safe
def _crm_connection(request, connection: CrmConnection):
    return render(
        request,
        "portal/crm_connection.html",
        {
            "connection": connection,
            "webhook_url": _webhook_url(request, connection),
            "failures": recent_failures(connection, request.customer),
            "nav": "crm",
        },
    )


@customer_required
def crm_connection_rotate(request, connection_id: int):
    customer = request.customer
    connection = owned_or_404(CrmConnection, customer, connection_id)
    return _crm_connection_rotate(request, connection)


@require_http_methods(["GET", "POST"])
def _crm_connection_rotate(request, connection: CrmConnection):
    """Ask, then give the connection a new secret: the old one stops working at once."""
    if request.method == "POST":
        rotated = crm_connection_secret_rotate(connection=connection, actor=request.user)
        return _secret_once(request, rotated, created=False)
    return render(request, "portal/crm_rotate.html", {"connection": connection, "nav": "crm"})


# --- Rules: add, edit, switch, each previewed first -----------------------------------------------------------


def _rule_page(request, form: RuleForm, *, rule: CrmRule | None, status: int = 200):
    """Show the form; when it is valid, also what saving it would do, and the digest the confirm must carry."""
    preview = None
    if form.is_bound and form.is_valid():
        try:
            preview = crm_rule_preview(customer=request.customer, fields=form.rule_fields(), rule=rule)
        except ValidationError as exc:
            form.add_error(None, exc)
            status = 400
        else:
            form = RuleForm({**form.data.dict(), "previewed": form.digest()}, instance=rule, customer=request.customer)
            form.is_valid()
    return render(
        request,
        "portal/crm_rule.html",
        {
            "form": form,
            "rule": rule,
            "preview": preview,
            "history": rule_history(rule, request.customer) if rule else [],
            "nav": "crm",
        },
        status=status if not (form.is_bound and form.errors) else 400,
    )


def _rule_save(request, form: RuleForm, *, rule: CrmRule | None):
    fields = form.rule_fields()
    try:
        if rule is None:
            saved = crm_rule_create(customer=request.customer, **fields, actor=request.user)
        else:
            saved = crm_rule_update(rule=rule, **fields, actor=request.user)
    except (ValidationError, LeadopsError) as exc:
        form.add_error(None, getattr(exc, "message", None) or exc)
        return _rule_page(request, form, rule=rule, status=400)
    messages.success(request, f"Rule '{saved.name}' saved: your CRM records are being checked against it now.")
    return redirect("portal:crm")


@customer_required
@require_http_methods(["GET", "POST"])
def crm_rule_new(request):
    customer = request.customer
    if request.method == "POST":
        form = RuleForm(request.POST, customer=customer)
        if form.is_valid() and request.POST.get("confirm") and form.previewed_matches():
            return _rule_save(request, form, rule=None)
        return _rule_page(request, form, rule=None)
    template = template_named(request.GET.get("template", ""))
    initial = {k: v for k, v in (template or {}).items() if k != "is_active"}
    return _rule_page(request, RuleForm(initial=initial, customer=customer), rule=None)


@customer_required
def crm_rule(request, rule_id: int):
    customer = request.customer
    rule = owned_or_404(CrmRule, customer, rule_id)
    return _crm_rule(request, rule)


@require_http_methods(["GET", "POST"])
def _crm_rule(request, rule: CrmRule):
    if request.method == "POST":
        form = RuleForm(request.POST, instance=CrmRule.objects.get(pk=rule.pk), customer=request.customer)
        if form.is_valid() and request.POST.get("confirm") and form.previewed_matches():
            return _rule_save(request, form, rule=rule)
        return _rule_page(request, form, rule=rule)
    return _rule_page(request, RuleForm(instance=rule, customer=request.customer), rule=rule)


@customer_required
def crm_rule_switch_view(request, rule_id: int):
    customer = request.customer
    rule = owned_or_404(CrmRule, customer, rule_id)
    return _crm_rule_switch(request, rule)


@require_http_methods(["GET", "POST"])
def _crm_rule_switch(request, rule: CrmRule):
    """Switch a rule on or off: first what it would do, then, posted with that page's digest, the switch."""
    fields = {**rule_fields(rule), "is_active": not rule.is_active}
    digest = fields_digest(fields)
    if request.method == "POST" and request.POST.get("previewed") == digest:
        switched = crm_rule_switch(rule=rule, is_active=fields["is_active"], actor=request.user)
        state = "on" if switched.is_active else "off"
        messages.success(request, f"Rule '{switched.name}' switched {state}: your leads are being rechecked now.")
        return redirect("portal:crm")
    preview = crm_rule_preview(customer=request.customer, fields=fields, rule=rule)
    return render(
        request,
        "portal/crm_rule_switch.html",
        {"rule": rule, "preview": preview, "previewed": digest, "switch_on": fields["is_active"], "nav": "crm"},
        status=400 if request.method == "POST" else 200,
    )


# --- Asking the agency to lift a block -----------------------------------------------------------------------


@customer_required
def undo_request_new(request, lead_id: int, block_id: int):
    customer = request.customer
    lead = owned_or_404(Lead.objects.select_related("contact__account", "campaign", "customer"), customer, lead_id)
    return _undo_request_new(request, lead, block_id)


@require_http_methods(["GET", "POST"])
def _undo_request_new(request, lead: Lead, block_id: int):
    """The sentence asked about, and the customer's reason; the request lifts nothing, the agency answers."""
    reasons = {r.block_id: r for r in lead_reasons([lead], customer=request.customer).get(lead.pk, [])}
    sentence = reasons.get(block_id)
    form = UndoRequestForm(request.POST or None)
    if sentence is not None and request.method == "POST" and form.is_valid():
        block = Block.objects.get(pk=block_id)
        try:
            undo_request_create(lead=lead, block=block, reason=form.cleaned_data["reason"], actor=request.user)
        except LeadopsError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, "Your request was sent to the agency; its answer will show on this page.")
            return redirect("portal:undo_requests")
    return render(
        request,
        "portal/undo_request_new.html",
        {"lead": lead, "sentence": sentence, "form": form, "nav": "disqualified"},
        status=400 if request.method == "POST" else 200,
    )


@customer_required
@require_safe
def undo_requests(request):
    return render(
        request,
        "portal/undo_requests.html",
        {"requests": undo_requests_for(request.customer)[:200], "nav": "disqualified"},
    )
