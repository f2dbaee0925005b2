"""When a number may be called: calling windows in the called party's local time, and frequency caps.

A number that may be called may still not be called *now*. Each campaign has a calling policy (local hours per
weekday, 8:00 to 21:00 by default; caps per number, contact and account), and the maintained jurisdiction
table (``Jurisdiction``: the US federal window, stricter states, holidays) adds the rules of the place the
number is in. The local time comes from the number: ``phonenumbers`` maps it to its possible time zones, and
every one of them must be inside the window; a number it cannot place is "not now", never "yes".

Everything here is pure once the policy and the rules are loaded: ``window_check`` and ``cap_check`` take the
moment to judge (``now``), so tests hold a controlled clock. The dial check and the pull read the policy and
the rules through ``policy_for`` and ``rules_for``, which keep them in memory per process and reload them only
when the version their own statement read says they changed (no statement of their own on the hot path).

See ``docs/calling-windows.md``.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import phonenumbers
from django.utils import timezone
from phonenumbers import geocoder
from phonenumbers import timezone as phone_timezones
from phonenumbers.tzdata import TIMEZONE_DATA

from campaigns.models import WEEKDAYS, CallingPolicy, CallingRulesVersion, Jurisdiction
from leadops.normalizing import format_phone, nanp_deciding_length

CALLING_WINDOW = "calling_window"
FREQUENCY_CAP = "frequency_cap"
# An empty pull's: the leads at the head of the pool may be called, only not now (``pull_not_now_reason``).
NONE_CALLABLE_NOW = "none_callable_now"
CAP_PERIOD = timedelta(hours=24)
# How far ahead ``next_allowed_at`` is looked for: beyond it, a window is as good as never open.
HORIZON_DAYS = 8
UNKNOWN_ZONE = "Etc/Unknown"
DASH = "\u2013"  # the en dash between two hours: "8 am" DASH "8 pm"
DAY_NAMES = ("Mondays", "Tuesdays", "Wednesdays", "Thursdays", "Fridays", "Saturdays", "Sundays")


def calling_now() -> datetime:
    """The moment calling windows and caps are judged at, unless a caller gives one (tests pin it)."""
    return timezone.now()


# --- What is loaded ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """A jurisdiction, loaded: where it applies, its window, the days and holidays without calls, its cap."""

    code: str
    name: str
    country: str
    prefixes: tuple[str, ...]
    consumer_only: bool
    opens_at: time
    closes_at: time
    closed_weekdays: frozenset[int] = frozenset()
    calls_per_24h: int | None = None
    holidays: dict[date, str] = field(default_factory=dict)

    def covers(self, e164: str, region: str | None) -> bool:
        if region != self.country:
            return False
        return not self.prefixes or e164.startswith(self.prefixes)


@dataclass(frozen=True)
class Policy:
    """A campaign's calling policy, loaded; ``consumer_rules_waived`` only when the campaign is a business one."""

    hours: tuple[tuple[time, time] | None, ...]
    number_cap: int | None = None
    contact_cap: int | None = None
    account_cap: int | None = None
    consumer_rules_waived: bool = False


def parse_hours(hours: object) -> tuple[tuple[time, time] | None, ...]:
    """Read a policy's ``hours`` (per weekday ``["HH:MM", "HH:MM"]`` or null); raise ``ValueError`` naming the
    day and what is wrong."""
    if not isinstance(hours, dict):
        raise ValueError('Write the hours as {"mon": ["08:00", "21:00"], …}, one entry per weekday.')
    unknown = sorted(set(hours) - set(WEEKDAYS))
    if unknown:
        raise ValueError(f"{', '.join(unknown)}: not a weekday (write mon, tue, wed, thu, fri, sat, sun).")
    parsed = []
    for day in WEEKDAYS:
        value = hours.get(day)
        if value is None:
            parsed.append(None)
            continue
        if not (isinstance(value, list | tuple) and len(value) == 2):
            raise ValueError(f'{day}: write ["HH:MM", "HH:MM"], or null for no calls that day.')
        try:
            start, end = (time.fromisoformat(str(part)) for part in value)
        except ValueError as exc:
            raise ValueError(f"{day}: {value!r} is not two times written HH:MM.") from exc
        if not start < end:
            raise ValueError(f"{day}: the calls must start before they stop ({value[0]} is not before {value[1]}).")
        parsed.append((start, end))
    return tuple(parsed)


