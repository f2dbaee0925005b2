"""The portal's pages: thin views over the portal selectors and the domain services.

Every view that takes an id looks it up through ``owned_or_404`` before it does anything else, whatever
the method, so another customer's id is a 404 for every request.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from functools import wraps
from pathlib import Path

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core import signing
from django.core.files import File
from django.core.files.storage import default_storage
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from campaigns.models import Account, Block, Contact
from campaigns.portal import exports
from campaigns.portal.filters import (
    AccountFilter,
    ContactFilter,
    DisqualifiedLeadFilter,
    EntryFilter,
    OpportunityFilter,
)
from campaigns.portal.forms import (
    DoNotCallForm,
    EntriesRemoveForm,
    LiftForm,
    UploadForm,
    too_large_message,
    upload_limit,
)
from campaigns.portal.selectors import (
    SOURCE_LABELS,
    accounts_for,
    active_entries_for,
    campaign_pools,
    contacts_for,
    disqualifications_by_source,
    disqualified_leads,
    lead_reasons,
    leads_of_contacts,
    open_undo_requests,
    opportunities_for,
    opportunity_history,
    own_dnc_marks,
    owned_or_404,
    rejected_rows_of,
    uploads_for,
)
from campaigns.selectors.explaining import end_words
from campaigns.services import blocks_lift
from campaigns.services.workflows import customer_dnc_mark
from leadops.errors import LeadopsError
from leadops.exporting import csv_download
from leadops.normalizing import format_phone
from leadops.pagination import BoundedCountPaginator, page_asked
from suppressions.dossiers import DOSSIER_CSV_HEADER, contact_dossier, dossier_rows, viewer_for_customer
from suppressions.models import Entry, Upload
from suppressions.services import entries_remove, upload_create, upload_preview, upload_remove

PER_PAGE = 50
RUNNING = (Upload.Status.QUEUED, Upload.Status.READING, Upload.Status.MATCHING)


def customer_required(view):
    """Let only a signed-in customer's user through, with ``request.customer`` set; others sign in first."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        user = request.user
        if not (user.is_authenticated and user.is_active and user.customer_id):
            return redirect_to_login(request.get_full_path(), reverse("portal:login"))
        request.customer = user.customer
        return view(request, *args, **kwargs)

    return wrapper


def _page(request, queryset, per_page: int = PER_PAGE):
    """One page of ``queryset``, counted to a bound (``BoundedCountPaginator``: a searched list says "more than
    1,000"), never the customer's whole table on every load."""
    searched = bool(request.GET.get("q", "").strip())
    through = page_asked(request.GET.get("page"))
    paginator = BoundedCountPaginator(queryset, per_page, searched=searched, searched_through=through)
    return paginator.get_page(request.GET.get("page"))


# --- Home -------------------------------------------------------------------------------------------


@customer_required
def home(request):
    customer = request.customer
    reasons = disqualifications_by_source(customer)
    return render(
        request,
        "portal/home.html",
        {
            "pools": campaign_pools(customer),
            "reasons": reasons,
            "reasons_max": max((r.count for r in reasons), default=0),
            "recent_uploads": uploads_for(customer)[:5],
            "nav": "home",
        },
    )


# --- Suppressions -------------------------------------------------------------------------------------


class _LimitedUploadHandler(FileUploadHandler):
    """Stop reading a file past the size limit, so an oversize upload never fills the disk."""

    def __init__(self, request=None):
        super().__init__(request)
        self.received = 0

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > upload_limit():
            self.request.portal_upload_too_large = True
            raise StopUpload(connection_reset=False)
        return raw_data

    def file_complete(self, file_size):
        return None


@csrf_exempt  # checked by ``csrf_protect`` below, once the size is known to be acceptable
@customer_required
def suppressions(request):
    """List the uploads and take a new one; an oversize body is refused before it is read."""
    if request.method == "POST":
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
        if declared > upload_limit() + 64 * 1024:
            return _suppressions_page(request, UploadForm(), status=413, error=too_large_message(declared))
        request.upload_handlers.insert(0, _LimitedUploadHandler(request))
    return csrf_protect(_suppressions)(request)


