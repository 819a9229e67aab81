from datetime import date
from decimal import Decimal

import pytest
from django.conf import settings
from django.contrib import admin
from django.core import checks
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

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
from tests.factories import (
    make_district,
    make_field,
    make_incubator,
    make_institution,
    make_platform,
    make_project,
    make_source,
)
from transfers.admin import TransferProjectAdmin
from transfers.models import PlatformPartnership, TransferPlatform, TransferProject
from xuhui_portal.admin import NO_SOURCES_MESSAGE

pytestmark = pytest.mark.django_db


def _make_indicator():
    indicator = Indicator.objects.create(
        name_zh="测试科技奖励",
        name_en="Test awards",
        theme=Indicator.Theme.AWARDS,
        value=Decimal("281"),
        unit=Indicator.Unit.ITEM,
        period_zh="2024年",
        district=make_district(),
    )
    indicator.sources.set([make_source()])
    return indicator


def _make_milestone():
    milestone = Milestone.objects.create(
        title_zh="测试里程碑",
        occurred_on=date(2019, 3, 1),
        date_precision=Milestone.Precision.MONTH,
        district=make_district(),
    )
    milestone.sources.set([make_source()])
    return milestone


def _make_alias():
    return InstitutionAlias.objects.create(institution=make_institution(), name="测试别名")


def _make_partnership():
    return PlatformPartnership.objects.create(
        platform=make_platform(), institution=make_institution(), role=PlatformPartnership.Role.UNIVERSITY
    )


def _make_platform():
    hub = make_platform(kind=TransferPlatform.Kind.HUB)
    return make_platform(
        parent=hub,
        district=make_district(),
        hosts=[make_institution()],
        partners=[(make_institution(), PlatformPartnership.Role.HOSPITAL)],
    )


def _make_project():
    return make_project(
        fields_=[make_field()],
        owner_institution=make_institution(),
        platform=make_platform(),
        district=make_district(),
        team_lead="张测试",
    )


#: One row of every registered model, with its relations filled in so the change page shows them.
MAKERS = {
    Source: make_source,
    TechField: make_field,
    InnovationDistrict: lambda: make_district(),
    Institution: lambda: make_institution(aliases=("测试简称",), district=make_district()),
    InstitutionAlias: _make_alias,
    Indicator: _make_indicator,
    Milestone: _make_milestone,
    Incubator: lambda: make_incubator(
        focus_fields=[make_field()], district=make_district(), operator=make_institution()
    ),
    TransferPlatform: _make_platform,
    PlatformPartnership: _make_partnership,
    TransferProject: _make_project,
}

MODELS = pytest.mark.parametrize("model", MAKERS, ids=lambda model: model._meta.label)


def _url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def test_every_directory_model_is_registered():
    assert set(MAKERS) <= set(admin.site._registry)


def test_admin_passes_system_checks():
    assert checks.run_checks(tags=[checks.Tags.admin]) == []


@MODELS
def test_changelist_renders(admin_client, model):
    MAKERS[model]()

    response = admin_client.get(_url(model, "changelist"))

    assert response.status_code == 200
    assert response.context["cl"].result_count == model.objects.count()


@MODELS
def test_changelist_search_renders(admin_client, model):
    MAKERS[model]()

    response = admin_client.get(_url(model, "changelist"), {"q": "测试"})

    assert response.status_code == 200


@MODELS
def test_add_page_renders(admin_client, model):
    response = admin_client.get(_url(model, "add"))

    assert response.status_code == 200


@MODELS
def test_change_page_renders(admin_client, model):
    obj = MAKERS[model]()

    response = admin_client.get(_url(model, "change", obj.pk))

    assert response.status_code == 200


def _incubator_post(**overrides):
    data = {
        "name_zh": "徐汇测试孵化器",
        "name_en": "Xuhui Test Incubator",
        "slug": "",
        "status": Incubator.Status.OPERATING,
        "recognition": "",
        "recognition_batch": "",
        "recognized_on": "",
        "district": "",
        "operator": "",
        "host_institution": "",
        "floor_area_m2": "",
        "services_zh": "",
        "services_en": "",
        "description_zh": "",
        "description_en": "",
        "publication_state": "draft",
        "_save": "Save",
    }
    data.update(overrides)
    return data


def test_incubator_without_sources_is_refused(admin_client):
    response = admin_client.post(_url(Incubator, "add"), _incubator_post())

    assert response.status_code == 200
    with translation.override(settings.LANGUAGE_CODE):
        message = str(NO_SOURCES_MESSAGE)
    assert response.context["adminform"].form.errors["sources"] == [message]
    assert message in response.content.decode()
    assert not Incubator.objects.exists()


def test_incubator_with_a_source_is_saved_with_a_slug_from_the_english_name(admin_client):
    source = make_source()

    response = admin_client.post(_url(Incubator, "add"), _incubator_post(sources=[source.pk]))

    assert response.status_code == 302
    incubator = Incubator.objects.get()
    assert incubator.slug == "xuhui-test-incubator"
    assert list(incubator.sources.all()) == [source]


