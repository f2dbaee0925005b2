"""Normalising phone numbers, emails and domains; the phone fast path against phonenumbers itself."""

from __future__ import annotations

import idna
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from leadops.normalizing import (
    Kind,
    NormalizationError,
    NormalizedValue,
    PhoneNormalizer,
    ValueNormalizer,
    _decisive_depths,
    _host_to_ascii,
    detect_kind,
    normalize_phone,
    normalize_phone_with_phonenumbers,
    normalize_value,
)


def outcome(function, raw: str, region: str) -> tuple[str, str]:
    """Return what ``function`` makes of ``raw``: ("ok", E.164) or ("refused", message and code)."""
    try:
        return "ok", function(raw, region)
    except NormalizationError as exc:
        return "refused", f"{exc.message} [{exc.code}]"


# Area codes where the reference looks at unusual depths (246 and 876 at the seventh digit, 305 and 505
# at the sixth), a few ordinary ones, and any three digits at all.
area_codes = st.one_of(
    st.sampled_from(["246", "876", "658", "305", "505", "983", "202", "212", "415", "800", "900", "671"]),
    st.integers(min_value=0, max_value=999).map(lambda number: f"{number:03d}"),
)
nanp_writings = st.builds(
    lambda template, area, exchange, line, extension, padding: (
        padding + template.format(a=area, e=exchange, l=line, x=extension) + padding
    ),
    template=st.sampled_from(
        [
            "{a}{e}{l}",
            "({a}) {e}-{l}",
            "({a}){e}-{l}",
            "{a}.{e}.{l}",
            "{a}-{e}-{l}",
            "{a} {e} {l}",
            "+1 {a} {e} {l}",
            "+1 ({a}) {e}-{l}",
            "+1{a}{e}{l}",
            "+1-{a}-{e}-{l}",
            "1{a}{e}{l}",
            "1 ({a}) {e}-{l}",
            "1-{a}-{e}-{l}",
            "{a}{e}{l} ext. {x}",
            "{a}-{e}-{l} x{x}",
            "({a}) {e}-{l} #{x}",
            "+1 {a} {e} {l} extension {x}",
            "{a}{e}{l}{x}",
            "+{a}{e}{l}",
        ]
    ),
    area=area_codes,
    exchange=st.integers(min_value=0, max_value=999).map(lambda number: f"{number:03d}"),
    line=st.integers(min_value=0, max_value=9999).map(lambda number: f"{number:04d}"),
    extension=st.integers(min_value=0, max_value=99999).map(str),
    padding=st.sampled_from(["", " ", "\t"]),
)
regions = st.sampled_from(["US", "CA", "us", "PR", "JM", "BB", "AG", "GB", "DE", "AU", ""])


@settings(max_examples=3000, deadline=None)
@given(raw=nanp_writings, region=regions)
@example(raw="2465210123", region="US")
@example(raw="(876) 606-0123", region="US")
@example(raw="1 (202) 555-0143", region="GB")
def test_fast_path_reads_nanp_writings_exactly_as_phonenumbers_does(raw: str, region: str) -> None:
    # given a North American number written one of the common ways, in any region
    # when both paths read it
    fast = outcome(normalize_phone, raw, region)
    reference = outcome(normalize_phone_with_phonenumbers, raw, region)
    # then they return the same number, or refuse it with the same message
    assert fast == reference


@settings(max_examples=3000, deadline=None)
@given(
    raw=st.text(alphabet="0123456789123456789 +-.()x#/,", min_size=1, max_size=24),
    region=regions,
)
def test_fast_path_agrees_with_phonenumbers_on_arbitrary_punctuation(raw: str, region: str) -> None:
    # given digits and punctuation in any order, including writings the fast path must leave alone
    # when both paths read it
    fast = outcome(normalize_phone, raw, region)
    reference = outcome(normalize_phone_with_phonenumbers, raw, region)
    # then they agree
    assert fast == reference


