"""Exports people open in a spreadsheet: never let a cell run as a formula (CSV injection)."""

from __future__ import annotations

# A spreadsheet treats a cell starting with any of these as a formula (or a DDE call): =, +, -, @, and a
# leading tab or carriage return that some of them strip before looking.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def escape_formula(value: object) -> object:
    """Return ``value`` with a leading apostrophe when a spreadsheet would read it as a formula.

    Numbers are left alone (``-5`` stays a number); only text is escaped.
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
