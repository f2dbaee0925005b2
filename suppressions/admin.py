"""The suppression admin: an adapter over ``suppressions.services`` and ``suppressions.selectors``.

The entry list carries django-import-export's Import and Export buttons. Export goes through
``EntryExportResource`` (formula-escaped). Import keeps import-export's button, URL names, format
choices and two steps (preview, then confirm), but the steps are ours: import-export's row-by-row
``import_data`` would hold the whole file in memory and write a row at a time, so the preview reads a
sample through the real pipeline's reader and the confirm stores the file and enqueues the Celery task.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from django.contrib import admin, messages
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.core.files import File
from django.core.files.storage import default_storage
from django.http import HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.http import urlencode
from import_export.admin import ImportExportMixin
from import_export.formats.base_formats import CSV, TSV, XLSX

from campaigns.models import Customer
from leadops.errors import LeadopsError
from leadops.exporting import csv_download
from suppressions.admin_forms import RemoveForm, SuppressionConfirmForm, SuppressionImportForm
from suppressions.models import Entry, RejectedRow, Upload
from suppressions.resources import EntryExportResource
from suppressions.selectors import entries_visible_to, leads_out_by_upload, uploads_visible_to
from suppressions.services import entries_remove, upload_create, upload_preview, uploads_remove

_TOKEN_SALT = "suppressions.admin.import"
_TOKEN_MAX_AGE = 60 * 60


def _rejected_csv_rows(upload: Upload):
    rows = RejectedRow.objects.filter(upload=upload).order_by("line", "id")
    return rows.values_list("line", "column", "raw_value", "reason").iterator(chunk_size=5_000)


def _remove_view(modeladmin, request, queryset, *, title: str, perform):
    """Ask for a reason, then remove; the confirmation page re-posts the selection (like delete_selected)."""
    form = RemoveForm(request.POST if request.POST.get("confirm") else None)
    if form.is_valid():
        count = perform(form.cleaned_data["reason"])
        modeladmin.message_user(request, f"{count:,} entries removed; the blocks they caused were lifted.")
        return None
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": title,
        "opts": modeladmin.model._meta,
        "queryset": queryset[:50],
        "count": queryset.count(),
        "form": form,
        "action": request.POST.get("action"),
        "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
    }
    return TemplateResponse(request, "admin/suppressions/remove_confirmation.html", context)


@admin.register(Entry)
class EntryAdmin(ImportExportMixin, admin.ModelAdmin):
    list_display = ("value", "kind", "customer", "upload_link", "line", "created_at", "is_active")
    list_filter = ("kind", ("removed_at", admin.EmptyFieldListFilter), "customer")
    search_fields = ("value",)
    list_select_related = ("customer", "upload")
    show_full_result_count = False
    readonly_fields = [f.name for f in Entry._meta.fields]
    actions = ["remove_entries"]

    resource_classes = [EntryExportResource]
    import_form_class = SuppressionImportForm
    import_formats = [CSV, TSV, XLSX]
    export_formats = [CSV, XLSX]
    import_template_name = "admin/suppressions/entry/import.html"

    def get_queryset(self, request):
        return entries_visible_to(request.user)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # entries are removed (and their blocks lifted), never deleted

    def has_import_permission(self, request):
        return request.user.has_perm("suppressions.add_upload")

    def has_export_permission(self, request):
        return request.user.has_perm("suppressions.view_entry")

    def has_remove_permission(self, request):
        return request.user.has_perm("suppressions.change_entry")

    def get_export_queryset(self, request):
        return super().get_export_queryset(request).select_related("customer", "upload")

    @admin.display(description="Upload")
    def upload_link(self, entry: Entry):
        if entry.upload_id is None:
            return "—"
        url = reverse("admin:suppressions_upload_change", args=[entry.upload_id])
        return format_html('<a href="{}">{}</a>', url, entry.upload.original_name)

    @admin.display(boolean=True, description="Active")
    def is_active(self, entry: Entry) -> bool:
        return entry.is_active

    @admin.action(description="Remove selected entries (lifts their blocks)", permissions=["remove"])
    def remove_entries(self, request, queryset):
        return _remove_view(
            self,
            request,
            queryset,
            title="Remove suppression entries",
            perform=lambda reason: entries_remove(entries=queryset, actor=request.user, reason=reason),
        )

    # --- import: import-export's button and steps, the upload pipeline's work ---------------------

    def get_import_form_kwargs(self, request):
        kwargs = super().get_import_form_kwargs(request)
        kwargs["may_allow_broad_domains"] = request.user.has_perm("suppressions.allow_broad_domains")
        return kwargs

    def _import_context(self, request, **extra):
        return {
            **self.admin_site.each_context(request),
            "title": "Import suppressions",
            "opts": self.model._meta,
            **extra,
        }

    def import_action(self, request, **kwargs):
        """Step 1: the form; on POST, store the file aside and show what it would do (nothing is written)."""
        if not self.has_import_permission(request):
            raise PermissionDenied
        form = self.create_import_form(request)
        if not (request.method == "POST" and form.is_valid()):
            return TemplateResponse(
                request,
                self.import_template_name,
                self._import_context(request, form=form, media=self.media + form.media),
            )
        data = form.cleaned_data
        original = Path(data["import_file"].name).name
        pending = default_storage.save(
            f"suppressions/pending/{uuid.uuid4().hex}{Path(original).suffix.lower()}", data["import_file"]
        )
        try:
            preview = upload_preview(
                customer=data["customer"],
                path=default_storage.path(pending),
                filename=original,
                column_mapping=data["columns"],
                allow_broad_domains=data.get("allow_broad_domains", False),
            )
        except LeadopsError as exc:
            default_storage.delete(pending)
            form.add_error("import_file", exc.message)
            return TemplateResponse(
                request,
                self.import_template_name,
                self._import_context(request, form=form, media=self.media + form.media),
            )
        token = signing.dumps(
            {
                "pending": pending,
                "original": original,
                "customer": data["customer"].pk,
                "columns": data["columns"],
                "allow_broad_domains": data.get("allow_broad_domains", False),
                "user": request.user.pk,
            },
            salt=_TOKEN_SALT,
        )
        context = self._import_context(
            request,
            preview=preview,
            customer=data["customer"],
            original=original,
            confirm_form=SuppressionConfirmForm(initial={"token": token}),
            media=self.media,
        )
        return TemplateResponse(request, self.import_template_name, context)

    def process_import(self, request, **kwargs):
        """Step 2 (confirm): record the upload and enqueue its processing; the heavy work runs in Celery."""
        if request.method != "POST" or not self.has_import_permission(request):
            raise PermissionDenied
        form = SuppressionConfirmForm(request.POST)
        try:
            if not form.is_valid():
                raise signing.BadSignature("no token")
            pending = signing.loads(form.cleaned_data["token"], salt=_TOKEN_SALT, max_age=_TOKEN_MAX_AGE)
        except signing.BadSignature:
            self.message_user(request, "The preview expired; upload the file again.", messages.ERROR)
            return HttpResponseRedirect(reverse("admin:suppressions_entry_import"))
        if pending["user"] != request.user.pk:
            raise PermissionDenied
        customer = get_object_or_404(Customer, pk=pending["customer"])
        try:
            with default_storage.open(pending["pending"], "rb") as stored:
                upload = upload_create(
                    customer=customer,
                    file=File(stored, name=pending["original"]),
                    original_name=pending["original"],
                    uploaded_by=request.user,
                    column_mapping=pending["columns"],
                    allow_broad_domains=pending["allow_broad_domains"],
                )
        except FileNotFoundError:
            self.message_user(request, "The previewed file is gone; upload it again.", messages.ERROR)
            return HttpResponseRedirect(reverse("admin:suppressions_entry_import"))
        except LeadopsError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return HttpResponseRedirect(reverse("admin:suppressions_entry_import"))
        default_storage.delete(pending["pending"])
        if upload.status == Upload.Status.FAILED:
            self.message_user(request, f"{upload.original_name} could not be read: {upload.error}", messages.ERROR)
        elif upload.in_force:
            self.message_user(request, f"{upload.original_name} is in force (read at once); matching runs in a worker.")
        else:
            self.message_user(
                request,
                f"{upload.original_name} is queued; until a worker has read it, {customer}'s calls wait. "
                "This page shows its progress.",
                messages.WARNING,
            )
        return HttpResponseRedirect(reverse("admin:suppressions_upload_change", args=[upload.pk]))


@admin.register(Upload)
class UploadAdmin(admin.ModelAdmin):
    list_display = (
        "original_name",
        "customer",
        "status",
        "progress",
        "accepted",
        "duplicate",
        "rejected",
        "created_at",
    )
    list_filter = ("status", "customer")
    search_fields = ("original_name",)
    list_select_related = ("customer",)
    show_full_result_count = False
    actions = ["remove_uploads"]
    change_form_template = "admin/suppressions/upload/change_form.html"
    change_list_template = "admin/suppressions/upload/change_list.html"
    fields = (
        "customer",
        "original_name",
        "uploaded_by",
        "status",
        "column_mapping",
        "allow_broad_domains",
        "created_at",
        "started_at",
        "read_at",
        "finished_at",
        "removed_at",
        "removed_by",
        "error",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        return uploads_visible_to(request.user)

    def has_add_permission(self, request):
        return False  # uploads start from the entry list's Import button

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_remove_permission(self, request):
        return request.user.has_perm("suppressions.change_entry")

    @admin.display(description="Progress")
    def progress(self, upload: Upload) -> str:
        return f"{upload.progress_percent}%"

    @admin.action(description="Remove the entries of selected uploads (lifts their blocks)", permissions=["remove"])
    def remove_uploads(self, request, queryset):
        return _remove_view(
            self,
            request,
            queryset,
            title="Remove uploads' entries",
            perform=lambda reason: uploads_remove(uploads=queryset, actor=request.user, reason=reason),
        )

    def get_urls(self):
        own = [
            path(
                "<int:upload_id>/progress/",
                self.admin_site.admin_view(self.progress_view),
                name="suppressions_upload_progress",
            ),
            path(
                "<int:upload_id>/rejected.csv",
                self.admin_site.admin_view(self.rejected_csv_view),
                name="suppressions_upload_rejected_csv",
            ),
        ]
        return own + super().get_urls()

    def _get_visible(self, request, upload_id: int) -> Upload:
        if not self.has_view_permission(request):
            raise PermissionDenied
        return get_object_or_404(self.get_queryset(request), pk=upload_id)

    def progress_view(self, request, upload_id: int):
        upload = self._get_visible(request, upload_id)
        return JsonResponse(
            {
                "status": upload.status,
                "status_display": upload.get_status_display(),
                "rows_done": upload.rows_done,
                "rows_total": upload.rows_total,
                "percent": upload.progress_percent,
                "report": upload.report,
                "finished": upload.status in (Upload.Status.DONE, Upload.Status.FAILED),
            }
        )

    def rejected_csv_view(self, request, upload_id: int):
        upload = self._get_visible(request, upload_id)
        name = Path(upload.original_name).stem.replace('"', "") or "upload"
        header = ["line", "column", "value", "reason"]
        return csv_download(f"{name}-rejected.csv", header, _rejected_csv_rows(upload), excel_bom=False)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        upload = self._get_visible(request, int(object_id)) if str(object_id).isdigit() else None
        extra = dict(extra_context or {})
        if upload is not None:
            extra.update(
                {
                    "upload": upload,
                    "running": upload.status in (Upload.Status.QUEUED, Upload.Status.READING, Upload.Status.MATCHING),
                    "rejected_sample": RejectedRow.objects.filter(upload=upload).order_by("line", "id")[:20],
                    "progress_url": reverse("admin:suppressions_upload_progress", args=[upload.pk]),
                    "rejected_url": reverse("admin:suppressions_upload_rejected_csv", args=[upload.pk]),
                    "leads_out": leads_out_by_upload(upload).count(),
                    "entries_url": f"{reverse('admin:suppressions_entry_changelist')}?upload__id__exact={upload.pk}",
                    "blocks_url": f"{reverse('admin:campaigns_block_changelist')}?"
                    + urlencode(
                        {
                            "source__exact": "suppression",
                            "customer__id__exact": upload.customer_id,
                            "q": upload.original_name,
                        }
                    ),
                }
            )
        return super().change_view(request, object_id, form_url, extra_context=extra)


from suppressions import registry_admin  # noqa: E402,F401  (the registries' admin and home panel)