@settings(max_examples=2000, deadline=None)
@given(
    raw=st.one_of(
        nanp_writings.filter(lambda raw: raw.strip().startswith("+")),
        st.text(alphabet="0123456789 -.()", min_size=1, max_size=18).map(lambda rest: f"+{rest}"),
        st.sampled_from(["+44 20 7946 0958", "+49 30 901820", "+61 2 9374 4000", "+33 1 42 68 53 00"]),
    ),
    region=regions,
)
def test_a_number_written_with_a_plus_reads_the_same_without_a_region(raw: str, region: str) -> None:
    # given a number written with its country code (the dial check reads it before it knows the customer's
    # region, and falls back to the region when it cannot)
    without_region = outcome(normalize_phone, raw, "")
    # then whatever reads without a region reads the same with any
    if without_region[0] == "ok":
        assert outcome(normalize_phone, raw, region) == without_region


def test_barbados_numbers_are_decided_by_their_seventh_digit_like_phonenumbers() -> None:
    # given numbers of a Barbados exchange whose validity depends on the seventh digit
    raws = [f"246521{digit}123" for digit in range(10)]
    # when both paths read each of them
    fast = [outcome(normalize_phone, raw, "US") for raw in raws]
    reference = [outcome(normalize_phone_with_phonenumbers, raw, "US") for raw in raws]
    # then they agree digit by digit, and the seventh digit does change the answer
    assert fast == reference
    assert {status for status, _ in fast} == {"ok", "refused"}


@pytest.mark.parametrize(
    "raw",
    [
        "2025550143",
        "(202) 555-0143",
        "202.555.0143",
        "202-555-0143",
        "+1 202 555 0143",
        "+12025550143",
        "1-202-555-0143",
        "2025550143 ext. 12",
        " (202) 555-0143 x 7 ",
    ],
)
def test_common_us_writings_normalize_to_e164(raw: str) -> None:
    # given a US number written a common way
    # when it is normalised for the US
    normalized = normalize_phone(raw, "US")
    # then it is the E.164 number
    assert normalized == "+12025550143"


def test_exchange_starting_with_one_is_refused_as_no_such_range() -> None:
    # given a US number whose exchange starts with 1, which NANP never assigns
    raw = "(202) 155-0143"
    # when it is normalised
    with pytest.raises(NormalizationError) as refused:
        normalize_phone(raw, "US")
    # then it is refused for its range
    assert refused.value.message == "'(202) 155-0143' is not a valid phone number (no such number range)."


def test_national_number_of_another_country_is_read_by_phonenumbers() -> None:
    # given a London number written nationally
    raw = "020 7946 0958"
    # when it is normalised for Great Britain
    normalized = normalize_phone(raw, "GB")
    # then it is the British E.164 number
    assert normalized == "+442079460958"


def test_ten_digits_outside_north_america_are_not_taken_for_a_us_number() -> None:
    # given a ten-digit writing that would be a US number in the US
    raw = "2025550143"
    # when it is normalised for Germany
    fast = outcome(normalize_phone, raw, "DE")
    # then it is read as phonenumbers reads it for Germany
    assert fast == outcome(normalize_phone_with_phonenumbers, raw, "DE")
    assert fast != ("ok", "+12025550143")


def test_empty_phone_is_refused_as_empty() -> None:
    # given a blank cell
    # when it is normalised
    with pytest.raises(NormalizationError) as refused:
        normalize_phone("  ", "US")
    # then the reason says it is empty
    assert refused.value.code == "empty"


def test_phone_normalizer_parses_each_written_form_once() -> None:
    # given a normaliser and one number repeated in two writings
    normalizer = PhoneNormalizer(region="US")
    # when the writings are read several times
    results = [normalizer.normalize(raw) for raw in ["(202) 555-0143", "2025550143"] * 3]
    # then each distinct writing is remembered once and all read the same
    assert set(results) == {"+12025550143"}
    assert len(normalizer) == 2


def test_phone_normalizer_refuses_a_remembered_bad_number_every_time() -> None:
    # given a normaliser that has refused a number once
    normalizer = PhoneNormalizer(region="US")
    with pytest.raises(NormalizationError):
        normalizer.normalize("555-0143")
    # when the same number comes again
    with pytest.raises(NormalizationError) as refused:
        normalizer.normalize("555-0143")
    # then it is refused again with the reference's reason
    assert refused.value.message == outcome(normalize_phone_with_phonenumbers, "555-0143", "US")[1].split(" [")[0]