def _suppressions(request):
    customer = request.customer
    if request.method != "POST":
        return _suppressions_page(request, UploadForm())
    form = UploadForm(request.POST, request.FILES)
    if getattr(request, "portal_upload_too_large", False):
        return _suppressions_page(request, UploadForm(), status=413, error=too_large_message())
    if form.is_valid():
        # Nothing is written yet: the file waits aside while the page shows what it would do.
        file = form.cleaned_data["file"]
        original = Path(file.name).name
        pending = default_storage.save(f"suppressions/pending/{uuid.uuid4().hex}{Path(original).suffix.lower()}", file)
        try:
            preview = upload_preview(customer=customer, path=default_storage.path(pending), filename=original)
        except LeadopsError as exc:
            default_storage.delete(pending)
            form.add_error("file" if exc.field in ("file", "") else None, exc.message)
        else:
            token = signing.dumps(
                {"pending": pending, "original": original, "customer": customer.pk, "user": request.user.pk},
                salt=_UPLOAD_SALT,
            )
            return render(
                request,
                "portal/upload_preview.html",
                {"preview": preview, "original": original, "token": token, "nav": "suppressions"},
            )
    return _suppressions_page(request, form, status=400)


_UPLOAD_SALT = "portal.upload.confirm"
_UPLOAD_MAX_AGE = 60 * 60


@customer_required
@require_POST
def upload_confirm(request):
    """The previewed file, confirmed: record the upload (read now if small, else queued)."""
    customer = request.customer
    try:
        pending = signing.loads(request.POST.get("token", ""), salt=_UPLOAD_SALT, max_age=_UPLOAD_MAX_AGE)
    except signing.BadSignature:
        messages.error(request, "The preview expired or was not found: choose the file again.")
        return redirect("portal:suppressions")
    if pending["customer"] != customer.pk or pending["user"] != request.user.pk:
        messages.error(request, "The preview expired or was not found: choose the file again.")
        return redirect("portal:suppressions")
    try:
        with default_storage.open(pending["pending"], "rb") as stored:
            upload = upload_create(
                customer=customer,
                file=File(stored, name=pending["original"]),
                original_name=pending["original"],
                uploaded_by=request.user,
            )
    except FileNotFoundError:
        messages.error(request, "The previewed file is gone (it was confirmed already?): choose it again.")
        return redirect("portal:suppressions")
    except LeadopsError as exc:
        messages.error(request, exc.message)
        return redirect("portal:suppressions")
    default_storage.delete(pending["pending"])
    _tell_received(request, upload)
    return redirect("portal:upload", upload_id=upload.pk)


def _tell_received(request, upload: Upload) -> None:
    """Say whether the file is in force already (read in the request) or queued, holding the customer's calls."""
    name = upload.original_name
    if upload.status == Upload.Status.FAILED:
        messages.error(request, f"{name} was received but could not be read, so nothing was added: {upload.error}")
    elif upload.in_force:
        messages.success(
            request,
            f"{name} was received and is in force: its {upload.accepted:,} new entries already stop calls to the "
            "people on it. Matching it against your leads runs in the background; its report is below.",
        )
    else:
        messages.warning(
            request,
            f"{name} was received and is queued: a file this large is loaded in the background. Until it is in "
            "force, calls to your leads wait; its progress is below.",
        )


def _suppressions_page(request, form, *, status: int = 200, error: str = ""):
    uploads = _page(request, uploads_for(request.customer), per_page=25)
    return render(
        request,
        "portal/suppressions.html",
        {
            "form": form,
            "error": error,
            "uploads": uploads,
            "auto_refresh": any(upload.status in RUNNING for upload in uploads),
            "limit": upload_limit(),
            "running_statuses": RUNNING,
            "nav": "suppressions",
        },
        status=status,
    )


@customer_required
def upload_detail(request, upload_id: int):
    customer = request.customer
    upload = owned_or_404(uploads_for(customer), customer, upload_id)
    return _upload_detail(request, upload)


@require_safe
def _upload_detail(request, upload: Upload):
    customer = request.customer
    return render(
        request,
        "portal/upload_detail.html",
        {
            "upload": upload,
            "rejected": rejected_rows_of(upload, customer)[:20],
            "running": upload.status in RUNNING,
            "running_statuses": RUNNING,
            "auto_refresh": upload.status in RUNNING,
            "nav": "suppressions",
        },
    )


@customer_required
def upload_status(request, upload_id: int):
    """Return the upload's progress as JSON, for the page's progress bar."""
    customer = request.customer
    upload = owned_or_404(Upload, customer, upload_id)
    return JsonResponse(
        {
            "status": upload.status,
            "status_display": upload.get_status_display(),
            "percent": upload.progress_percent,
            "rows_done": upload.rows_done,
            "rows_total": upload.rows_total,
            "report": upload.report,
            "finished": upload.status not in RUNNING,
        }
    )


