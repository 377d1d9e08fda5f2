"""A stamp that changes whenever anything a status is judged from changes, for caching judged summaries.

Every statement that writes a table of the targets app (plans, sections, units, targets, entries, series,
plan points, reporting policies…), the memberships or the users (who sees what) is followed, in the same
transaction, by one row in `DataStamp`. The wrapper sits on every database connection, so all write paths
count — model saves, `update()`, bulk writes, imports, the admin, restores, raw SQL through Django — not
only those that remember to say so. Only SQL typed outside Django (psql) goes unseen.

`current()` is (sum of the weights, highest id), read in one query. It moves on every commit that wrote such
a table: the sum grows with each commit seen, and after a flush the ids (never reused) keep it from repeating.
A reader inside a transaction that has itself written such a table gets no stamp (`None`): what it reads is
not yet everyone's.

The table grows by a row per writing statement; `fold()` (beat runs it every hour, `fold-data-stamps`) replaces
the rows committed so far by one row of their summed weight. The sum stays, the highest id is new, so the stamp
moves once (each kept summary is computed once more) and can never come back to a value it had before the fold.
"""

import re

from django.db import connections, transaction
from django.db.backends.signals import connection_created

STAMP_TABLE = "targets_datastamp"
# The tables a status, a count or who sees them are read from.
WATCHED = re.compile(
    r'^\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE|DELETE\s+FROM|TRUNCATE(?:\s+TABLE)?)\s+(?:ONLY\s+)?"?'
    r'(targets_\w+|reminders_reportingpolicy|accounts_membership|auth_user)"?(?:\s|\(|$)',
    re.IGNORECASE,
)
WROTE = "_tracker_wrote_stamped"


def _stamp_ready(connection):
    """Whether the stamp table exists (only a positive answer is kept: during migrate it appears midway)."""
    if not getattr(connection, "_tracker_stamp_ready", False):
        with connection.cursor() as cursor:
            connection._tracker_stamp_ready = STAMP_TABLE in connection.introspection.table_names(cursor)
    return connection._tracker_stamp_ready


def watched_write(sql):
    match = WATCHED.match(sql)
    return bool(match) and match.group(1).lower() != STAMP_TABLE


# A migration creating or dropping the stamp table (migrating back and forth): look again before the next write.
SCHEMA = re.compile(rf'^\s*(?:CREATE|DROP|ALTER)\s+TABLE\s+(?:IF\s+(?:NOT\s+)?EXISTS\s+)?"?{STAMP_TABLE}"?\b',
                    re.IGNORECASE)


def _wrapper(connection):
    def stamp_writes(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if not isinstance(sql, str):
            return result
        if SCHEMA.match(sql):
            connection._tracker_stamp_ready = False
        elif watched_write(sql) and _stamp_ready(connection):
            # On a cursor of the driver's own: not a query of the page's (query counts), not wrapped again,
            # and the statement's cursor keeps its results (RETURNING, lastrowid) for the caller.
            cursor = connection.connection.cursor()
            try:
                cursor.execute(f"INSERT INTO {STAMP_TABLE} (weight) VALUES (1)")
            finally:
                cursor.close()
            if connection.in_atomic_block:
                setattr(connection, WROTE, True)
        return result

    return stamp_writes


def install(sender, connection, **kwargs):
    if not any(getattr(w, "tracker_stamp", False) for w in connection.execute_wrappers):
        wrapper = _wrapper(connection)
        wrapper.tracker_stamp = True
        connection.execute_wrappers.append(wrapper)


def connect():
    """Put the wrapper on every connection, including those already open (called from the app's ready())."""
    connection_created.connect(install, dispatch_uid="tracker.targets.stamps")
    for connection in connections.all(initialized_only=True):
        install(None, connection)


def current(using="default"):
    """(sum, highest id) of the stamp rows, or None when this transaction has written a watched table."""
    connection = connections[using]
    if connection.in_atomic_block:
        if getattr(connection, WROTE, False):
            return None
    else:
        setattr(connection, WROTE, False)  # any earlier transaction is over (committed or rolled back)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(SUM(weight), 0), COALESCE(MAX(id), 0) FROM {STAMP_TABLE}")
        total, highest = cursor.fetchone()
    return int(total), int(highest)


def fold(using="default"):
    """Fold the committed stamp rows into one row of their summed weight; returns how many rows went.

    `DELETE … RETURNING` sums exactly the rows it removed, so a row committed meanwhile is either folded with its
    weight or left as it is; two folds at once each fold what they deleted.
    """
    connection = connections[using]
    with transaction.atomic(using=using), connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {STAMP_TABLE}")
        if cursor.fetchone()[0] < 2:
            return 0
        cursor.execute(f"DELETE FROM {STAMP_TABLE} RETURNING weight")
        weights = [weight for (weight,) in cursor.fetchall()]
        if weights:
            cursor.execute(f"INSERT INTO {STAMP_TABLE} (weight) VALUES (%s)", [sum(weights)])
    return len(weights)