DEFAULT_POLICY = Policy(hours=tuple((time(8), time(21)) for _ in WEEKDAYS))


def policy_from(row: CallingPolicy | None, *, business: bool) -> Policy:
    if row is None:
        return DEFAULT_POLICY
    return Policy(
        hours=parse_hours(row.hours),
        number_cap=row.number_cap,
        contact_cap=row.contact_cap,
        account_cap=row.account_cap,
        consumer_rules_waived=business and row.consumer_rules_waived,
    )


def parse_weekdays(text: str) -> frozenset[int]:
    """Read ``closed_weekdays`` ("sat sun"); raise ``ValueError`` naming a word that is not a weekday."""
    days = set()
    for word in text.replace(",", " ").lower().split():
        if word[:3] not in WEEKDAYS:
            raise ValueError(f"{word}: not a weekday (write mon, tue, wed, thu, fri, sat, sun).")
        days.add(WEEKDAYS.index(word[:3]))
    return frozenset(days)


def parse_prefixes(text: str) -> tuple[str, ...]:
    """Read ``prefixes`` ("+1305 +1786"); raise ``ValueError`` naming one that is not ``+`` and digits."""
    prefixes = []
    for word in text.replace(",", " ").split():
        if not (word.startswith("+") and word[1:].isdigit()):
            raise ValueError(f"{word}: write each prefix as + and digits, e.g. +1305.")
        prefixes.append(word)
    return tuple(prefixes)


def rule_from(row: Jurisdiction) -> Rule:
    return Rule(
        code=row.code,
        name=row.name,
        country=row.country.upper(),
        prefixes=parse_prefixes(row.prefixes),
        consumer_only=row.consumer_only,
        opens_at=row.opens_at,
        closes_at=row.closes_at,
        closed_weekdays=parse_weekdays(row.closed_weekdays),
        calls_per_24h=row.calls_per_24h,
        holidays={h.date: h.name for h in row.holidays.all()} if row.closed_on_holidays else {},
    )


# In memory per process, keyed by the versions the hot path's own statement reads.
_lock = threading.Lock()
_rules: dict[int, tuple[Rule, ...]] = {}
_policies: dict[tuple[int, int, bool], Policy] = {}


def rules_version() -> int:
    return CallingRulesVersion.objects.values_list("version", flat=True).first() or 0


def rules_for(version: int) -> tuple[Rule, ...]:
    """Return the active jurisdictions as of ``version`` (``CallingRulesVersion``), loading them on a change."""
    rules = _rules.get(version)
    if rules is None:
        rules = tuple(
            rule_from(row) for row in Jurisdiction.objects.filter(is_active=True).prefetch_related("holidays")
        )
        with _lock:
            _rules.clear()
            _rules[version] = rules
    return rules


def policy_for(campaign_id: int, version: int | None, *, business: bool) -> Policy:
    """Return the campaign's policy as of its ``version`` (None: it has none, the default applies)."""
    if version is None:
        return policy_from(None, business=business)
    key = (campaign_id, version, business)
    policy = _policies.get(key)
    if policy is None:
        policy = policy_from(CallingPolicy.objects.filter(campaign_id=campaign_id).first(), business=business)
        with _lock:
            if len(_policies) > 10_000:
                _policies.clear()
            _policies[key] = policy
    return policy


# --- Windows ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    """Whether a number may be called now; when not, the sentence, the rule and when it may be."""

    allowed: bool
    code: str = ""
    message: str = ""
    next_allowed_at: datetime | None = None
    rule: str = ""
    count: int | None = None


ALLOWED = Verdict(allowed=True)


def number_place(e164: str) -> tuple[tuple[str, ...], str | None, str]:
    """Return the time zones ``e164`` may be in (empty when it cannot be placed), its region and a place name."""
    zones, region = number_zones(e164)
    return zones, region, number_place_name(e164)


