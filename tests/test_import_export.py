"""Bulk import and export in the admin: dry-run preview, all-or-nothing apply, names and aliases."""

import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from districts.models import Institution
from incubators.models import Incubator
from transfers.models import TransferProject
from xuhui_portal.models import PublicationState
from xuhui_portal.roles import EDITOR

from .admin_helpers import client_for, make_user
from .factories import make_district, make_field, make_incubator, make_institution, make_source

pytestmark = pytest.mark.django_db

INCUBATORS = "/admin/incubators/incubator/"
PROJECTS = "/admin/transfers/transferproject/"
CSV, XLSX = "0", "1"


@pytest.fixture
def references():
    make_source(key="S1")
    make_source(key="S2")
    make_district(name_zh="枫林生命健康科创街区", short_name_zh="枫林", slug="fenglin")
    make_field(name_zh="核能", slug="nuclear")
    make_field(name_zh="细胞治疗", slug="cell")
    make_institution(name_zh="复旦大学上海医学院", aliases=["复旦上医"])


@pytest.fixture
def reviewer():
    return make_user("reviewer", superuser=True)


def upload(client, url: str, content: bytes, name: str, file_format: str):
    return client.post(
        f"{url}import/",
        {"format": file_format, "resource": "0", "import_file": SimpleUploadedFile(name, content)},
    )


def confirm(client, url: str, preview):
    form = preview.context["confirm_form"]
    return client.post(f"{url}process_import/", {name: form[name].value() for name in form.fields})


GOOD_CSV = (
    "name_zh,name_en,slug,status,district,host_institution,focus_fields,sources,floor_area_m2,publication_state\n"
    "导入孵化器甲,Import A,,operating,枫林,复旦上医,核能；细胞治疗,S1,1200,published\n"
    "导入孵化器乙,Import B,,preparing,,,,S1、S2,,published\n"
)


def test_preview_shows_new_rows_and_writes_nothing(reviewer, references):
    client = client_for(reviewer)
    preview = upload(client, INCUBATORS, GOOD_CSV.encode(), "incubators.csv", CSV)
    assert preview.status_code == 200
    result = preview.context["result"]
    assert (result.totals["new"], result.totals["invalid"]) == (2, 0)
    assert not Incubator.objects.exists()


def test_confirmed_import_resolves_names_and_aliases(reviewer, references):
    client = client_for(reviewer)
    preview = upload(client, INCUBATORS, GOOD_CSV.encode(), "incubators.csv", CSV)
    assert confirm(client, INCUBATORS, preview).status_code == 302
    first = Incubator.objects.get(name_zh="导入孵化器甲")
    assert first.district.slug == "fenglin"
    assert first.host_institution.name_zh == "复旦大学上海医学院"
    assert sorted(first.focus_fields.values_list("name_zh", flat=True)) == ["核能", "细胞治疗"]
    assert first.slug == "import-a"
    assert first.floor_area_m2 == 1200
    assert list(
        Incubator.objects.get(name_zh="导入孵化器乙").sources.order_by("key").values_list("key", flat=True)
    ) == [
        "S1",
        "S2",
    ]
    assert first.history.first().history_user == reviewer


def test_one_bad_row_is_reported_per_row_and_the_database_is_unchanged(reviewer, references):
    existing = make_incubator(name_zh="已有孵化器", slug="existing", floor_area_m2=10)
    bad = GOOD_CSV + (
        "已有孵化器改,Existing,existing,operating,不存在的街区,,,S1,-5,published\n"
        "缺来源,No Source,,operating,,,,,,published\n"
    )
    client = client_for(reviewer)
    preview = upload(client, INCUBATORS, bad.encode(), "incubators.csv", CSV)
    result = preview.context["result"]
    assert result.totals["invalid"] == 2
    errors = {row.number: row.field_specific_errors for row in result.invalid_rows}
    assert set(errors[3]) == {"district", "floor_area_m2"}
    assert set(errors[4]) == {"sources"}
    assert preview.context.get("confirm_form") is None
    # Even a forced apply changes nothing: the import is one transaction.
    upload_again = upload(client, INCUBATORS, bad.encode(), "incubators.csv", CSV)
    assert upload_again.context.get("confirm_form") is None
    existing.refresh_from_db()
    assert (Incubator.objects.count(), existing.name_zh, existing.floor_area_m2) == (1, "已有孵化器", 10)


def test_xlsx_import_of_projects(reviewer, references):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(
        ["name_zh", "stage", "owner_institution", "tech_fields", "sources", "year", "transfer_amount_wan"]
    )
    sheet.append(["细胞治疗新技术", "transferred", "复旦上医", "细胞治疗", "S1", 2023, 350.5])
    buffer = io.BytesIO()
    workbook.save(buffer)
    client = client_for(reviewer)
    preview = upload(client, PROJECTS, buffer.getvalue(), "projects.xlsx", XLSX)
    assert preview.context["result"].totals["new"] == 1, preview.context["result"].invalid_rows
    confirm(client, PROJECTS, preview)
    project = TransferProject.objects.get(name_zh="细胞治疗新技术")
    assert project.owner_institution == Institution.objects.get(name_zh="复旦大学上海医学院")
    assert str(project.transfer_amount_wan) == "350.50"


def test_editors_import_drafts(references):
    client = client_for(make_user("editor", EDITOR))
    preview = upload(client, INCUBATORS, GOOD_CSV.encode(), "incubators.csv", CSV)
    confirm(client, INCUBATORS, preview)
    assert set(Incubator.objects.values_list("publication_state", flat=True)) == {PublicationState.DRAFT}


def test_export_of_the_filtered_changelist(reviewer, references):
    fenglin = make_district(slug="fenglin-2", short_name_zh="枫林二")
    make_incubator(name_zh="枫林里的", district=fenglin)
    make_incubator(name_zh="别处的")
    client = client_for(reviewer)
    url = f"{INCUBATORS}export/?district__id__exact={fenglin.pk}"
    form = client.get(url).context["form"]
    data = {name: "on" for name in form.fields if name.startswith("incubatorresource_")}
    response = client.post(url, {**data, "format": CSV, "resource": "0"})
    content = response.content.decode("utf-8")
    assert "枫林里的" in content and "别处的" not in content
    assert content.splitlines()[0].startswith("publication_state,sources,name_zh")