def test_phone_normalizer_memory_is_bounded() -> None:
    # given a normaliser that may remember two writings
    normalizer = PhoneNormalizer(region="US", max_cached=2)
    # when it reads five distinct writings
    for line in range(5):
        normalizer.normalize(f"202555014{line}")
    # then it remembers no more than two
    assert len(normalizer) <= 2


ascii_hosts = st.lists(
    st.one_of(
        st.text(alphabet="abz09-_", min_size=0, max_size=8),
        st.sampled_from(["xn--bcher-kva", "xn--", "ab--cd", "-a", "a-", "A", "a" * 63, "a" * 64]),
    ),
    min_size=1,
    max_size=4,
).map(".".join)


@settings(max_examples=2000, deadline=None)
@given(host=ascii_hosts)
def test_ascii_hosts_skip_idna_only_where_idna_returns_them_unchanged(host: str) -> None:
    # given an ASCII host, valid or not
    # when it is converted with and without the shortcut
    def converted(function) -> str:
        try:
            return function(host)
        except idna.IDNAError:
            return "refused"

    shortcut = converted(_host_to_ascii)
    reference = converted(lambda text: idna.encode(text, uts46=True).decode("ascii"))
    # then both agree
    assert shortcut == reference


@pytest.mark.parametrize(
    ("raw", "kind"),
    [
        ("(202) 555-0143", Kind.PHONE),
        ("+44 20 7946 0958", Kind.PHONE),
        ("2025550143 ext. 12", Kind.PHONE),
        ("Jane.Doe@Example.com", Kind.EMAIL),
        ("mailto:jane@example.com", Kind.EMAIL),
        ("example.com", Kind.DOMAIN),
        ("https://www.example.co.uk/about", Kind.DOMAIN),
        ("@example.com", Kind.DOMAIN),
        ("bücher.de", Kind.DOMAIN),
        ("202.555.0143", Kind.PHONE),
        ("Jane Doe", Kind.UNKNOWN),
        ("12345", Kind.UNKNOWN),
        ("", Kind.UNKNOWN),
        ("n/a", Kind.UNKNOWN),
    ],
)
def test_detect_kind_tells_phones_emails_and_domains_apart(raw: str, kind: Kind) -> None:
    # given a value from an upload
    # when its kind is detected
    detected = detect_kind(raw)
    # then it is what it looks like
    assert detected is kind


def test_normalize_value_detects_the_kind_when_none_is_given() -> None:
    # given an email address in mixed case
    # when it is normalised without a kind
    value = normalize_value(" Jane.Doe@Example.COM ", kind=None, region="US")
    # then it is read as a lower-case email address
    assert value == NormalizedValue(Kind.EMAIL, "jane.doe@example.com")


def test_normalize_value_refuses_what_is_no_known_kind() -> None:
    # given a name where a value was expected
    # when it is normalised without a kind
    with pytest.raises(NormalizationError) as refused:
        normalize_value("Jane Doe", kind=None, region="US")
    # then the reason names what it is not
    assert refused.value.message == "'Jane Doe' is not a phone number, an email address or a domain."


def test_normalize_value_gives_the_phone_reason_for_a_bad_phone_column_value() -> None:
    # given a value from a phone column that is not a number
    # when it is normalised as a phone
    with pytest.raises(NormalizationError) as refused:
        normalize_value("call me", kind=Kind.PHONE, region="US")
    # then the reason is about phone numbers
    assert refused.value.code == "invalid_phone"


def test_company_domain_is_normalized_without_scheme_or_www() -> None:
    # given a company website
    # when it is normalised as a domain
    value = normalize_value("https://www.Acme-Widgets.com/contact", kind=Kind.DOMAIN, region="US")
    # then only its domain is kept
    assert value == NormalizedValue(Kind.DOMAIN, "acme-widgets.com")


