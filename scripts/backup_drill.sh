#!/usr/bin/env bash
# Backup drill: proves on this machine that a backup restores to the same data.
#
#  1. a scratch PostgreSQL database: migrate, load_portal_data, then edits that leave history
#     (a changed record by a named user, a link added and removed, a deleted record);
#  2. make backup: the pg_dump .dump and the portable .json;
#  3. the .dump into a second scratch database (pg_restore);
#  4. the .json into a third scratch database, and into a fresh SQLite file;
#  5. back again: make backup of that SQLite file, its .json into a fourth scratch database;
#  6. compares every table's row count and checksum with the source: in SQL over every table
#     for pg_restore, through the ORM (engine-independent) for the JSON restores;
#  7. in every restored database: the Chinese name 复旦大学上海医学院 reads back intact, and new
#     rows (a source, a milestone citing it, their history) get fresh ids.
#
# Prints the results and exits non-zero on any difference. The scratch databases and files are
# removed at the end, whatever happens. Needs PostgreSQL at PG_HOST:PG_PORT (127.0.0.1:5432) with
# a PG_USER (postgres) allowed to create databases.
# Usage: make backup-drill   (or scripts/backup_drill.sh)
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PY:-.venv/bin/python}
export SECRET_KEY="${SECRET_KEY:-backup-drill-only}"
export YES=1
unset READ_DATABASE_URL
PG_HOST=${PG_HOST:-127.0.0.1}
PG_PORT=${PG_PORT:-5432}
PG_USER=${PG_USER:-postgres}

run=$$
SOURCE_DB=xuhui_drill_source_$run
PGRESTORE_DB=xuhui_drill_pgrestore_$run
JSON_DB=xuhui_drill_json_$run
BACK_DB=xuhui_drill_from_sqlite_$run
WORK=$(mktemp -d -t xuhui-backup-drill.XXXXXX)
SQLITE_FILE="$WORK/restored.sqlite3"

pg() { echo "postgres://$PG_USER@$PG_HOST:$PG_PORT/$1"; }
SQLITE_URL="sqlite:///$SQLITE_FILE"

cleanup() {
    local db
    for db in "$SOURCE_DB" "$PGRESTORE_DB" "$JSON_DB" "$BACK_DB"; do
        dropdb -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" --if-exists "$db" >/dev/null 2>&1 || true
    done
    rm -rf "$WORK"
}
trap cleanup EXIT

step() { printf '\n== %s\n' "$*"; }
manage() { local url=$1; shift; DATABASE_URL="$url" "$PY" manage.py "$@"; }
backup_tool() { local url=$1; shift; DATABASE_URL="$url" "$PY" -m xuhui_portal.backup "$@"; }

for db in "$SOURCE_DB" "$PGRESTORE_DB" "$JSON_DB" "$BACK_DB"; do
    createdb -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" "$db"
done

step "1. source database $SOURCE_DB: migrate, load_portal_data, edits with history"
manage "$(pg "$SOURCE_DB")" migrate --noinput -v0
manage "$(pg "$SOURCE_DB")" load_portal_data
DATABASE_URL="$(pg "$SOURCE_DB")" "$PY" - <<'EOF'
import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xuhui_portal.settings")
django.setup()

from django.contrib.auth.models import Group, User

from districts.models import InnovationDistrict, Institution, Milestone
from incubators.models import Incubator

editor = User.objects.create_user("drill-editor", first_name="演练", last_name="编辑", is_staff=True)
editor.groups.add(Group.objects.order_by("pk").first())

institution = Institution.objects.get(name_zh="复旦大学上海医学院")
institution.description_zh += "（备份演练：编辑修改）"
institution._history_user = editor
institution.save()

incubator = Incubator.objects.order_by("pk").first()
incubator.operator_accounts.add(editor)

district = InnovationDistrict.objects.order_by("pk").first()
field = district.focus_fields.order_by("pk").first()
district.focus_fields.remove(field)
district.focus_fields.add(field)

