"""The synthetic data set: deterministic, marked, replaced on a re-run, searchable."""

import pytest
from django.core.management import CommandError, call_command

from districts.models import Institution
from incubators.models import Incubator
from transfers.models import TransferProject
from transfers.project_index import get_index
from xuhui_portal.models import ProjectIndexChange
from xuhui_portal.search import search_queryset

pytestmark = pytest.mark.django_db


@pytest.fixture
def portal_data():
    call_command("load_portal_data", verbosity=0)


def generate(**options):
    call_command("generate_demo_data", projects=60, incubators=12, institutions=8, verbosity=0, **options)


def test_generates_marked_records_that_cite_the_demo_source(portal_data):
    generate()
    assert TransferProject.objects.filter(is_synthetic=True).count() == 60
    assert Incubator.objects.filter(is_synthetic=True).count() == 12
    assert Institution.objects.filter(is_synthetic=True).count() == 8
    assert not TransferProject.objects.filter(is_synthetic=True).exclude(sources__key="DEMO").exists()
    assert TransferProject.objects.filter(is_synthetic=False).count() == 1


def test_same_seed_same_data_and_no_duplicates(portal_data):
    generate(seed=7)
    first = list(
        TransferProject.objects.filter(is_synthetic=True).order_by("slug").values_list("name_zh", "year")
    )
    generate(seed=7)
    second = list(
        TransferProject.objects.filter(is_synthetic=True).order_by("slug").values_list("name_zh", "year")
    )
    assert first == second
    generate(seed=8)
    third = list(
        TransferProject.objects.filter(is_synthetic=True).order_by("slug").values_list("name_zh", "year")
    )
    assert third != first and len(third) == 60


def test_generated_projects_are_searchable(portal_data):
    generate()
    project = TransferProject.objects.filter(is_synthetic=True).first()
    found = search_queryset(TransferProject.objects.all(), project.name_zh[:4])
    assert project in found


def test_needs_the_portal_data_first():
    with pytest.raises(CommandError, match="load_portal_data"):
        generate()


def test_refuses_negative_counts(portal_data):
    with pytest.raises(CommandError, match="--projects"):
        call_command("generate_demo_data", projects=-1, verbosity=0)


#: The issue's budget: no public page makes more than this many SQL queries.
PAGE_QUERY_BUDGET = 10


def public_pages() -> list[str]:
    from districts.models import InnovationDistrict
    from transfers.models import TransferPlatform

    records = [
        InnovationDistrict.objects.published().first(),
        Institution.objects.published().filter(is_synthetic=False).first(),
        Incubator.objects.published().filter(is_synthetic=True).first(),
        TransferPlatform.objects.published().first(),
        TransferProject.objects.published().filter(is_synthetic=True).first(),
    ]
    district = records[0].slug
    lists = [
        "/",
        "/districts/",
        "/institutions/",
        "/incubators/",
        f"/incubators/?district={district}",
        "/platforms/",
        "/projects/",
        "/projects/?q=细胞&stage=transferred",
        f"/projects/?district={district}&ordering=-amount",
        "/projects/?ordering=name&page=2",
        "/statistics/",
        "/timeline/",
        "/search/?q=细胞",
        "/search/?q=cell",
        "/en/",
        "/en/projects/?field=",
        "/feeds/latest.atom",
        "/sitemap.xml",
    ]
    return lists + [record.get_absolute_url() for record in records]


def test_every_public_page_stays_within_the_query_budget(client, portal_data, django_assert_max_num_queries):
    generate()
    client.get("/")  # the project index is built once per content version, not per page
    for url in public_pages():
        with django_assert_max_num_queries(PAGE_QUERY_BUDGET, info=url):
            assert client.get(url).status_code == 200, url


def test_a_run_changes_the_content_version_once_and_the_index_follows(portal_data, count_version_bumps):
    generate(seed=7)
    index = get_index()
    bumps = count_version_bumps()
    generate(seed=8)  # deletes the 60 projects of the first run, and more, then makes new ones
    assert bumps == [None]  # once, not per record deleted, and as a change that rebuilds the index
    assert list(ProjectIndexChange.objects.values_list("project_id", flat=True)) == [None]
    rebuilt = get_index()
    assert rebuilt.version != index.version
    assert sorted(rebuilt.ids.tolist()) == sorted(
        TransferProject.objects.published().values_list("pk", flat=True)
    )
