"""The dossier of a number or a contact in the back office: a printable page, and the same as JSON and CSV."""

from __future__ import annotations

import json

from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from leadops.exporting import csv_download
from suppressions.dossiers import DOSSIER_CSV_HEADER, dossier_rows, viewer_for_user

FORMATS = ("html", "json", "csv")


def dossier_response(request: HttpRequest, dossier: dict, *, title: str, file_stem: str, back: str):
    """Answer ``dossier`` in the format ``?format=`` asks for: the printable page (default), JSON or CSV."""
    wanted = request.GET.get("format", "html")
    if wanted not in FORMATS:
        return HttpResponseBadRequest(f"format is one of {', '.join(FORMATS)}, not '{wanted}'.")
    if wanted == "json":
        response = HttpResponse(json.dumps(dossier, indent=2, ensure_ascii=False), content_type="application/json")
        response["Content-Disposition"] = f'attachment; filename="{file_stem}.json"'
        return response
    if wanted == "csv":
        return csv_download(f"{file_stem}.csv", DOSSIER_CSV_HEADER, dossier_rows(dossier))
    return TemplateResponse(request, "admin/campaigns/dossier.html", {"dossier": dossier, "title": title, "back": back})


class DossierMixin:
    """A ``dossier/`` page on a ModelAdmin's object, in the admin's own scope (``get_object``)."""

    def dossier_of(self, obj, viewer) -> dict:
        raise NotImplementedError

    def dossier_title(self, obj) -> str:
        return f"Dossier: {obj}"

    def dossier_file_stem(self, obj) -> str:
        return f"dossier-{self.opts.model_name}-{obj.pk}"

    def dossier_url_name(self) -> str:
        return f"{self.opts.app_label}_{self.opts.model_name}_dossier"

    def get_urls(self):
        view = self.admin_site.admin_view(self.dossier_view)
        return [path("<path:object_id>/dossier/", view, name=self.dossier_url_name()), *super().get_urls()]

    def dossier_view(self, request: HttpRequest, object_id: str):
        # The permission first: without it, whether the object exists is none of the user's business.
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            raise Http404("Nothing here to make a dossier of.")
        dossier = self.dossier_of(obj, viewer_for_user(request.user))
        back = reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[obj.pk])
        response = dossier_response(
            request, dossier, title=self.dossier_title(obj), file_stem=self.dossier_file_stem(obj), back=back
        )
        if isinstance(response, TemplateResponse):
            request.current_app = self.admin_site.name
            response.context_data.update({**self.admin_site.each_context(request), "opts": self.opts, "original": obj})
        return response

    def dossier_link(self, obj) -> str:
        url = reverse(f"admin:{self.dossier_url_name()}", args=[obj.pk])
        return format_html(
            '<a href="{}">Dossier</a> (<a href="{}?format=json">JSON</a>, <a href="{}?format=csv">CSV</a>)',
            url,
            url,
            url,
        )