def test_free_mail_domain_is_refused_with_an_explanation() -> None:
    # given Gmail's domain
    # when it is normalised as a suppression domain
    with pytest.raises(NormalizationError) as refused:
        normalize_value("gmail.com", kind=Kind.DOMAIN, region="US")
    # then the refusal explains the consequence and the way out
    assert refused.value.message == (
        "gmail.com is a free-mail domain: suppressing it would block every contact with a Gmail address. "
        "Ask ops to allow it explicitly."
    )
    assert refused.value.code == "free_mail_domain"


def test_free_mail_domain_is_accepted_when_ops_allow_broad_domains() -> None:
    # given Gmail's domain and ops' explicit permission
    # when it is normalised
    value = normalize_value("gmail.com", kind=Kind.DOMAIN, region="US", allow_broad_domains=True)
    # then it is accepted
    assert value == NormalizedValue(Kind.DOMAIN, "gmail.com")


@pytest.mark.parametrize("raw", ["co.uk", "com.au", "github.io"])
def test_public_suffix_is_refused_as_no_company_domain(raw: str) -> None:
    # given a public suffix, under which anyone can register a domain
    # when it is normalised as a suppression domain
    with pytest.raises(NormalizationError) as refused:
        normalize_value(raw, kind=Kind.DOMAIN, region="US")
    # then it is refused as a public suffix
    assert refused.value.message.startswith(f"{raw} is a public suffix, not a company's domain")
    assert refused.value.code == "public_suffix"


def test_company_domain_under_a_public_suffix_is_accepted() -> None:
    # given a company's domain under co.uk
    # when it is normalised as a suppression domain
    value = normalize_value("acme.co.uk", kind=Kind.DOMAIN, region="US")
    # then it is accepted
    assert value == NormalizedValue(Kind.DOMAIN, "acme.co.uk")


def test_value_normalizer_reads_a_phone_with_its_region() -> None:
    # given a normaliser for Canada
    normalizer = ValueNormalizer(region="CA")
    # when a national number is read without a kind
    value = normalizer.normalize("(416) 555-0199")
    # then it is a NANP E.164 number
    assert value == NormalizedValue(Kind.PHONE, "+14165550199")


def lenient(function):
    """``function`` reading as a suppression list does: possible but unallocated numbers are kept."""
    return lambda raw, region: function(raw, region, allow_unallocated=True)


@settings(max_examples=2000, deadline=None)
@given(raw=st.one_of(nanp_writings, st.text(alphabet="0123456789 +-.()x#", min_size=1, max_size=24)), region=regions)
@example(raw="(202) 155-0143", region="US")
@example(raw="07700 900123", region="GB")
def test_fast_path_agrees_with_phonenumbers_when_unallocated_numbers_are_kept(raw: str, region: str) -> None:
    # given any writing, read as a suppression list reads it
    # when both paths read it
    fast = outcome(lenient(normalize_phone), raw, region)
    reference = outcome(lenient(normalize_phone_with_phonenumbers), raw, region)
    # then they agree, and whatever the strict reading accepts the lenient one accepts as the same number
    assert fast == reference
    strict = outcome(normalize_phone, raw, region)
    if strict[0] == "ok":
        assert fast == strict


@pytest.mark.parametrize(
    ("raw", "region", "e164"),
    [
        ("07700 900123", "GB", "+447700900123"),  # a UK mobile in a range not (yet) allocated
        ("(202) 155-0143", "US", "+12021550143"),  # the fast path: an exchange NANP never assigns
    ],
)
def test_a_possible_but_unallocated_number_is_kept_for_a_suppression_and_refused_for_a_lead(raw, region, e164):
    # given a number possible for its country but in no allocated range
    # when it is read for a suppression list, and for a lead
    suppressed = normalize_phone(raw, region, allow_unallocated=True)
    with pytest.raises(NormalizationError) as refused:
        normalize_phone(raw, region)
    # then the list keeps it (blocking it is harmless) and the lead is refused for its range
    assert suppressed == e164
    assert refused.value.message == f"'{raw}' is not a valid phone number (no such number range)."
    assert PhoneNormalizer(region=region, allow_unallocated=True).normalize(raw) == e164
    assert ValueNormalizer(region=region, allow_unallocated=True).normalize(raw) == NormalizedValue(Kind.PHONE, e164)