milestones = list(Milestone.objects.order_by("pk"))
milestones[len(milestones) // 2].delete()  # a gap in the ids, and a deletion in the history

print(
    f"edited {institution.name_zh} as {editor.username}, linked {incubator.name_zh} to the user, "
    f"re-linked a field of {district.name_zh}, deleted a milestone; "
    f"{Institution.history.filter(id=institution.pk).count()} history entries for the institution"
)
EOF
backup_tool "$(pg "$SOURCE_DB")" sql-checksums >"$WORK/source.sql.json"
backup_tool "$(pg "$SOURCE_DB")" fingerprint >"$WORK/source.orm.json"

step "2. make backup of $SOURCE_DB"
DATABASE_URL="$(pg "$SOURCE_DB")" BACKUP_DIR="$WORK/backups" make --no-print-directory -s backup
DUMP=$(ls "$WORK"/backups/portal-*.dump)
JSON=$(ls "$WORK"/backups/portal-*.json)

step "3. pg_restore into $PGRESTORE_DB"
DATABASE_URL="$(pg "$PGRESTORE_DB")" make --no-print-directory -s restore FILE="$DUMP"

step "4a. JSON into PostgreSQL $JSON_DB"
DATABASE_URL="$(pg "$JSON_DB")" make --no-print-directory -s restore FILE="$JSON"

step "4b. JSON into a fresh SQLite file"
DATABASE_URL="$SQLITE_URL" make --no-print-directory -s restore FILE="$JSON"

step "5. and back: make backup of the SQLite file, its JSON into PostgreSQL $BACK_DB"
DATABASE_URL="$SQLITE_URL" BACKUP_DIR="$WORK/from-sqlite" make --no-print-directory -s backup
DATABASE_URL="$(pg "$BACK_DB")" make --no-print-directory -s restore FILE="$(ls "$WORK"/from-sqlite/portal-*.json)"

step "6. checksums"
backup_tool "$(pg "$PGRESTORE_DB")" sql-checksums >"$WORK/pgrestore.sql.json"
backup_tool "$(pg "$PGRESTORE_DB")" fingerprint >"$WORK/pgrestore.orm.json"
backup_tool "$(pg "$JSON_DB")" fingerprint >"$WORK/json-pg.orm.json"
backup_tool "$SQLITE_URL" fingerprint >"$WORK/json-sqlite.orm.json"
backup_tool "$(pg "$BACK_DB")" fingerprint >"$WORK/sqlite-pg.orm.json"

failed=0
echo
echo "Every table of the database, in SQL (row text in primary-key order): source vs pg_restore"
echo
"$PY" -m xuhui_portal.backup compare "$WORK/source.sql.json" "pg_restore=$WORK/pgrestore.sql.json" || failed=1
echo
echo "The portable dump's tables, through the ORM (engine-independent values): source vs each restore"
echo
"$PY" -m xuhui_portal.backup compare "$WORK/source.orm.json" \
    "pg_restore=$WORK/pgrestore.orm.json" \
    "json→pg=$WORK/json-pg.orm.json" \
    "json→sqlite=$WORK/json-sqlite.orm.json" \
    "sqlite→pg=$WORK/sqlite-pg.orm.json" || failed=1

step "7. after the restore: Chinese text and the next insert"
printf '\n%-12s  %-24s  %s\n' "restore" "Chinese name intact" "next insert"
printf '%-12s  %-24s  %s\n' "------------" "------------------------" "-----------"
smoke() {
    local name=$1 url=$2 result
    if ! result=$(backup_tool "$url" smoke); then failed=1; fi
    echo "$result" | "$PY" -c '
import json, sys
text = sys.stdin.read().strip()
checks = json.loads(text) if text else {}
chinese, insert = ("ok" if checks.get(key) else "FAILED" for key in ("chinese", "insert"))
print(f"{sys.argv[1]:<12}  {chinese:<24}  {insert}")' "$name"
}
smoke "pg_restore" "$(pg "$PGRESTORE_DB")"
smoke "json→pg" "$(pg "$JSON_DB")"
smoke "json→sqlite" "$SQLITE_URL"
smoke "sqlite→pg" "$(pg "$BACK_DB")"

echo
if [ "$failed" -ne 0 ]; then
    echo "BACKUP DRILL FAILED: a restore differs from its source (see above)."
    exit 1
fi
echo "Backup drill passed: every restore is identical to its source, Chinese intact, inserts work."
