"""Backups: the portable JSON dump restores the same rows, on SQLite and on PostgreSQL.

The pg_dump/pg_restore path and the SQLite ↔ PostgreSQL moves are proved by
`scripts/backup_drill.sh` (`make backup-drill`), which needs a PostgreSQL server; these tests run
the portable round trip inside the test database of whichever engine the suite uses.
"""

import json
import subprocess
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import CommandError, call_command

from districts.models import InnovationDistrict, Institution, Milestone, Source
from incubators.models import Incubator
from transfers.models import TransferProject
from transfers.project_index import get_index
from xuhui_portal.backup import CHINESE_PROBE, compare, fingerprint, smoke_test

# The load runs its own transaction and empties tables, as it does in production.
pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parent.parent


def differences(before: dict, after: dict) -> dict:
    return {table: verdict for table, verdict in compare(before, after).items() if verdict != "ok"}


@pytest.fixture
def portal():
    """The starting data, plus edits that leave history: a named editor, a link, a deletion."""
    call_command("load_portal_data", verbosity=0)
    editor = User.objects.create_user("backup-editor", first_name="备份", last_name="编辑", is_staff=True)
    editor.groups.add(Group.objects.order_by("pk").first())

    institution = Institution.objects.get(name_zh=CHINESE_PROBE)
    institution.description_zh += "（编辑修改）"
    institution._history_user = editor
    institution.save()

    Incubator.objects.order_by("pk").first().operator_accounts.add(editor)
    district = InnovationDistrict.objects.order_by("pk").first()
    field = district.focus_fields.order_by("pk").first()
    district.focus_fields.remove(field)
    district.focus_fields.add(field)
    milestones = list(Milestone.objects.order_by("pk"))
    milestones[len(milestones) // 2].delete()
    return institution


@pytest.fixture
def dumped(portal, tmp_path):
    path = tmp_path / "portal-test.json"
    call_command("dump_portable", str(path), verbosity=0)
    return path


def test_round_trip_restores_identical_rows(portal, dumped):
    before = fingerprint()
    assert before["districts.HistoricalInstitution"]["rows"] == Institution.objects.count() + 1
    assert before["districts.HistoricalMilestone"]["rows"] == Milestone.objects.count() + 2

    call_command("flush", interactive=False, verbosity=0)
    assert Institution.objects.count() == 0
    call_command("load_portable", str(dumped), verbosity=0)

    after = fingerprint()
    assert differences(before, after) == {}
    assert {table: entry["rows"] for table, entry in after.items()} == {
        table: entry["rows"] for table, entry in before.items()
    }


def test_round_trip_keeps_ids_history_and_chinese(portal, dumped):
    ids = set(Institution.objects.values_list("pk", flat=True))
    call_command("flush", interactive=False, verbosity=0)
    call_command("load_portable", str(dumped), verbosity=0)

    assert set(Institution.objects.values_list("pk", flat=True)) == ids
    restored = Institution.objects.get(pk=portal.pk)
    assert restored.name_zh == CHINESE_PROBE
    assert restored.description_zh.endswith("（编辑修改）")
    latest = restored.history.order_by("-history_id").first()
    assert latest.history_user.username == "backup-editor"
    assert latest.history_user.first_name == "备份"
    assert latest.prev_record is not None  # the history before the edit came back too
    assert Incubator.objects.filter(operator_accounts__username="backup-editor").exists()
    assert Milestone.history.filter(history_type="-").count() == 1


def test_next_insert_after_restore(portal, dumped):
    last = Source.objects.order_by("-pk").first().pk
    call_command("flush", interactive=False, verbosity=0)
    call_command("load_portable", str(dumped), verbosity=0)

    assert smoke_test() == {"chinese": True, "insert": True}
    source = Source.objects.create(
        key="S-NEW", publisher="徐汇区科委", published_on="2025-01-01", headline="新来源"
    )
    assert source.pk > last
    assert source.history.count() == 1
    restored = Institution.objects.get(pk=portal.pk)
    version = restored.version
    restored.save()  # the version check works on restored rows
    assert Institution.objects.get(pk=portal.pk).version == version + 1


def test_dump_is_readable_utf8_json(dumped):
    text = dumped.read_text(encoding="utf-8")
    assert CHINESE_PROBE in text
    assert "\\u" not in text  # Chinese written as is, not escaped
    records = json.loads(text)
    models = {record["model"] for record in records}
    assert {"auth.user", "auth.group", "districts.institution", "districts.historicalinstitution"} <= models
    assert not models & {"contenttypes.contenttype", "auth.permission", "sessions.session", "admin.logentry"}
    history = next(r for r in records if r["model"] == "districts.historicalinstitution")
    assert "." in history["fields"]["history_date"]  # microseconds kept (Django's encoder cuts them)
    assert all("pk" in record for record in records)  # ids are kept, users' and groups' too


def test_load_over_changed_data_replaces_it(portal, dumped):
    before = fingerprint()
    Source.objects.create(key="EXTRA", publisher="x", published_on="2025-01-01", headline="x")
    Institution.objects.filter(pk=portal.pk).update(name_zh="改名")
    User.objects.create_user("someone-else")

    call_command("load_portable", str(dumped), verbosity=0)

    assert differences(before, fingerprint()) == {}
    assert not User.objects.filter(username="someone-else").exists()


def test_load_changes_the_content_version_once_and_the_index_follows(portal, dumped, count_version_bumps):
    index = get_index()
    bumps = count_version_bumps()
    call_command("load_portable", str(dumped), verbosity=0)
    assert bumps == [None]  # the emptied tables and every record loaded: one full change
    rebuilt = get_index()
    assert rebuilt.version != index.version
    assert sorted(rebuilt.ids.tolist()) == sorted(
        TransferProject.objects.published().values_list("pk", flat=True)
    )


def test_failed_load_changes_nothing(portal, dumped, tmp_path):
    records = json.loads(dumped.read_text(encoding="utf-8"))
    duplicate = next(r for r in records if r["model"] == "districts.source")
    records.append({**duplicate, "pk": 9999})  # same unique key as an earlier source
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
    before = fingerprint()

    with pytest.raises(CommandError, match="Nothing was changed"):
        call_command("load_portable", str(broken), verbosity=0)
    assert differences(before, fingerprint()) == {}


def test_load_refuses_a_missing_file(tmp_path):
    with pytest.raises(CommandError, match="No such file"):
        call_command("load_portable", str(tmp_path / "nothing.json"))


@pytest.mark.parametrize(
    ("arguments", "message"),
    [([], "no FILE given"), (["backups/does-not-exist.dump"], "no such file")],
)
def test_restore_script_refuses_without_a_file(arguments, message):
    result = subprocess.run(
        ["bash", "scripts/restore.sh", *arguments],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "FILE": ""},
        check=False,
    )
    assert result.returncode == 2
    assert message in result.stderr