def test_alias_finds_institution(admin_client):
    fudan = make_institution(
        name_zh="复旦大学上海医学院", name_en="Shanghai Medical College", aliases=("复旦上医",)
    )
    make_institution(name_zh="上海交通大学", name_en="Shanghai Jiao Tong University")

    response = admin_client.get(_url(Institution, "changelist"), {"q": "复旦上医"})

    assert list(response.context["cl"].result_list) == [fudan]


def test_district_counts_link_to_filtered_changelists(admin_client):
    district = make_district()
    make_institution(district=district)
    make_institution(district=district)
    make_incubator(district=district)

    response = admin_client.get(_url(InnovationDistrict, "changelist"))

    institutions = _url(Institution, "changelist") + f"?district__id__exact={district.pk}"
    assert f'<a href="{institutions}">2</a>' in response.content.decode()


def test_district_filter_finds_records_with_unknown_district(admin_client):
    make_institution(district=make_district())
    nowhere = make_institution(district=None)

    response = admin_client.get(_url(Institution, "changelist"), {"district__isnull": "True"})

    assert list(response.context["cl"].result_list) == [nowhere]


def test_institution_changelist_queries_do_not_grow_with_rows(admin_client, django_assert_max_num_queries):
    def make_row():
        make_institution(aliases=(f"别名{Institution.objects.count()}",), district=make_district())

    make_row()
    url = _url(Institution, "changelist")
    with CaptureQueriesContext(connection) as one_row:
        admin_client.get(url)
    for _ in range(19):
        make_row()

    with django_assert_max_num_queries(len(one_row)):
        response = admin_client.get(url)

    assert response.context["cl"].result_count == 20


def test_source_citations_count_every_kind_of_record(admin_client):
    source = make_source()
    make_district(sources=[source])
    make_institution(sources=[source])
    make_incubator(sources=[source, make_source()])
    make_project(sources=[source])

    response = admin_client.get(_url(Source, "changelist"))

    rows = {row.pk: row.n_citations for row in response.context["cl"].result_list}
    assert rows[source.pk] == 4


# -- search ------------------------------------------------------------------------------------


def test_searchable_records_are_searched_the_portals_way():
    from xuhui_portal.admin import SearchableRecordAdmin
    from xuhui_portal.models import SearchableRecord

    searchable = [model for model in admin.site._registry if issubclass(model, SearchableRecord)]

    assert searchable
    for model in searchable:
        assert isinstance(admin.site._registry[model], SearchableRecordAdmin), model


def _found(admin_client, model, **params):
    response = admin_client.get(_url(model, "changelist"), params)
    assert response.status_code == 200
    return list(response.context["cl"].result_list)


def test_project_search_folds_traditional_and_reads_summaries(admin_client):
    stem_cells = make_project(name_zh="干细胞制剂", summary_en="A cell therapy product.")
    in_summary = make_project(name_zh="药物平台", summary_zh="用于细胞培养。")
    make_project(name_zh="医疗器械", summary_en="Cellular networks.")

    assert set(_found(admin_client, TransferProject, q="細胞")) == {stem_cells, in_summary}
    # English words by their beginning, every word of the query.
    assert len(_found(admin_client, TransferProject, q="cell")) == 2  # "cell" and "cellular"
    assert _found(admin_client, TransferProject, q="therapy cell") == [stem_cells]
    assert _found(admin_client, TransferProject, q="ell") == []


def test_project_search_finds_the_owner_institutions_projects(admin_client):
    fudan = make_institution(name_zh="复旦大学上海医学院", aliases=("复旦上医",))
    owned = make_project(name_zh="检测试剂", owner_institution=fudan)
    named = make_project(name_zh="复旦上医合作项目")
    make_project(name_zh="其他项目", owner_institution=make_institution(name_zh="上海交通大学"))

    assert set(_found(admin_client, TransferProject, q="复旦上医")) == {owned, named}


def test_search_lists_name_matches_first_unless_sorted_by_a_column(admin_client):
    in_summary = make_project(name_zh="药物平台", summary_zh="一种疫苗佐剂", year=2024)
    in_name = make_project(name_zh="疫苗佐剂", year=2020)  # the default order (newest year) puts it last

    assert _found(admin_client, TransferProject, q="疫苗") == [in_name, in_summary]
    # The changelist's columns start with the selection checkbox.
    year_column = 1 + TransferProjectAdmin.list_display.index("year")
    sorted_by_year = _found(admin_client, TransferProject, q="疫苗", o=f"-{year_column}")
    assert sorted_by_year == [in_summary, in_name]


def test_autocomplete_finds_an_institution_by_its_alias(admin_client):
    fudan = make_institution(name_zh="复旦大学上海医学院", aliases=("复旦上医",))
    make_institution(name_zh="上海交通大学")

    response = admin_client.get(
        reverse("admin:autocomplete"),
        {
            "app_label": "transfers",
            "model_name": "transferproject",
            "field_name": "owner_institution",
            "term": "復旦上醫",
        },
    )

    assert response.status_code == 200
    assert [result["id"] for result in response.json()["results"]] == [str(fudan.pk)]
