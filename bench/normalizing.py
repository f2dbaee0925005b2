"""Benchmark normalising a million messy upload values: the phone fast path against plain phonenumbers.

Run from the project root: ``.venv/bin/python bench/normalizing.py [--rows N] [--baseline N]``.

The values are generated in memory: 90 % phone numbers in mixed writings (a few invalid or foreign), the
rest email addresses and domains, drawn with repeats from pools the size of a real customer list. Each
figure is measured in the same run against the same values, in CPU time of this process (so that other
work on the machine does not distort it); plain phonenumbers is measured on the first
``--baseline`` phone values because running it on all of them takes long enough to be the whole benchmark.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

# The project root must be importable before the project is imported.
from leadops.normalizing import (
    NormalizationError,
    PhoneNormalizer,
    ValueNormalizer,
    normalize_phone,
    normalize_phone_with_phonenumbers,
)

PHONE_WRITINGS = (
    "{a}{e}{l}",
    "{a}{e}{l}",  # the DNC registry's form, the most common one in suppression files
    "({a}) {e}-{l}",
    "{a}.{e}.{l}",
    "{a}-{e}-{l}",
    "+1 {a} {e} {l}",
    "+1{a}{e}{l}",
    "1{a}{e}{l}",
    "1-{a}-{e}-{l}",
    "{a}{e}{l} ext. {x}",
)
ODD_PHONES = ("+44 20 7946 0958", "+49 30 901820", "555-0143", "n/a", "(000) 000-0000", "+33 1 42 68 53 00")


def in_service_area_codes() -> list[str]:
    """Return the area codes phonenumbers accepts numbers in (with an exchange of 234)."""
    area_codes = []
    for area_code in range(200, 1000):
        try:
            normalize_phone_with_phonenumbers(f"{area_code}2345678", "US")
        except NormalizationError:
            continue
        area_codes.append(str(area_code))
    return area_codes


def generate(rows: int, *, seed: int = 20240601) -> list[str]:
    """Return ``rows`` messy values: 90 % phones in mixed writings, the rest emails and domains."""
    rng = random.Random(seed)
    area_codes = in_service_area_codes()
    # Pools smaller than the file so that values repeat, as they do across columns and lists; one number
    # in thirty has an area code that is not in service.
    numbers = [
        (
            rng.choice(area_codes) if rng.random() < 29 / 30 else f"{rng.randint(200, 999)}",
            f"{rng.randint(200, 999)}",
            f"{rng.randint(0, 9999):04d}",
        )
        for _ in range(rows * 6 // 10)
    ]
    companies = [f"company{index}" for index in range(rows // 20)]
    values: list[str] = []
    for _ in range(rows):
        roll = rng.random()
        if roll < 0.88:
            area, exchange, line = rng.choice(numbers)
            template = rng.choice(PHONE_WRITINGS)
            values.append(template.format(a=area, e=exchange, l=line, x=rng.randint(1, 999)))
        elif roll < 0.90:
            values.append(rng.choice(ODD_PHONES))
        elif roll < 0.95:
            company = rng.choice(companies)
            values.append(f"Person.{rng.randint(1, 50)}@{company.title()}.com")
        else:
            company = rng.choice(companies)
            values.append(rng.choice([f"{company}.com", f"https://www.{company}.io/", f"{company}.co.uk"]))
    return values


def timed(label: str, function: Callable[[str], object], values: Sequence[str]) -> float:
    """Return microseconds per value of ``function`` over ``values``, printing the line."""
    refused = 0
    started = time.process_time()
    for raw in values:
        try:
            function(raw)
        except NormalizationError:
            refused += 1
    elapsed = time.process_time() - started
    per_value = elapsed / len(values) * 1e6
    print(
        f"  {label:<52} {len(values):>9,} values {elapsed:7.2f} s {per_value:7.2f} µs/value "
        f"{len(values) / elapsed:>11,.0f} values/s  ({refused:,} refused)"
    )
    return per_value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--baseline", type=int, default=100_000)
    arguments = parser.parse_args()

    started = time.perf_counter()
    values = generate(arguments.rows)
    phones = [raw for raw in values if "@" not in raw and not any(c.isalpha() for c in raw.replace("ext", ""))]
    print(
        f"{len(values):,} values generated in {time.perf_counter() - started:.1f} s: {len(phones):,} phone-like, "
        f"{len(set(phones)):,} distinct phone writings ({1 - len(set(phones)) / len(phones):.0%} repeats)"
    )

    print("\nPhone numbers, region US")
    baseline = timed(
        "phonenumbers only (normalize_phone_with_phonenumbers)",
        lambda raw: normalize_phone_with_phonenumbers(raw, "US"),
        phones[: arguments.baseline],
    )
    cold = timed("fast path, range table cold (normalize_phone)", lambda raw: normalize_phone(raw, "US"), phones)
    warm = timed("fast path, range table warm (normalize_phone)", lambda raw: normalize_phone(raw, "US"), phones)
    odd = set(ODD_PHONES)
    timed(
        "  of which NANP writings only",
        lambda raw: normalize_phone(raw, "US"),
        [raw for raw in phones if raw not in odd],
    )
    normalizer = PhoneNormalizer(region="US", max_cached=len(phones))
    cached = timed("fast path + per-writing cache (PhoneNormalizer)", normalizer.normalize, phones)
    hit_rate = 1 - len(normalizer) / len(phones)
    all_hits = timed("same PhoneNormalizer again (every writing a hit)", normalizer.normalize, phones)
    print(
        f"  speed-up over phonenumbers: {baseline / cold:.0f}x cold, {baseline / warm:.0f}x warm, "
        f"{baseline / cached:.0f}x with the per-writing cache at a {hit_rate:.0%} hit rate, "
        f"{baseline / all_hits:.0f}x when every writing is a hit"
    )
    print(f"  plain phonenumbers on all {len(phones):,} phones would take about {baseline * len(phones) / 1e6:.0f} s")

    print("\nAll values, kind detected per value, broad domains refused")
    value_normalizer = ValueNormalizer(region="US")
    timed("ValueNormalizer.normalize (detect + normalise)", value_normalizer.normalize, values)


if __name__ == "__main__":
    main()
