"""``Authorization: Bearer <key>`` with a per-integration ``ApiKey``; the key is compared in constant time."""

from __future__ import annotations

import threading

from django.contrib.auth.models import AnonymousUser
from django.db import DEFAULT_DB_ALIAS, connections
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.permissions import SAFE_METHODS, BasePermission

from campaigns.models import ApiKey
from campaigns.services.api_keys import api_key_hash, api_key_matches, api_key_split
from leadops.db import Related, prepared_cursor

# Hashed when no key has the prefix, so an unknown prefix costs what a wrong secret costs.
_NO_SUCH_KEY = ApiKey(hashed_secret=api_key_hash("no such key"))


class ApiKeyAuthentication(BaseAuthentication):
    """Authenticate the integration, not a person: ``request.auth`` is the ``ApiKey``."""

    def authenticate(self, request):
        header = get_authorization_header(request).split()
        if not header:
            return None
        if header[0].lower() != b"bearer" or len(header) != 2:
            raise exceptions.AuthenticationFailed("Send the API key as 'Authorization: Bearer <key>'.")
        try:
            key = header[1].decode("ascii")
        except UnicodeDecodeError as exc:
            raise exceptions.AuthenticationFailed("The API key is not valid.") from exc
        parts = api_key_split(key)
        api_key = _known_keys.get(parts[0]) if parts is not None else None
        matches = api_key_matches(api_key or _NO_SUCH_KEY, key)
        if api_key is None or not matches:
            raise exceptions.AuthenticationFailed("The API key is not valid.")
        if api_key.revoked_at is not None:
            raise exceptions.AuthenticationFailed("The API key was revoked.")
        return AnonymousUser(), api_key

    def authenticate_header(self, request) -> str:
        # Without it DRF turns a 401 into a 403.
        return 'Bearer realm="leadops"'


# Every request starts here: a prepared statement rather than an ORM query (see leadops.db), and most
# requests not even that (``_KnownKeys``).
_API_KEY = Related(ApiKey, "k")
_BY_PREFIX = f"{_API_KEY.sql} WHERE k.prefix = %s"
NOTICES = "leadops_api_keys"  # the channel campaigns/migrations/0007 notifies on every change to a key row


def _api_key_by_prefix(prefix: str) -> ApiKey | None:
    with prepared_cursor() as cursor:
        cursor.execute(_BY_PREFIX, [prefix])
        row = cursor.fetchone()
    return _API_KEY.load(row) if row else None


class _KnownKeys(threading.local):
    """The unrevoked keys this thread has read, by prefix, kept while PostgreSQL can say when one changes.

    A key's prefix, hash and customer never change; revoking or deleting it does, and a trigger on the key
    table then notifies ``NOTICES`` with the prefix. The thread's connection LISTENs, and before trusting
    what it holds the thread drains the notices that arrived (one read that does not wait), forgetting
    those keys. A new connection starts with nothing held: notices sent before it listened never reach it.
    Inside a transaction (tests run in one) the table is read every time, since LISTEN waits for a commit.
    A revocation is therefore refused from the first request that starts after PostgreSQL has delivered
    its notice, a fraction of a millisecond after the commit.
    """

    MAX_KEYS = 256

    def __init__(self) -> None:
        self.keys: dict[str, ApiKey] = {}
        self.listening = None  # the psycopg connection that LISTENs for this thread

    def get(self, prefix: str) -> ApiKey | None:
        connection = connections[DEFAULT_DB_ALIAS]
        if connection.vendor != "postgresql" or connection.in_atomic_block:
            return _api_key_by_prefix(prefix)
        connection.ensure_connection()
        if self.listening is not connection.connection:
            self.keys.clear()
            with connection.cursor() as cursor:
                cursor.execute(f"LISTEN {NOTICES}")
            self.listening = connection.connection
        else:
            with connection.wrap_database_errors:
                for notice in connection.connection.notifies(timeout=0):
                    self.keys.pop(notice.payload, None)
        api_key = self.keys.get(prefix)
        if api_key is None:
            api_key = _api_key_by_prefix(prefix)
            if api_key is not None and api_key.revoked_at is None:
                if len(self.keys) >= self.MAX_KEYS:
                    self.keys.clear()
                self.keys[prefix] = api_key
        return api_key


_known_keys = _KnownKeys()


class HasApiKey(BasePermission):
    """Any request but with a valid key is refused (401)."""

    def has_permission(self, request, view) -> bool:
        return isinstance(request.auth, ApiKey)


class AgencyKeyForWrites(BasePermission):
    """A customer's key reads; pulling, recording calls and releasing leases need the agency's key.

    Checked on the object, after the key's scope found it: another customer's lead is a 404, never a 403.
    """

    message = "This key is a customer's read-only key; use the agency's key to change anything."
    code = "read_only_key"

    def has_object_permission(self, request, view, obj) -> bool:
        return request.method in SAFE_METHODS or request.auth.customer_id is None


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "campaigns.dialer.api.authentication.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A per-integration API key created in the admin: `Authorization: Bearer lok_…`.",
        }