def number_zones(e164: str) -> tuple[tuple[str, ...], str | None]:
    """Return the time zones ``e164`` may be in (empty when it cannot be placed) and its region.

    A NANP number (``+1`` and ten digits) is answered per deciding prefix (``_nanp_zone_prefix_length``): the
    pull asks for ten or more numbers it has never seen, and phonenumbers took about 0.12 ms each to parse
    one, type it (to know whether it is geographic), find its region and look its zones up, a tenth of the
    pull's own Python. Any other number is asked of phonenumbers, the last 4,096 remembered.
    """
    national = e164[2:]
    if len(e164) == 12 and e164.startswith("+1") and national.isdigit() and national[0] not in "01":
        length = _nanp_zone_prefix_length(national[:3])
        if length is not None:
            prefix = national[:length]
            found = _nanp_zones.get(prefix)
            if found is None:
                # Any number under the prefix answers for all of them; this one ends in zeros.
                found = number_zones_from_phonenumbers("+1" + prefix + "0" * (NANP_NATIONAL_LENGTH - length))
                if len(_nanp_zones) >= NANP_ZONES_KEPT:
                    _nanp_zones.clear()
                _nanp_zones[prefix] = found
            return found
    return number_zones_from_phonenumbers(e164)


NANP_NATIONAL_LENGTH = 10
# The zones of NANP numbers by deciding prefix: the prefixes the pools' numbers fall under (most area codes are
# decided by four digits, some by six or seven), emptied when it holds NANP_ZONES_KEPT so that it stays bounded.
NANP_ZONES_KEPT = 100_000
_nanp_zones: dict[str, tuple[tuple[str, ...], str | None]] = {}


@functools.cache
def _nanp_zone_prefix_length(area_code: str) -> int | None:
    """Return how many leading national digits decide a NANP number's zones and region; None: ask for each.

    Its zones are phonenumbers' time-zone table's entry for the longest prefix of the number it lists, once
    its type (geographic or not) and region are known; those two are decided by the digits that decide
    everything NANP metadata says of it (``nanp_deciding_length``). A prefix as long as both, and as the
    table's longest entry under the area code, decides all three: numbers that share it get the same answer.
    ``tests/campaigns/test_calling_windows.py`` holds this path to phonenumbers' own answers.
    """
    deciding = nanp_deciding_length(area_code)
    if deciding is None:
        return None
    listed = max((len(key) - 1 for key in TIMEZONE_DATA if key.startswith("1" + area_code)), default=0)
    length = max(deciding, listed, 3)
    # Deeper than seven digits a prefix would approach remembering numbers.
    return length if length <= 7 else None


@functools.lru_cache(maxsize=4096)
def number_zones_from_phonenumbers(e164: str) -> tuple[tuple[str, ...], str | None]:
    """``number_zones`` as phonenumbers answers it for ``e164`` itself."""
    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return (), None
    zones = tuple(z for z in phone_timezones.time_zones_for_number(parsed) if z != UNKNOWN_ZONE)
    return zones, phonenumbers.region_code_for_number(parsed)


def number_place_name(e164: str) -> str:
    """Return where ``e164`` is, in words ("Washington D.C.", "Canada"), or "" (only a refusal names it)."""
    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return ""
    return geocoder.description_for_number(parsed, "en") or geocoder.country_name_for_number(parsed, "en")


def applicable_rules(e164: str, region: str | None, rules: Iterable[Rule], policy: Policy) -> list[Rule]:
    """Return the rules that apply to ``e164``, the most specific first (a state before its country): the one a
    refusal names when several close at once."""
    applying = [r for r in rules if r.covers(e164, region) and not (r.consumer_only and policy.consumer_rules_waived)]
    return sorted(applying, key=lambda r: -max((len(p) for p in r.prefixes if e164.startswith(p)), default=0))


def _closed_because(local: datetime, policy: Policy, rules: Sequence[Rule]) -> str | None:
    """Return why no call may be made at the local moment ``local`` (words after the place), None when one may."""
    weekday, clock, day = local.weekday(), local.time(), local.date()
    for rule in rules:
        if day in rule.holidays:
            return f"{rule.name} allows no calls on {rule.holidays[day]}"
        if weekday in rule.closed_weekdays:
            return f"{rule.name} allows no calls on {DAY_NAMES[weekday]}"
        if not rule.opens_at <= clock < rule.closes_at:
            return f"{rule.name} allows calls {hours_words(rule.opens_at)}{DASH}{hours_words(rule.closes_at)}"
    hours = policy.hours[weekday]
    if hours is None:
        return f"the campaign calls no one on {DAY_NAMES[weekday]}"
    if not hours[0] <= clock < hours[1]:
        return f"the campaign calls {hours_words(hours[0])}{DASH}{hours_words(hours[1])} on {DAY_NAMES[weekday]}"
    return None


