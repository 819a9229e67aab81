#!/usr/bin/env bash
# Restores a backup written by scripts/backup.sh into the database DATABASE_URL names
# (the project's db.sqlite3 when unset). What was there is replaced.
#   FILE.dump     pg_restore --clean --if-exists --no-owner --single-transaction (PostgreSQL only):
#                 an exact copy of the backed-up database
#   FILE.json     manage.py migrate, then manage.py load_portable (SQLite or PostgreSQL, either way):
#                 empties the portal's tables and loads the file in one transaction
#   FILE.sqlite3  copies the file into the SQLite database (SQLite only; stop the site first)
# Usage: make restore FILE=backups/portal-….dump   (or scripts/restore.sh FILE)
# Asks before replacing when run from a terminal; YES=1 answers for you.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PY:-.venv/bin/python}
export SECRET_KEY="${SECRET_KEY:-backup-only}"
FILE=${1:-${FILE:-}}

usage="usage: make restore FILE=backups/portal-<stamp>.dump|.json|.sqlite3"
if [ -z "$FILE" ]; then
    echo "restore: no FILE given" >&2
    echo "$usage" >&2
    exit 2
fi
if [ ! -f "$FILE" ]; then
    echo "restore: no such file: $FILE" >&2
    exit 2
fi

db_settings=$("$PY" -m xuhui_portal.backup db-env)
eval "$db_settings"
target="$DB_VENDOR database $DB_NAME${DB_HOST:+ on $DB_HOST${DB_PORT:+:$DB_PORT}}"

case "$FILE" in
*.dump | *.json | *.sqlite3) ;;
*)
    echo "restore: $FILE is not a backup (expected .dump, .json or .sqlite3)" >&2
    exit 2
    ;;
esac

if [ -t 0 ] && [ "${YES:-}" != "1" ]; then
    read -r -p "Replace the data of the $target with $FILE? [y/N] " answer
    case "$answer" in
    y | Y | yes) ;;
    *) echo "Nothing was changed." && exit 1 ;;
    esac
fi

case "$FILE" in
*.dump)
    if [ "$DB_VENDOR" != postgresql ]; then
        echo "restore: $FILE is a PostgreSQL dump but DATABASE_URL points at $DB_VENDOR;" \
            "restore the portal-<stamp>.json of the same backup instead" >&2
        exit 2
    fi
    if [ -n "${PGPASSWORD:-}" ]; then export PGPASSWORD; fi
    if [ -n "${PGSSLMODE:-}" ]; then export PGSSLMODE; fi
    args=(--clean --if-exists --no-owner --single-transaction --exit-on-error)
    [ -n "$DB_HOST" ] && args+=(--host="$DB_HOST")
    [ -n "$DB_PORT" ] && args+=(--port="$DB_PORT")
    [ -n "$DB_USER" ] && args+=(--username="$DB_USER")
    echo "pg_restore $FILE into the $target"
    pg_restore "${args[@]}" --dbname="$DB_NAME" "$FILE"
    echo "Restored $FILE into the $target."
    echo "If this code is newer than the backup, run: manage.py migrate"
    ;;
*.json)
    echo "migrate, then load $FILE into the $target"
    "$PY" manage.py migrate --noinput -v0
    "$PY" manage.py load_portable "$FILE"
    ;;
*.sqlite3)
    if [ "$DB_VENDOR" != sqlite ]; then
        echo "restore: $FILE is a SQLite file but DATABASE_URL points at $DB_VENDOR;" \
            "restore the portal-<stamp>.json of the same backup instead" >&2
        exit 2
    fi
    echo "copy $FILE over the $target"
    "$PY" - "$FILE" "$DB_NAME" <<'EOF'
import sqlite3, sys

source, target = sqlite3.connect(sys.argv[1]), sqlite3.connect(sys.argv[2])
with target:
    source.backup(target)  # replaces every page of the target, in one step
source.close()
target.close()
EOF
    echo "Restored $FILE into the $target."
    ;;
esac

# Cached pages (shared through Redis when REDIS_URL is set) must not outlive the data they show.
# load_portable's writes already do this; a pg_restore or a file copy bypasses Django.
"$PY" - <<'EOF'
import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xuhui_portal.settings")
django.setup()
try:
    from xuhui_portal.page_cache import bump_generation
except ImportError:  # no page cache in this version of the portal
    pass
else:
    from django.conf import settings

    bump_generation()
    if "locmem" in settings.CACHES["default"]["BACKEND"]:
        print("A running site caches pages in its own memory: restart it to show the restored data.")
    else:
        print("Cached pages invalidated.")
EOF