@customer_required
def upload_rejected_csv(request, upload_id: int):
    customer = request.customer
    upload = owned_or_404(Upload, customer, upload_id)
    rows = rejected_rows_of(upload, customer).iterator(chunk_size=5_000)
    name = Path(upload.original_name).stem.replace('"', "") or "upload"
    return csv_download(f"{name}-rejected.csv", exports.REJECTED_HEADER, exports.rejected_rows(rows))


@customer_required
def upload_remove_view(request, upload_id: int):
    """Remove every entry an upload added (lifting their blocks), after asking why."""
    customer = request.customer
    upload = owned_or_404(Upload, customer, upload_id)
    return _upload_remove(request, upload)


@require_http_methods(["GET", "POST"])
def _upload_remove(request, upload: Upload):
    form = LiftForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        removed = upload_remove(upload=upload, actor=request.user, reason=form.cleaned_data["reason"])
        messages.success(request, f"{removed:,} entries of {upload.original_name} removed; their leads were rechecked.")
        return redirect("portal:upload", upload_id=upload.pk)
    return render(
        request,
        "portal/confirm_remove.html",
        {
            "form": form,
            "title": f"Remove every entry of {upload.original_name}",
            "back": reverse("portal:upload", args=[upload.pk]),
            "nav": "suppressions",
        },
    )


@customer_required
@require_http_methods(["GET", "HEAD", "POST"])
def entries(request):
    """The active suppression list, searchable and filterable; the chosen entries can be removed."""
    customer = request.customer
    active = active_entries_for(customer)
    remove_form = EntriesRemoveForm(request.POST or None, entries=active)
    if request.method == "POST" and remove_form.is_valid():
        removed = entries_remove(
            entries=remove_form.cleaned_data["entries"], actor=request.user, reason=remove_form.cleaned_data["reason"]
        )
        messages.success(request, f"{removed:,} entries removed; the leads they stopped were rechecked.")
        return redirect(request.get_full_path())
    filterset = EntryFilter(request.GET or None, queryset=active, request=request)
    page = _page(request, filterset.qs)
    page.object_list = list(page.object_list)
    for entry in page.object_list:
        entry.shown = format_phone(entry.value) if entry.kind == Entry.Kind.PHONE else entry.value
    return render(
        request,
        "portal/entries.html",
        {
            "filter": filterset,
            "entries": page,
            "remove_form": remove_form,
            "nav": "entries",
        },
        status=400 if request.method == "POST" else 200,
    )


@customer_required
def entry_remove(request, entry_id: int):
    customer = request.customer
    entry = owned_or_404(active_entries_for(customer), customer, entry_id)
    return _entry_remove(request, entry)


@require_http_methods(["GET", "POST"])
def _entry_remove(request, entry: Entry):
    form = LiftForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        entries_remove(
            entries=Entry.objects.filter(pk=entry.pk), actor=request.user, reason=form.cleaned_data["reason"]
        )
        messages.success(request, f"{entry.value} removed from your list; the leads it stopped were rechecked.")
        return redirect("portal:entries")
    return render(
        request,
        "portal/confirm_remove.html",
        {
            "form": form,
            "title": f"Remove {entry.value} from your suppression list",
            "back": reverse("portal:entries"),
            "nav": "entries",
        },
    )


@customer_required
def entries_csv(request):
    filterset = EntryFilter(request.GET or None, queryset=active_entries_for(request.customer), request=request)
    rows = exports.entry_rows(filterset.qs.iterator(chunk_size=5_000))
    return csv_download("suppression-entries.csv", exports.ENTRY_HEADER, rows)


# --- Accounts and contacts ------------------------------------------------------------------------------


@customer_required
def accounts(request):
    filterset = AccountFilter(request.GET or None, queryset=accounts_for(request.customer), request=request)
    return render(
        request,
        "portal/accounts.html",
        {"filter": filterset, "accounts": _page(request, filterset.qs), "nav": "accounts"},
    )


@customer_required
def accounts_csv(request):
    filterset = AccountFilter(request.GET or None, queryset=accounts_for(request.customer), request=request)
    rows = exports.account_rows(filterset.qs.iterator(chunk_size=5_000))
    return csv_download("accounts.csv", exports.ACCOUNT_HEADER, rows)