def is_open(moment: datetime, zones: Sequence[str], policy: Policy, rules: Sequence[Rule]) -> bool:
    """Return whether ``moment`` is inside the window in every one of ``zones`` (none: never)."""
    return bool(zones) and all(
        _closed_because(moment.astimezone(ZoneInfo(zone)), policy, rules) is None for zone in zones
    )


def _openings(zone: str, after: datetime, policy: Policy, rules: Sequence[Rule]) -> Iterable[datetime]:
    """Yield the moments a window may open in ``zone`` within the horizon: each day's start of the campaign's
    hours and of each rule's, and each local midnight (a holiday or a closed day ends)."""
    tz = ZoneInfo(zone)
    first = after.astimezone(tz).date()
    starts = {rule.opens_at for rule in rules} | {hours[0] for hours in policy.hours if hours} | {time(0)}
    for offset in range(HORIZON_DAYS + 1):
        day = first + timedelta(days=offset)
        for start in starts:
            # A start that falls in a DST gap maps past it, never before it: late, never early.
            yield datetime.combine(day, start, tzinfo=tz).astimezone(UTC)


def next_open(now: datetime, zones: Sequence[str], policy: Policy, rules: Sequence[Rule]) -> datetime | None:
    """Return the first moment at or after ``now`` inside the window in every zone, None within the horizon.

    Where the windows of several zones meet, the meeting opens when the last of them does: one of the
    openings of one of the zones. Each candidate is checked with ``is_open`` itself.
    """
    if not zones:
        return None
    if is_open(now, zones, policy, rules):
        return now
    candidates = sorted({c for zone in zones for c in _openings(zone, now, policy, rules) if c > now})
    return next((c for c in candidates if is_open(c, zones, policy, rules)), None)


def window_check(e164: str, *, policy: Policy, rules: Sequence[Rule], now: datetime) -> Verdict:
    """Return whether ``e164`` may be called at ``now`` by its local time(s); when not, why and from when."""
    zones, region = number_zones(e164)
    if not zones:
        number = format_phone(e164)
        return Verdict(
            allowed=False,
            code=CALLING_WINDOW,
            message=(
                f"leadops cannot tell where {number} is, so not what time it is there: it is not called until "
                "the number can be placed (check that it is written right)."
            ),
            rule="unplaceable",
        )
    applying = applicable_rules(e164, region, rules, policy)
    closed = [
        (zone, why)
        for zone in zones
        if (why := _closed_because(now.astimezone(ZoneInfo(zone)), policy, applying)) is not None
    ]
    if not closed:
        return ALLOWED
    number = format_phone(e164)
    zone, why = closed[0]
    place = (
        next((r.name for r in applying if r.prefixes), None)
        or number_place_name(e164)
        or next((r.name for r in applying), None)
        or region
        or "its place"
    )
    local = now.astimezone(ZoneInfo(zone))
    zone_words = zone if len(zones) == 1 else f"{zone}, one of the {len(zones)} zones the number may be in"
    upcoming = next_open(now, zones, policy, applying)
    if upcoming is None:
        then = f"no time in the next {HORIZON_DAYS} days is inside the window in every zone it may be in"
    else:
        then = f"the next allowed time is {_when_words(upcoming.astimezone(ZoneInfo(zone)), local)}, in " + (
            duration_words(upcoming - now)
        )
    return Verdict(
        allowed=False,
        code=CALLING_WINDOW,
        message=f"It is {clock_words(local)} in {place} ({zone_words}) for {number}; {why}; {then}.",
        next_allowed_at=upcoming,
        rule=_rule_code(why, applying),
    )


def _rule_code(why: str, rules: Sequence[Rule]) -> str:
    return next((rule.code for rule in rules if why.startswith(rule.name)), "campaign_hours")


