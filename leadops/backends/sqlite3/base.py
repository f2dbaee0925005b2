"""Django's SQLite backend, with the parameter limit the SQLite library in use really has.

Django 5.2 assumes SQLite's old compile-time default of 999 parameters per statement, so ``bulk_create``
split each 5,000-row batch of a lead import into an ``INSERT`` per 70 or so rows: on the embedded backend
the import's statements grew with its rows (112 for 2,000 rows against 48 on PostgreSQL). The limit is
the library's (32,766 since SQLite 3.32, 250,000 in Debian's builds) and can be read from the connection,
as Django 6.0 does (ticket #36143); with it, a batch is one ``INSERT`` per table again.
"""

from __future__ import annotations

import sqlite3

from django.db.backends.sqlite3 import base, features
from django.utils.functional import cached_property


class DatabaseFeatures(features.DatabaseFeatures):
    @cached_property
    def max_query_params(self) -> int:
        self.connection.ensure_connection()
        return self.connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)


class DatabaseWrapper(base.DatabaseWrapper):
    features_class = DatabaseFeatures