@pytest.mark.parametrize(
    ("raw", "region", "why"),
    [
        ("07700 9001234", "GB", "not a possible phone number for its country"),
        ("+1 202 555 01", "US", "not a possible phone number for its country"),
        ("555-0143", "US", "only a local number: write it with its area code"),
    ],
)
def test_an_impossible_or_local_only_number_is_refused_even_for_a_suppression(raw, region, why):
    # given a number too long, too short, or without its area code
    # when it is read for a suppression list
    with pytest.raises(NormalizationError) as refused:
        normalize_phone(raw, region, allow_unallocated=True)
    # then it is refused: it is no whole number that anyone could have
    assert refused.value.message == f"'{raw}' is {why}."


@pytest.mark.parametrize("raw", ["1.9175550150E+10", "9.17555015E9", "2,02555014E+09", "1.9175550150e+10"])
@pytest.mark.parametrize("allow_unallocated", [False, True], ids=["lead", "suppression"])
def test_scientific_notation_is_refused_saying_what_excel_did_and_how_to_fix_the_export(raw, allow_unallocated):
    # given a number a spreadsheet stored as a float (9.17555015E9 would even read as a wrong number)
    # when it is read as a phone number, for a lead or a suppression list
    with pytest.raises(NormalizationError) as refused:
        normalize_phone(raw, "US", allow_unallocated=allow_unallocated)
    # then the reason says what went wrong and how to export the column so its digits survive
    assert refused.value.code == "scientific_notation"
    assert refused.value.message == (
        f"'{raw}' is a number in scientific notation: the spreadsheet stored the phone number as a "
        "floating-point number and lost its last digits, so it cannot be read back. In Excel, format the "
        "column as Text (or as a Number with 0 decimal places) before exporting, check the numbers, and "
        "upload the file again."
    )


def test_a_scientific_notation_cell_is_taken_for_a_phone_number():
    # given a cell of a column whose kind is not known
    # when its kind is detected
    # then it is a phone number (so it is refused with the phone's reason, not as no known kind)
    assert detect_kind("1.9175550150E+10") is Kind.PHONE
    with pytest.raises(NormalizationError) as refused:
        normalize_value("1.9175550150E+10", kind=None, region="US")
    assert refused.value.code == "scientific_notation"


def test_the_range_analysis_reads_every_nanp_pattern_phonenumbers_has():
    # given the NANP patterns of the installed phonenumbers metadata
    # when the fast path's range table finds how many leading digits decide each area code
    depths = _decisive_depths()
    # then it understood every one of them (else every number would go to phonenumbers), and Barbados and
    # Jamaica are decided by their seventh digit, as the Barbados test above sees phonenumbers decide them
    assert depths is not None
    assert depths["246"] == 7
    assert depths["876"] == 7


def test_the_range_analysis_finds_the_last_digit_a_pattern_tests_narrowly():
    # given patterns that test the exchange's first digit, and for 212 also the next two digits
    patterns = [r"2(?:0[2-9]|12)[2-9]\d{6}", r"212(?:5[0-4]|\d{2})\d{5}", r"[89]00\d{7}"]
    # when the analysis reads them
    depths = _decisive_depths(patterns)
    # then each area code is decided by the digits up to its last narrow test; "any digit" decides nothing
    assert depths == {**{f"20{digit}": 4 for digit in range(2, 10)}, "212": 5}


@pytest.mark.parametrize("pattern", [r"^2\d{9}", r"(?=2)\d{10}", r"2\d{2}\s?\d{7}", r"\b2\d{9}"])
def test_the_range_analysis_gives_up_on_syntax_it_does_not_model(pattern):
    # given a pattern with an anchor, a look-ahead or an escape beyond digits
    # when the analysis reads it
    # then it knows nothing (the fast path then asks phonenumbers about every number)
    assert _decisive_depths([r"2\d{9}", pattern]) is None