@customer_required
def account_detail(request, account_id: int):
    customer = request.customer
    account = owned_or_404(accounts_for(customer), customer, account_id)
    return _account_detail(request, account)


@require_safe
def _account_detail(request, account: Account):
    customer = request.customer
    contacts = contacts_for(customer).filter(account=account)
    page = _page(request, contacts)
    return render(
        request,
        "portal/account_detail.html",
        {
            "account": account,
            "contacts": page,
            "marks": own_dnc_marks(customer)
            .filter(target=Block.Target.ACCOUNT, account=account)
            .select_related("actor"),
            "opportunities": opportunities_for(customer).filter(account=account),
            "mark_form": DoNotCallForm(),
            "lift_form": LiftForm(),
            "nav": "accounts",
        },
    )


@customer_required
def contacts(request):
    filterset = ContactFilter(request.GET or None, queryset=contacts_for(request.customer), request=request)
    return render(
        request,
        "portal/contacts.html",
        {"filter": filterset, "contacts": _page(request, filterset.qs), "nav": "contacts"},
    )


@customer_required
def contacts_csv(request):
    filterset = ContactFilter(request.GET or None, queryset=contacts_for(request.customer), request=request)
    rows = exports.contact_rows(filterset.qs.iterator(chunk_size=2_000))
    return csv_download("contacts.csv", exports.CONTACT_HEADER, rows)


@customer_required
def contact_detail(request, contact_id: int):
    customer = request.customer
    contact = owned_or_404(contacts_for(customer), customer, contact_id)
    return _contact_detail(request, contact)


@require_safe
def _contact_detail(request, contact: Contact):
    customer = request.customer
    leads = list(leads_of_contacts(customer, [contact]))
    reasons = lead_reasons(leads, customer=customer)
    return render(
        request,
        "portal/contact_detail.html",
        {
            "contact": contact,
            "leads": [(lead, reasons.get(lead.pk, [])) for lead in leads],
            "marks": own_dnc_marks(customer)
            .filter(target=Block.Target.CONTACT, contact=contact)
            .select_related("actor"),
            "mark_form": DoNotCallForm(),
            "lift_form": LiftForm(),
            "nav": "contacts",
        },
    )


@customer_required
def contact_dossier_page(request, contact_id: int):
    return _contact_dossier(request, _owned_contact(request, contact_id), "html")


@customer_required
def contact_dossier_json(request, contact_id: int):
    return _contact_dossier(request, _owned_contact(request, contact_id), "json")


@customer_required
def contact_dossier_csv(request, contact_id: int):
    return _contact_dossier(request, _owned_contact(request, contact_id), "csv")


def _owned_contact(request, contact_id: int) -> Contact:
    # Whether the contact is the customer's first: another customer's is not found, whatever the method.
    return owned_or_404(contacts_for(request.customer), request.customer, contact_id)


@require_safe
def _contact_dossier(request, contact: Contact, wanted: str):
    """The customer's own part of a contact's dossier: its blocks as the customer reads them, its entries, what
    the dialer was told about its leads and their calls; never an agency note, a lift's reason or a staff name."""
    dossier = contact_dossier(contact, viewer=viewer_for_customer(request.customer))
    if wanted == "json":
        response = JsonResponse(dossier, json_dumps_params={"indent": 2, "ensure_ascii": False})
        response["Content-Disposition"] = f'attachment; filename="dossier-contact-{contact.pk}.json"'
        return response
    if wanted == "csv":
        return csv_download(f"dossier-contact-{contact.pk}.csv", DOSSIER_CSV_HEADER, dossier_rows(dossier))
    return render(
        request,
        "portal/dossier.html",
        {"contact": contact, "dossier": dossier, "customer_view": True, "nav": "contacts"},
    )


@require_POST
def _dnc_mark(request, *, selection: dict[str, object], back: str):
    form = DoNotCallForm(request.POST)
    if form.is_valid():
        # The customer's own instruction: the same service ops use when the customer tells them.
        days = form.cleaned_data["days"]
        made = customer_dnc_mark(
            **selection,
            actor=request.user,
            note=form.cleaned_data["note"],
            ends_at=timezone.now() + timedelta(days=days) if days else None,
        )
        until = f" until {end_words(made.blocks[0].ends_at)}" if made.created and days else ""
        messages.success(
            request, f"Marked Do Not Call{until}: its leads left your pools." if made.created else "Already marked."
        )
    else:
        problems = "; ".join(f"{form.fields[name].label}: {' '.join(errors)}" for name, errors in form.errors.items())
        messages.error(request, f"Nothing was marked. {problems}")
    return redirect(back)


