"""Create and revoke the dialer API's keys. Only a key's SHA-256 is stored; the key is shown once."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from campaigns.models import ApiKey, Customer, User
from leadops.db import ids_query
from leadops.errors import LeadopsError

KEY_MARK = "lok"


def api_key_hash(key: str) -> str:
    """Return the stored form of ``key``: its SHA-256, hex."""
    return hashlib.sha256(key.encode()).hexdigest()


def api_key_split(key: str) -> tuple[str, str] | None:
    """Return ``(prefix, key)`` for a well-formed key ``lok_<prefix>_<secret>``, or None."""
    mark, _, rest = key.partition("_")
    prefix, _, secret = rest.partition("_")
    if mark != KEY_MARK or len(prefix) != 8 or len(secret) < 32:
        return None
    return prefix, key


def api_key_matches(api_key: ApiKey, key: str) -> bool:
    """Return whether ``key`` is ``api_key``'s secret, comparing in constant time."""
    return hmac.compare_digest(api_key.hashed_secret, api_key_hash(key))


def api_key_create(*, name: str, customer: Customer | None, actor: User | None) -> tuple[ApiKey, str]:
    """Create a key and return it with the full key, which is never stored and cannot be shown again.

    Each call creates a new key: there is nothing to repeat.
    """
    name = (name or "").strip()
    if not name:
        raise LeadopsError("Name the integration that uses the key.", field="name")
    prefix = secrets.token_hex(4)
    key = f"{KEY_MARK}_{prefix}_{secrets.token_urlsafe(32)}"
    api_key = ApiKey(
        name=name,
        prefix=prefix,
        hashed_secret=api_key_hash(key),
        customer=customer,
        created_by=actor,
        created_at=timezone.now(),
    )
    api_key.full_clean()
    api_key.save()
    return api_key, key


def api_key_rename(*, api_key: ApiKey, name: str, actor: User | None) -> ApiKey:
    """Rename ``api_key`` (which integration uses it); its secret, customer and state stay as they are."""
    with transaction.atomic():
        api_key = ApiKey.objects.select_for_update().get(pk=api_key.pk)
        api_key.name = (name or "").strip()
        if not api_key.name:
            raise LeadopsError("Name the integration that uses the key.", field="name")
        api_key.full_clean()
        api_key.save(update_fields=["name"])
    return api_key


def api_keys_revoke(*, api_keys: QuerySet[ApiKey], actor: User | None) -> list[int]:
    """Revoke the active ones of ``api_keys``: every later request with them is refused (401).

    Return the ids of the keys this call revoked, in id order. One transaction, the same two statements
    whatever the number of keys (each key's change notice is the database trigger's). Revoking a revoked key
    changes nothing.
    """
    with transaction.atomic():
        ids = list(
            ApiKey.objects.select_for_update()
            .filter(pk__in=api_keys.order_by().values("pk"), revoked_at__isnull=True)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        if ids:
            ApiKey.objects.filter(pk__in=ids_query(ids)).update(revoked_at=timezone.now(), revoked_by=actor)
    return ids


def api_key_revoke(*, api_key: ApiKey, actor: User | None) -> ApiKey:
    """Revoke ``api_key``: every later request with it is refused (401). Revoking a revoked key changes nothing.

    ``api_keys_revoke`` for one key.
    """
    api_keys_revoke(api_keys=ApiKey.objects.filter(pk=api_key.pk), actor=actor)
    return ApiKey.objects.get(pk=api_key.pk)
