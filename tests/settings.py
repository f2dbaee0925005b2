"""Settings for the test suite: the project's own, with three changes that make tests faster, none of them
a change to what a test can see.

The project's password hasher (PBKDF2, a million iterations) spends a fifth of a second of CPU on every user a
factory or a command makes and every password a test signs in with; the suite makes hundreds. MD5 is what
Django's own documentation recommends for tests: no test here is about the strength of the hash, and every
test that signs in with a password still checks it against the stored hash.
"""

from leadops.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Celery's own publish retry, with its three retries but without its waits (0.2 s, then 0.4 s): the tests that
# stop the broker prove what happens once the retries are spent, and each spent 0.6 s waiting for them.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 3, "interval_start": 0, "interval_step": 0, "interval_max": 0}

if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":  # noqa: F405
    # Commits of the test database do not wait for the disk (creating it runs every migration, one commit each;
    # a transactional test commits every statement): what a test sees is the same, only a crash could lose it.
    DATABASES["default"]["OPTIONS"]["options"] += " -c synchronous_commit=off"  # noqa: F405
