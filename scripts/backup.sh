#!/usr/bin/env bash
# Backs up the portal's database (DATABASE_URL; the project's db.sqlite3 when unset) into
# BACKUP_DIR (default backups/), all files named portal-<YYYYmmdd-HHMMSS>.*:
#   PostgreSQL: .dump  pg_dump custom format, the whole database (restore with pg_restore)
#               .json  portable dump (manage.py dump_portable), loads into PostgreSQL or SQLite
#   SQLite:     .json  the same portable dump
#               .sqlite3  a consistent copy of the database file (SQLite's online backup)
# Usage: make backup   (or scripts/backup.sh). See README "Backups".
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PY:-.venv/bin/python}
export SECRET_KEY="${SECRET_KEY:-backup-only}"
BACKUP_DIR=${BACKUP_DIR:-backups}

# The files hold password hashes and unpublished drafts: readable by their owner only.
umask 077
mkdir -p "$BACKUP_DIR"

# Connection details exactly as Django reads them from DATABASE_URL.
db_settings=$("$PY" -m xuhui_portal.backup db-env)
eval "$db_settings"

stamp=$(date +%Y%m%d-%H%M%S)
while compgen -G "$BACKUP_DIR/portal-$stamp.*" >/dev/null; do
    sleep 1
    stamp=$(date +%Y%m%d-%H%M%S)
done
base="$BACKUP_DIR/portal-$stamp"
written=()

partial=""
cleanup_partial() { if [ -n "$partial" ]; then rm -f "$partial"; fi; }
trap cleanup_partial EXIT

size() { printf "%d bytes" "$(wc -c <"$1")"; }

case "$DB_VENDOR" in
postgresql)
    if [ -n "${PGPASSWORD:-}" ]; then export PGPASSWORD; fi
    if [ -n "${PGSSLMODE:-}" ]; then export PGSSLMODE; fi
    args=(--format=custom --no-owner)
    [ -n "$DB_HOST" ] && args+=(--host="$DB_HOST")
    [ -n "$DB_PORT" ] && args+=(--port="$DB_PORT")
    [ -n "$DB_USER" ] && args+=(--username="$DB_USER")
    echo "pg_dump of database $DB_NAME${DB_HOST:+ on $DB_HOST${DB_PORT:+:$DB_PORT}}"
    partial="$base.dump.partial"
    pg_dump "${args[@]}" --file="$partial" --dbname="$DB_NAME"
    mv "$partial" "$base.dump"
    partial=""
    written+=("$base.dump")
    ;;
sqlite)
    [ -f "$DB_NAME" ] || { echo "backup: the SQLite database $DB_NAME does not exist" >&2; exit 1; }
    echo "copy of the SQLite database $DB_NAME"
    partial="$base.sqlite3.partial"
    "$PY" - "$DB_NAME" "$partial" <<'EOF'
import sqlite3, sys

source, target = sqlite3.connect(sys.argv[1]), sqlite3.connect(sys.argv[2])
with target:
    source.backup(target)  # consistent even while the site writes
source.close()
target.close()
EOF
    mv "$partial" "$base.sqlite3"
    partial=""
    written+=("$base.sqlite3")
    ;;
*)
    echo "backup: unsupported database engine $DB_VENDOR" >&2
    exit 1
    ;;
esac

echo "portable JSON dump"
"$PY" manage.py dump_portable "$base.json"
written+=("$base.json")

echo
echo "Backup written:"
for file in "${written[@]}"; do
    echo "  $file  ($(size "$file"))"
done
