"""A throwaway test database for a bench run: real data is never touched.

On PostgreSQL it is `test_<name>` on the server of DATABASE_URL; on SQLite a
file on disk (as in production), not SQLite's in-memory test database.
"""

import tempfile
from contextlib import contextmanager
from pathlib import Path

from django.db import connection


@contextmanager
def throwaway_database():
    tmp = None
    if connection.vendor == "sqlite":
        tmp = tempfile.TemporaryDirectory()
        connection.settings_dict["TEST"]["NAME"] = str(Path(tmp.name) / "bench.sqlite3")
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        yield
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        if tmp:
            tmp.cleanup()