@require_POST
def _dnc_lift(request, *, marks, back: str):
    form = LiftForm(request.POST)
    if form.is_valid():
        lifted = blocks_lift(blocks=marks, actor=request.user, reason=form.cleaned_data["reason"])
        messages.success(request, "Your Do Not Call mark was removed." if lifted else "There was no mark to remove.")
    else:
        messages.error(request, "Say why the mark is removed.")
    return redirect(back)


def _dnc(request, kind: str, pk: int, *, lift: bool):
    """Mark, or remove the customer's own mark on, an account or contact (``kind``) of this customer."""
    customer = request.customer
    model, target = {"account": (Account, Block.Target.ACCOUNT), "contact": (Contact, Block.Target.CONTACT)}[kind]
    obj = owned_or_404(model, customer, pk)
    back = reverse(f"portal:{kind}", args=[obj.pk])
    if lift:
        return _dnc_lift(request, marks=own_dnc_marks(customer).filter(target=target, **{kind: obj}), back=back)
    return _dnc_mark(request, selection={f"{kind}s": model.objects.filter(pk=obj.pk)}, back=back)


@customer_required
def account_dnc(request, account_id: int):
    return _dnc(request, "account", account_id, lift=False)


@customer_required
def account_dnc_lift(request, account_id: int):
    return _dnc(request, "account", account_id, lift=True)


@customer_required
def contact_dnc(request, contact_id: int):
    return _dnc(request, "contact", contact_id, lift=False)


@customer_required
def contact_dnc_lift(request, contact_id: int):
    return _dnc(request, "contact", contact_id, lift=True)


# --- Disqualified leads ---------------------------------------------------------------------------------


@customer_required
def disqualified(request):
    """Disqualified leads with the sentences of why: a bounded number of queries per page."""
    customer = request.customer
    filterset = DisqualifiedLeadFilter(request.GET or None, queryset=disqualified_leads(customer), request=request)
    page = _page(request, filterset.qs)
    leads = list(page.object_list)
    reasons = lead_reasons(leads, customer=customer)
    asked = open_undo_requests(customer, leads)
    for lead in leads:
        for reason in reasons.get(lead.pk, []):
            reason.asked = (lead.pk, reason.block_id) in asked
    return render(
        request,
        "portal/disqualified.html",
        {
            "filter": filterset,
            "leads": page,
            "rows": [(lead, reasons.get(lead.pk, [])) for lead in leads],
            "source_labels": SOURCE_LABELS,
            "nav": "disqualified",
        },
    )


@customer_required
def disqualified_csv(request):
    customer = request.customer
    filterset = DisqualifiedLeadFilter(request.GET or None, queryset=disqualified_leads(customer), request=request)
    rows = exports.disqualified_rows(filterset.qs.iterator(chunk_size=2_000), customer=customer)
    return csv_download("disqualified-leads.csv", exports.DISQUALIFIED_HEADER, rows)


# --- Opportunities ---------------------------------------------------------------------------------------


@customer_required
def opportunities(request):
    """What qualified leads became, filterable by stage, state, campaign and project."""
    filterset = OpportunityFilter(request.GET or None, queryset=opportunities_for(request.customer), request=request)
    return render(
        request,
        "portal/opportunities.html",
        {"filter": filterset, "opportunities": _page(request, filterset.qs), "nav": "opportunities"},
    )


@customer_required
def opportunities_csv(request):
    filterset = OpportunityFilter(request.GET or None, queryset=opportunities_for(request.customer), request=request)
    rows = exports.opportunity_rows(filterset.qs.iterator(chunk_size=2_000))
    return csv_download("opportunities.csv", exports.OPPORTUNITY_HEADER, rows)


@customer_required
def opportunity_detail(request, opportunity_id: int):
    customer = request.customer
    opportunity = owned_or_404(opportunities_for(customer), customer, opportunity_id)
    return _opportunity_detail(request, opportunity)


@require_safe
def _opportunity_detail(request, opportunity):
    return render(
        request,
        "portal/opportunity_detail.html",
        {
            "opportunity": opportunity,
            "state": exports.opportunity_state_words(opportunity),
            "history": opportunity_history(opportunity, request.customer),
            "nav": "opportunities",
        },
    )