# --- Caps -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CallCounts:
    """The calls of the last 24 hours: to the number and to the contact and the account, within the
    customer's campaigns, and to the number by every customer (the jurisdictions' caps)."""

    number: int = 0
    contact: int = 0
    account: int = 0
    number_everywhere: int = 0


@dataclass(frozen=True)
class Cap:
    """A cap a number has reached: its rule, the count, the limit, and what it counts (for ``next_allowed_at``)."""

    rule: str
    count: int
    limit: int
    words: str
    counts: str  # number, contact, account or number_everywhere


def caps_reached(e164: str, counts: CallCounts, *, policy: Policy, rules: Sequence[Rule]) -> list[Cap]:
    """Return the caps ``counts`` reach for ``e164`` (most binding first: the platform's, then the campaign's)."""
    _, region = number_zones(e164)
    reached = []
    for rule in applicable_rules(e164, region, rules, policy):
        if rule.calls_per_24h is not None and counts.number_everywhere >= rule.calls_per_24h:
            words = f"{rule.name} allows {rule.calls_per_24h} calls to one number in 24 hours"
            reached.append(Cap(rule.code, counts.number_everywhere, rule.calls_per_24h, words, "number_everywhere"))
    for what, limit, count in (
        ("number", policy.number_cap, counts.number),
        ("contact", policy.contact_cap, counts.contact),
        ("account", policy.account_cap, counts.account),
    ):
        if limit is not None and count >= limit:
            words = f"the campaign allows {limit} calls to one {what} in 24 hours across the customer's campaigns"
            reached.append(Cap(f"{what}_cap", count, limit, words, what))
    return reached


CAP_SCOPES = {
    "number": "to",
    "contact": "to the contact of",
    "account": "to the account of",
    "number_everywhere": "by every customer to",
}


def cap_verdict(e164: str, cap: Cap, *, times: Sequence[datetime], now: datetime) -> Verdict:
    """Word a reached cap, given the times of the calls it counted (oldest first): the number may be called
    again once enough of them are more than 24 hours old."""
    number = format_phone(e164)
    # With ``count`` calls and room for ``limit - 1`` more, the one that must age out is the
    # (count - limit + 1)-th oldest.
    index = cap.count - cap.limit
    upcoming = max(sorted(times)[index] + CAP_PERIOD, now) if len(times) > index else None
    when = f"; it may be called again in {duration_words(upcoming - now)}" if upcoming is not None else ""
    calls = "1 call" if cap.count == 1 else f"{cap.count} calls"
    return Verdict(
        allowed=False,
        code=FREQUENCY_CAP,
        message=f"{calls} in the last 24 hours {CAP_SCOPES[cap.counts]} {number}; {cap.words}{when}.",
        next_allowed_at=upcoming,
        rule=cap.rule,
        count=cap.count,
    )


# --- Words ------------------------------------------------------------------------------------------------


def clock_words(local: datetime) -> str:
    """``7:42 am``."""
    hour = local.hour % 12 or 12
    return f"{hour}:{local.minute:02d} {'am' if local.hour < 12 else 'pm'}"


def hours_words(value: time) -> str:
    """``8 am``, ``8:30 pm``."""
    hour = value.hour % 12 or 12
    minutes = f":{value.minute:02d}" if value.minute else ""
    return f"{hour}{minutes} {'am' if value.hour < 12 else 'pm'}"


def _when_words(upcoming: datetime, local_now: datetime) -> str:
    days = (upcoming.date() - local_now.date()).days
    if days == 0:
        return clock_words(upcoming)
    if days == 1:
        return f"{clock_words(upcoming)} tomorrow"
    return f"{clock_words(upcoming)} on {upcoming:%a} {upcoming.day} {upcoming:%b}"


def duration_words(delta: timedelta) -> str:
    """``18 minutes``, ``2 hours 5 minutes``, ``3 days 4 hours``."""
    minutes = max(0, int((delta.total_seconds() + 59) // 60))
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    parts = [(days, "day"), (hours, "hour"), (minutes, "minute")]
    words = [f"{n} {unit}{'s' if n != 1 else ''}" for n, unit in parts if n][:2]
    return " ".join(words) or "less than a minute"
