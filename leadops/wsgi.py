import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

from leadops import embedded_beat

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadops.settings")
application = get_wsgi_application()

# What a worker holds for its whole life — the apps, models, admin, URLconf — is loaded now and frozen out of
# the garbage collector's sight (``gc.freeze``, as Python's documentation suggests for servers): a full
# collection otherwise walked those 200,000 objects, a 110 ms pause in the dialer's answers every few thousand
# requests (bench/api_load.py's p95 and p99).
get_resolver().url_patterns  # noqa: B018  (loads the URLconf, which Django otherwise does on the first request)
gc.freeze()

# Without a broker (the embedded default), ``runserver`` runs Celery beat's schedule itself: waiting leads wake,
# ended blocks are lifted (``leadops.embedded_beat``).
if embedded_beat.wanted():
    from leadops.celery import app as celery_app

    embedded_beat.start(celery_app)
