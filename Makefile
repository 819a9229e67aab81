# The two commands that matter: `make run` (set up and serve) and `make test` (the whole suite).
# PYTHON=/path/to/python3.12 overrides the interpreter that creates .venv.

VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEV_ENV := DEBUG=true

.PHONY: run serve install test lint format messages clean-db fault-drill scale-out-demo bench bench-instructions

$(PY):
	@interp="$(PYTHON)"; \
	if [ -z "$$interp" ]; then interp=$$(sh scripts/find-python.sh) || exit 1; fi; \
	echo "Creating $(VENV) with $$interp"; \
	"$$interp" -m venv $(VENV)

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	@touch $(STAMP)

install: $(STAMP)

run: install
	$(DEV_ENV) $(PY) manage.py migrate --noinput
	$(DEV_ENV) $(PY) manage.py load_portal_data
	@echo ""
	@echo "Admin: create a user with  $(DEV_ENV) $(PY) manage.py createsuperuser  then open http://127.0.0.1:8000/admin/"
	@echo ""
	$(DEV_ENV) $(PY) manage.py runserver 127.0.0.1:8000

# Production: gunicorn + whitenoise against DATABASE_URL (PostgreSQL); see README "Deploying".
serve: install
	PY=$(PY) deploy/serve.sh

# Break PostgreSQL, Redis and gunicorn on purpose and check the portal copes (stops local services!).
fault-drill: install
	$(PY) deploy/fault_drill.py

# Two app servers, one PostgreSQL, one Redis: an edit through one is seen through the other.
scale-out-demo: install
	$(PY) deploy/scale_out_demo.py

# Benchmark at 100k projects on PostgreSQL with wrk and Datasette for comparison (bench/run.py).
bench: install
	$(PY) bench/run.py

# The same pages' CPU instructions per request under callgrind: stable on a busy machine.
bench-instructions: install
	$(PY) bench/instructions.py

# The suite runs with DEBUG off, as in production; it needs a SECRET_KEY, any value will do.
test: install
	SECRET_KEY=$${SECRET_KEY:-insecure-test-only-key} $(PY) -m pytest $(PYTEST_ARGS)

lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: install
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

# Regenerates the catalogue from the sources (needs GNU gettext) and compiles it with polib,
# so the committed .mo files never depend on msgfmt being installed.
messages: install
	$(DEV_ENV) $(PY) manage.py makemessages --locale zh_Hans --no-obsolete --add-location file --ignore '.venv/*' --ignore 'tests/*'
	$(DEV_ENV) $(PY) manage.py compile_catalogues

clean-db:
	rm -f db.sqlite3

# --- backups (see README "Backups") ---
.PHONY: backup restore backup-drill
# DATABASE_URL picks the database (db.sqlite3 when unset), BACKUP_DIR the folder (backups/).
backup: install
	SECRET_KEY=$${SECRET_KEY:-backup-only} PY=$(PY) bash scripts/backup.sh

# make restore FILE=backups/portal-<stamp>.dump|.json|.sqlite3  (YES=1 skips the question)
restore: install
	SECRET_KEY=$${SECRET_KEY:-backup-only} PY=$(PY) bash scripts/restore.sh "$(FILE)"

# Scratch databases on PostgreSQL at 127.0.0.1:5432 (PG_HOST, PG_PORT, PG_USER), dropped afterwards.
backup-drill: install
	SECRET_KEY=$${SECRET_KEY:-backup-only} PY=$(PY) bash scripts/backup_drill.sh
