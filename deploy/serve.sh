#!/usr/bin/env bash
# Production start: compile translations, collect static files, migrate, then gunicorn.
# Reads the same environment as the portal (README, "Configuration"); DATABASE_URL should name
# PostgreSQL. `kill -HUP <master pid>` reloads the workers gracefully without dropping requests.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}

: "${SECRET_KEY:?SECRET_KEY must be set (see README, Configuration)}"
case "${DATABASE_URL:-}" in
    postgres*) ;;
    *) echo "warning: DATABASE_URL does not name PostgreSQL; serving from ${DATABASE_URL:-the SQLite file}" >&2 ;;
esac

"$PY" manage.py compile_catalogues -v 0
"$PY" manage.py collectstatic --noinput -v 0
"$PY" manage.py migrate --noinput -v 0
"$PY" manage.py check --deploy --fail-level ERROR
exec "$(dirname "$PY")/gunicorn" xuhui_portal.wsgi --config deploy/gunicorn.conf.py
