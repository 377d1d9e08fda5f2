"""pg_dump and pg_restore, run with the connection settings of Django's DATABASES.

The programs come from the PostgreSQL client package (Debian: postgresql-client)
and are looked up on PATH. The password goes through the PGPASSWORD environment
variable, never the command line.
"""

import os
import shutil
import subprocess

from django.core.management.base import CommandError
from django.utils.translation import gettext as _

# DATABASES["OPTIONS"] keys that libpq also reads from the environment.
OPTION_VARIABLES = {
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "passfile": "PGPASSFILE",
    "service": "PGSERVICE",
}


def program(name):
    """The full path of pg_dump or pg_restore, or a clear error."""
    path = shutil.which(name)
    if path is None:
        raise CommandError(_(
            "%(program)s was not found. Install the PostgreSQL client programs "
            "(on Debian: apt-get install postgresql-client), or use a portable backup (backup --portable)."
        ) % {"program": name})
    return path


def environment(settings_dict):
    """The process environment with libpq's variables set from one DATABASES entry."""
    env = dict(os.environ)
    for key, variable in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER"),
                          ("PASSWORD", "PGPASSWORD"), ("NAME", "PGDATABASE")):
        if settings_dict.get(key):
            env[variable] = str(settings_dict[key])
    for option, variable in OPTION_VARIABLES.items():
        if settings_dict.get("OPTIONS", {}).get(option):
            env[variable] = str(settings_dict["OPTIONS"][option])
    return env


def _run(name, arguments, settings_dict):
    command = [program(name), *arguments]
    result = subprocess.run(command, env=environment(settings_dict), capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise CommandError(_("%(program)s failed: %(error)s") % {
            "program": name, "error": (result.stderr or result.stdout).strip()})
    return result


def dump(path, settings_dict, snapshot=None):
    """Write the whole database in pg_dump's custom format to `path`.

    Uncompressed inside (`--compress=0`): the .tar.gz around it compresses it
    once. With `snapshot` (from pg_export_snapshot()), the dump sees exactly
    what that still-open transaction sees.
    """
    arguments = ["--format=custom", "--compress=0", "--no-password", f"--file={path}"]
    if snapshot:
        arguments.append(f"--snapshot={snapshot}")
    _run("pg_dump", [*arguments, f"--dbname={settings_dict['NAME']}"], settings_dict)


def check(path):
    """Read the dump's table of contents (no database needed): is it a whole, readable pg_dump archive?"""
    _run("pg_restore", ["--list", str(path)], {})


def restore(path, settings_dict):
    """Load a custom-format dump into the database, all or nothing.

    The objects belong to the user Django connects as (--no-owner,
    --no-privileges), whatever user owned them where the dump was made.
    """
    _run("pg_restore", [
        "--single-transaction", "--exit-on-error", "--no-owner", "--no-privileges", "--no-password",
        f"--dbname={settings_dict['NAME']}", str(path),
    ], settings_dict)


def version(name):
    """The first line of `name --version`, e.g. "pg_dump (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)"."""
    result = subprocess.run([program(name), "--version"], capture_output=True, text=True, check=False)
    return result.stdout.strip()
