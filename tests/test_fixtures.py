"""The starting data: loaded from fixtures/, idempotent, all-or-nothing, and true to FACTS.md."""

import json
import shutil
from decimal import Decimal

import opencc
import pytest
from django.core.management import CommandError, call_command

from districts.models import (
    Indicator,
    InnovationDistrict,
    Institution,
    InstitutionAlias,
    Milestone,
    Source,
    TechField,
)
from incubators.models import Incubator
from transfers.models import PlatformPartnership, TransferPlatform, TransferProject
from transfers.project_index import get_index
from xuhui_portal.management.commands.load_portal_data import fixture_labels

EXPECTED_COUNTS = {
    Source: 4,
    TechField: 17,
    InnovationDistrict: 6,
    Institution: 35,
    InstitutionAlias: 32,
    Incubator: 4,
    TransferPlatform: 7,
    PlatformPartnership: 19,
    TransferProject: 1,
    Indicator: 40,
    Milestone: 7,
}
DIRECTORY_MODELS = [
    InnovationDistrict,
    Institution,
    Incubator,
    TransferPlatform,
    TransferProject,
    Indicator,
    Milestone,
]


@pytest.fixture
def portal_data(db):
    call_command("load_portal_data", verbosity=0)


def counts():
    return {model: model.objects.count() for model in EXPECTED_COUNTS}


def test_every_fixture_file_is_loaded():
    assert fixture_labels() == [
        "01_sources",
        "02_fields",
        "03_districts",
        "04_incubators",
        "05_platforms",
        "06_projects",
        "07_indicators",
        "08_milestones",
    ]


def test_counts_per_model(portal_data):
    assert counts() == EXPECTED_COUNTS


def test_loading_twice_adds_no_duplicates(portal_data):
    call_command("load_portal_data", verbosity=0)
    assert counts() == EXPECTED_COUNTS


def test_a_load_changes_the_content_version_once_and_the_index_follows(portal_data, count_version_bumps):
    index = get_index()
    bumps = count_version_bumps()
    TransferProject.objects.update(name_zh="改过的名称")  # a raw update: no signal, no version
    call_command("load_portal_data", verbosity=0)
    assert bumps == [None]  # once for the whole load, not per record, and a full rebuild
    rebuilt = get_index()
    assert rebuilt.version != index.version
    assert rebuilt.ids.tolist() == list(TransferProject.objects.published().values_list("pk", flat=True))


def test_every_directory_record_cites_a_source_and_is_published(portal_data):
    for model in DIRECTORY_MODELS:
        assert not model.objects.filter(sources=None).exists(), model
        assert model.objects.published().count() == model.objects.count(), model


def test_names_are_simplified_chinese(portal_data):
    to_simplified = opencc.OpenCC("t2s").convert
    for model in [Institution, InnovationDistrict, Incubator, TransferPlatform, TransferProject, TechField]:
        for name in model.objects.values_list("name_zh", flat=True):
            assert to_simplified(name) == name, name


def test_six_districts_in_order(portal_data):
    assert list(InnovationDistrict.objects.values_list("short_name_zh", flat=True)) == [
        "西岸",
        "环交大",
        "枫林",
        "环华理",
        "漕河泾",
        "视听器械",
    ]
    fenglin = InnovationDistrict.objects.get(slug="fenglin")
    assert fenglin.name_zh == "枫林生命健康科创街区"
    assert set(fenglin.anchor_institutions.values_list("name_zh", flat=True)) == {
        "复旦大学上海医学院",
        "复旦大学附属中山医院",
    }


def test_platform_hosted_by_ecust(portal_data):
    platform = TransferPlatform.objects.get(host_institutions__name_zh="华东理工大学")
    assert platform.name_zh == "华理生物制造与反应器创新转化中心"
    assert platform.kind == TransferPlatform.Kind.CENTRE
    assert platform.parent.name_zh == "徐汇区TTO“1+N”平台"


def test_tto_hub_has_five_centres_and_its_partners(portal_data):
    hub = TransferPlatform.objects.get(kind=TransferPlatform.Kind.HUB)
    assert hub.established_year == 2020
    assert hub.centres.count() == 5
    roles = {p.institution.name_zh: p.role for p in hub.partnerships.select_related("institution")}
    assert roles["上海市疾病预防控制中心"] == PlatformPartnership.Role.HOSPITAL
    assert roles["阿斯利康"] == PlatformPartnership.Role.PHARMA
    assert roles["太平洋保险"] == PlatformPartnership.Role.FINANCE


def test_transfer_amount_is_nearly_5_2_yi_with_its_period(portal_data):
    amount = Indicator.objects.get(slug="tto-transfer-amount")
    assert amount.value == Decimal("52000")
    assert amount.unit == Indicator.Unit.WAN_YUAN
    assert amount.qualifier == Indicator.Qualifier.NEARLY
    assert amount.period_zh == "平台成立第一年（截至2021年12月）"
    assert list(amount.sources.values_list("key", flat=True)) == ["S1"]


def test_magnetic_wave_knife_project_keeps_unknowns_unknown(portal_data):
    project = TransferProject.objects.get(name_zh__contains="磁波刀")
    assert project.team_lead == "陈亚珠"
    assert project.stage == TransferProject.Stage.TRANSFERRED
    assert project.owner_institution is None
    assert project.transfer_amount_wan is None
    assert project.year is None


def test_incubators_without_a_stated_district_stay_unknown(portal_data):
    assert Incubator.objects.filter(district=None).count() == 3
    assert Incubator.objects.get(name_zh="模速空间").district.slug == "west-bund"


def test_aliases_name_their_institutions(portal_data):
    expected = {
        "复旦上医": "复旦大学上海医学院",
        "有机所": "中国科学院上海有机化学研究所",
        "市疾控": "上海市疾病预防控制中心",
        "SJTU": "上海交通大学",
        "上海核工程设计研究院有限公司": "上海核工程研究设计院有限公司",
    }
    for alias, name in expected.items():
        assert InstitutionAlias.objects.get(name=alias).institution.name_zh == name


def test_sjtu_medicine_is_part_of_sjtu(portal_data):
    assert Institution.objects.get(name_zh="上海交通大学医学院").parent.name_zh == "上海交通大学"


@pytest.mark.parametrize(
    ("fixture", "field", "bad_value"),
    [
        ("04_incubators", "floor_area_m2", -100),
        ("04_incubators", "status", "bogus"),
        ("06_projects", "year", 1800),
        ("07_indicators", "value", "-1"),
    ],
)
def test_a_bad_value_aborts_the_whole_load(db, settings, tmp_path, fixture, field, bad_value):
    for directory in settings.FIXTURE_DIRS:
        shutil.copytree(directory, tmp_path, dirs_exist_ok=True)
    path = tmp_path / f"{fixture}.json"
    records = json.loads(path.read_text(encoding="utf-8"))
    records[-1]["fields"][field] = bad_value
    path.write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
    settings.FIXTURE_DIRS = [tmp_path]

    with pytest.raises(CommandError, match="Nothing was loaded"):
        call_command("load_portal_data", verbosity=0)

    assert all(count == 0 for count in counts().values())
