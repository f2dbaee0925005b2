"""Normalise the values leadops compares: phone numbers (E.164), email addresses and domains (IDNA).

Every app reads numbers, emails and domains through these functions so that a value written one way in
an upload and another way in a lead import is the same value in the database.
"""

from __future__ import annotations

import re

import idna
import phonenumbers

from leadops.errors import LeadopsError


class NormalizationError(LeadopsError):
    """A value that cannot be read as what it claims to be."""


_EXTENSION = re.compile(r"\s*(?:ext\.?|extension|x|#)\s*\d+\s*$", re.IGNORECASE)


def normalize_phone(raw: str, region: str) -> str:
    """Return ``raw`` as E.164, reading national formats with ``region``; raise if impossible."""
    text = (raw or "").strip()
    if not text:
        raise NormalizationError("The phone number is empty.")
    text = _EXTENSION.sub("", text)
    try:
        number = phonenumbers.parse(text, region.upper() if region else None)
    except phonenumbers.NumberParseException as exc:
        raise NormalizationError(f"'{raw}' is not a phone number ({_parse_reason(exc)}).") from exc
    if not phonenumbers.is_possible_number(number):
        raise NormalizationError(f"'{raw}' is not a possible phone number for its country.")
    if not phonenumbers.is_valid_number(number):
        raise NormalizationError(f"'{raw}' is not a valid phone number (no such number range).")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _parse_reason(exc: phonenumbers.NumberParseException) -> str:
    reasons = {
        phonenumbers.NumberParseException.INVALID_COUNTRY_CODE: "unknown country code",
        phonenumbers.NumberParseException.NOT_A_NUMBER: "no digits that make a number",
        phonenumbers.NumberParseException.TOO_SHORT_AFTER_IDD: "too short",
        phonenumbers.NumberParseException.TOO_SHORT_NSN: "too short",
        phonenumbers.NumberParseException.TOO_LONG: "too long",
    }
    return reasons.get(exc.error_type, "unreadable")


def format_phone(e164: str) -> str:
    """Return an E.164 number written for people: ``+1 202-555-0143``."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")


def normalize_email(raw: str) -> str:
    """Return ``raw`` as a lower-case address with an IDNA domain; raise if it is not an address."""
    text = (raw or "").strip().strip("<>").strip()
    if text.lower().startswith("mailto:"):
        text = text[len("mailto:") :]
    if not _EMAIL.match(text):
        raise NormalizationError(f"'{raw}' is not an email address.")
    local, _, domain = text.rpartition("@")
    return f"{local.lower()}@{normalize_domain(domain)}"


_DOMAIN_PREFIX = re.compile(r"^(?:[a-z][a-z0-9+.-]*://)?(?:[^@/]*@)?", re.IGNORECASE)


def normalize_domain(raw: str) -> str:
    """Return the host of ``raw`` (a domain, URL or ``@domain``) as lower-case IDNA, without ``www.``."""
    text = (raw or "").strip()
    text = _DOMAIN_PREFIX.sub("", text)
    text = re.split(r"[/?#:]", text, maxsplit=1)[0].strip().rstrip(".").lower()
    if text.startswith("www."):
        text = text[4:]
    if not text or "." not in text:
        raise NormalizationError(f"'{raw}' is not a domain.")
    try:
        ascii_domain = idna.encode(text, uts46=True).decode("ascii")
    except idna.IDNAError as exc:
        raise NormalizationError(f"'{raw}' is not a valid domain ({exc}).") from exc
    labels = ascii_domain.split(".")
    if any(not label for label in labels) or not re.fullmatch(r"[a-z0-9-]{2,63}|xn--[a-z0-9-]+", labels[-1]):
        raise NormalizationError(f"'{raw}' is not a valid domain.")
    return ascii_domain
