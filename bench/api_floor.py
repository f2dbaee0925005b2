"""The WSGI application ``bench/api_load.py`` serves: leadops' own (``leadops.wsgi``), and one URL more.

``GET /bench/recorded-floor/<lead id>?number=…`` does the least any dial check that keeps its verdict must
do, and nothing else: it authenticates the API key as the dialer API does (``ApiKeyAuthentication``), reads
the lead by id in one prepared statement, records an "allowed" verdict with the dial check's own
``verdict_record_dial_check`` (one prepared ``INSERT``, committed before the answer leaves) and answers in
JSON. No number is read, no block looked up, no window or cap weighed. Its p95 beside the hello view's says
how much of the 3x the dial check may spend is spent before the dial check decides anything.

Served with ``gunicorn --pythonpath bench api_floor:application``; nothing of it is in the app itself.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadops.settings")

import django
from django.conf import settings

django.setup()
settings.ROOT_URLCONF = __name__  # this module: the app's URLs and the floor's

from django.http import HttpRequest, JsonResponse  # noqa: E402
from django.urls import path  # noqa: E402
from django.views.decorators.http import require_safe  # noqa: E402

from campaigns.dialer.api.authentication import ApiKeyAuthentication  # noqa: E402
from campaigns.selectors.explaining import DialCheck  # noqa: E402
from campaigns.services.verdicts import verdict_record_dial_check  # noqa: E402
from leadops.db import prepared_cursor  # noqa: E402
from leadops.urls import urlpatterns as app_urlpatterns  # noqa: E402

_AUTHENTICATION = ApiKeyAuthentication()


@require_safe
def recorded_floor(request: HttpRequest, lead_id: int) -> JsonResponse:
    found = _AUTHENTICATION.authenticate(request)
    if found is None:
        return JsonResponse({"code": "not_authenticated"}, status=401)
    number = request.GET.get("number", "")
    with prepared_cursor() as cursor:
        cursor.execute("SELECT id FROM campaigns_lead WHERE id = %s", [lead_id])
        row = cursor.fetchone()
    if row is None:
        return JsonResponse({"code": "not_found"}, status=404)
    check = DialCheck(allowed=True, number=number)
    verdict_record_dial_check(lead_id=lead_id, check=check, api_key=found[1])
    return JsonResponse({"allowed": True, "number": number, "reasons": [], "next_allowed_at": None})


urlpatterns = [path("bench/recorded-floor/<int:lead_id>", recorded_floor), *app_urlpatterns]

from leadops.wsgi import application  # noqa: E402  (after the URLs: it loads them, then freezes the collector)

__all__ = ["application"]
