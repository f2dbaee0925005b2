"""Webhook signatures: every body is signed with the connection's secret (HMAC-SHA256).

leadops' own shape: ``X-Leadops-Timestamp: <unix seconds>`` and
``X-Leadops-Signature: sha256=<hex of HMAC(secret, timestamp + "." + body)>``.
HubSpot's v3 shape: ``X-HubSpot-Request-Timestamp: <unix ms>`` and ``X-HubSpot-Signature-v3:
<base64 of HMAC(secret, method + uri + body + timestamp)>``. Both refuse a timestamp more than five
minutes away from now, so a captured request cannot be replayed later.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import time

from leadops.errors import LeadopsError

MAX_SKEW_SECONDS = 300


class SignatureError(LeadopsError):
    pass


def _fresh(timestamp_seconds: float, *, now: float | None) -> None:
    # NaN is never "more than five minutes away" from anything: the comparison alone would let it through.
    if not math.isfinite(timestamp_seconds):
        raise SignatureError("The request timestamp is not a finite number: refused.", code="bad_timestamp")
    now = time.time() if now is None else now
    if abs(now - timestamp_seconds) > MAX_SKEW_SECONDS:
        raise SignatureError(
            "The request timestamp is more than 5 minutes old (or ahead): refused as stale.", code="stale_timestamp"
        )


def sign_leadops(*, secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify_leadops(
    *, secret: str, timestamp: str | None, signature: str | None, body: bytes, now: float | None = None
) -> None:
    """Raise ``SignatureError`` unless ``signature`` signs ``body`` at a fresh ``timestamp``."""
    if not timestamp or not signature:
        raise SignatureError("Missing X-Leadops-Timestamp or X-Leadops-Signature header.", code="missing_signature")
    try:
        seconds = float(timestamp)
    except ValueError as exc:
        raise SignatureError("X-Leadops-Timestamp is not a number of seconds.", code="bad_timestamp") from exc
    if not math.isfinite(seconds):
        raise SignatureError(
            f"X-Leadops-Timestamp must be a finite number of seconds since 1970 (got '{timestamp.strip()}').",
            code="bad_timestamp",
        )
    _fresh(seconds, now=now)
    expected = sign_leadops(secret=secret, timestamp=timestamp, body=body)
    if not hmac.compare_digest(expected.encode(), signature.strip().encode()):
        raise SignatureError("The signature does not match the body.", code="bad_signature")


def sign_hubspot_v3(*, secret: str, method: str, uri: str, body: bytes, timestamp: str) -> str:
    message = method.upper().encode() + uri.encode() + body + timestamp.encode()
    return base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()


def verify_hubspot_v3(
    *,
    secret: str,
    method: str,
    uri: str,
    body: bytes,
    timestamp: str | None,
    signature: str | None,
    now: float | None = None,
) -> None:
    """Raise ``SignatureError`` unless HubSpot's v3 ``signature`` signs this request at a fresh time."""
    if not timestamp or not signature:
        raise SignatureError(
            "Missing X-HubSpot-Request-Timestamp or X-HubSpot-Signature-v3 header.", code="missing_signature"
        )
    try:
        millis = int(timestamp)
    except ValueError as exc:
        raise SignatureError("X-HubSpot-Request-Timestamp is not milliseconds.", code="bad_timestamp") from exc
    _fresh(millis / 1000, now=now)
    expected = sign_hubspot_v3(secret=secret, method=method, uri=uri, body=body, timestamp=timestamp)
    if not hmac.compare_digest(expected.encode(), signature.strip().encode()):
        raise SignatureError("The signature does not match the body.", code="bad_signature")
