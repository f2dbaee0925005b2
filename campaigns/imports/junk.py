"""Junk rows: test values and unreachable rows that must not enter a lead pool.

A row is junk when it gives no way to reach a real person: it has no possible phone number for the
region and either no usable email or a name that is not a name. A valid number is enough to keep a row
(a valid number with a junk name is not junk); a bad email beside a valid number is dropped, not fatal.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from publicsuffixlist import PublicSuffixList

from leadops.normalizing import NormalizationError, normalize_email


class Rule:
    """The names of the junk rules, as the import report shows them."""

    NAME_NO_LETTERS = "name_no_letters"
    NAME_TEST_VALUE = "name_test_value"
    NO_POSSIBLE_NUMBER = "no_possible_number"
    NO_USABLE_EMAIL = "no_usable_email"
    EMAIL_LOCAL_PART = "email_local_part"
    EMAIL_DOMAIN = "email_domain_cannot_exist"


DESCRIPTIONS = {
    Rule.NAME_NO_LETTERS: "the name has no letters",
    Rule.NAME_TEST_VALUE: "the name is a test value",
    Rule.NO_POSSIBLE_NUMBER: "no phone number is possible for the region",
    Rule.NO_USABLE_EMAIL: "there is no usable email address",
    Rule.EMAIL_LOCAL_PART: "the email address has no letter or digit before the @",
    Rule.EMAIL_DOMAIN: "the email address's domain cannot exist",
}

# Whole names (after lower-casing and squeezing spaces) that people type when testing a form.
_TEST_NAMES = frozenset(
    {
        "test",
        "testing",
        "tester",
        "test test",
        "test user",
        "test lead",
        "test name",
        "testing testing",
        "asdf",
        "asdf asdf",
        "asdfgh",
        "qwerty",
        "qwe",
        "xxx",
        "xx",
        "x",
        "aaa",
        "abc",
        "abc abc",
        "foo",
        "foo bar",
        "foobar",
        "lorem ipsum",
        "dummy",
        "dummy dummy",
        "sample",
        "fake",
        "fake name",
        "no name",
        "noname",
        "unknown",
        "n/a",
        "na",
        "none",
        "null",
        "nil",
        "blah",
        "blah blah",
        "sdf",
        "jkl",
        "zzz",
    }
)
_KEYBOARD_MASH = re.compile(r"^(?:asdf|qwer|zxcv|hjkl|jkl;|sdfg)\w*$")


def _has_letter(text: str) -> bool:
    return any(unicodedata.category(ch).startswith("L") for ch in text)


def name_problem(name: str) -> str | None:
    """Return the junk rule ``name`` breaks, or None for a plausible name (``O'Brien``, ``José Núñez``)."""
    if not _has_letter(name):
        return Rule.NAME_NO_LETTERS
    squeezed = " ".join(re.sub(r"[^\w\s/']", " ", name.casefold()).split())
    words = squeezed.split()
    if squeezed in _TEST_NAMES or (words and all(w in _TEST_NAMES or w.startswith("test") for w in words)):
        return Rule.NAME_TEST_VALUE
    if words and all(_KEYBOARD_MASH.match(w) for w in words):
        return Rule.NAME_TEST_VALUE
    return None


@lru_cache(maxsize=1)
def _suffixes() -> PublicSuffixList:
    return PublicSuffixList(accept_unknown=False)


@lru_cache(maxsize=65_536)
def _domain_can_exist(domain: str) -> bool:
    """Return whether ``domain`` (normalised) sits under a known public suffix, below it."""
    suffix = _suffixes().publicsuffix(domain)
    return suffix is not None and suffix != domain


def email_problem(raw: str) -> tuple[str | None, str]:
    """Return ``(rule broken or None, normalised address or '')`` for one email address."""
    local = raw.strip().rpartition("@")[0]
    if not any(ch.isalnum() for ch in local):
        return Rule.EMAIL_LOCAL_PART, ""
    try:
        email = normalize_email(raw)
    except NormalizationError:
        return Rule.EMAIL_DOMAIN, ""
    if not _domain_can_exist(email.rpartition("@")[2]):
        return Rule.EMAIL_DOMAIN, ""
    return None, email


@dataclass(frozen=True)
class Verdict:
    """What the junk rules say of one row: the rules it broke, and whether that makes it junk."""

    problems: tuple[str, ...]
    is_junk: bool

    def describe(self) -> str:
        return "; ".join(DESCRIPTIONS[p] for p in self.problems)


def judge(*, name: str, valid_phones: int, emails: list[str]) -> tuple[Verdict, list[str]]:
    """Return the row's verdict and its usable, normalised emails; ``valid_phones`` counts its good numbers."""
    problems: list[str] = []
    usable: list[str] = []
    for raw in emails:
        problem, email = email_problem(raw)
        if problem:
            problems.append(problem)
        else:
            usable.append(email)
    name_rule = name_problem(name)
    if name_rule:
        problems.append(name_rule)
    if not valid_phones:
        problems.append(Rule.NO_POSSIBLE_NUMBER)
        if not usable:
            problems.append(Rule.NO_USABLE_EMAIL)
    is_junk = not valid_phones and (not usable or name_rule is not None)
    return Verdict(problems=tuple(dict.fromkeys(problems)), is_junk=is_junk), usable
