"""The in-process project index answers exactly as the database would (transfers/project_index.py).

Every check compares the index's answer with FacetedFilterSet's database path for the same
filters: the same records in the same order, and the same facet counts.
"""

import random
import re

import pytest
from django.apps import apps
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from districts.models import Institution
from transfers import project_index
from transfers.filters import ProjectFilter
from transfers.models import TransferProject
from transfers.project_index import BUILT_FROM, IndexedProjects, build_index, get_index
from xuhui_portal.filters import FacetedFilterSet
from xuhui_portal.models import ContentVersion, PublicationState, end_request_versions, start_request_versions
from xuhui_portal.page_cache import bump_generation

from .factories import (
    make_district,
    make_field,
    make_incubator,
    make_institution,
    make_platform,
    make_project,
)

STAGES = TransferProject.Stage.values
MODES = ["", *TransferProject.TransferMode.values]


def random_query(rng: random.Random, catalogue: dict) -> QueryDict:
    params = QueryDict(mutable=True)
    if rng.random() < 0.4:
        params.setlist("stage", rng.sample(STAGES, rng.randint(1, 2)))
    if rng.random() < 0.3:
        params.setlist("mode", rng.sample(MODES[1:], rng.randint(1, 2)))
    if rng.random() < 0.4:
        slugs = [d.slug for d in rng.sample(catalogue["districts"], rng.randint(1, 2))]
        params.setlist("district", slugs + (["unknown"] if rng.random() < 0.5 else []))
    if rng.random() < 0.3:
        params.setlist("platform", [p.slug for p in rng.sample(catalogue["platforms"], rng.randint(1, 2))])
    if rng.random() < 0.3:
        params.setlist("institution", [i.slug for i in rng.sample(catalogue["institutions"], 1)])
    if rng.random() < 0.4:
        params.setlist("field", [f.slug for f in rng.sample(catalogue["fields"], rng.randint(1, 2))])
    if rng.random() < 0.3:
        params["year_min"] = str(rng.choice([2019, 2020, 2022.5]))
    if rng.random() < 0.3:
        params["year_max"] = str(rng.choice([2021, 2024]))
    if rng.random() < 0.3:
        params["amount_min"] = rng.choice(["0", "12.5", "12.51", "80"])
    if rng.random() < 0.3:
        params["amount_max"] = rng.choice(["12.5", "300.249", "1000"])
    if rng.random() < 0.4:
        params["q"] = rng.choice(["细胞", "免疫治疗", "影像", "治疗 平台", "細胞"])
    if rng.random() < 0.5:
        params["ordering"] = rng.choice(
            [
                "year",
                "-year",
                "amount",
                "-amount",
                "name",
                "-name",
                "year,name",
                "-amount,-year",
                "-name,amount",
            ]
        )
    return params


def database_answer(filterset: ProjectFilter) -> tuple[list[int], dict]:
    records = FacetedFilterSet.filter_queryset(filterset, filterset.queryset.all())
    counts = {facet.name: FacetedFilterSet.facet_counts(filterset, facet) for facet in filterset.facets}
    return [record.pk for record in records], counts


def index_answer(filterset: ProjectFilter) -> tuple[list[int], dict]:
    records = filterset.qs
    assert isinstance(records, IndexedProjects)
    counts = {facet.name: filterset.facet_counts(facet) for facet in filterset.facets}
    return records.ids.tolist(), counts


def without_empty(counts: dict) -> dict:
    """Facet counts as the page uses them: options with no records and null keys do not show."""
    return {name: {k: n for k, n in c.items() if n and k not in (None, "")} for name, c in counts.items()}


@pytest.mark.parametrize("many_values", [False, True])
def test_index_matches_the_database_for_random_filters(catalogue, many_values, monkeypatch):
    """Also as for many values: masks made by lookup tables, counts tallied from codes."""
    if many_values:
        monkeypatch.setattr(project_index, "MASK_BY_COMPARISON", 0)
        monkeypatch.setattr(project_index, "BITMAP_KEYS", 0)
    rng = random.Random(2026)
    queryset = TransferProject.objects.published()
    for _ in range(120):
        params = random_query(rng, catalogue)
        filterset = ProjectFilter(params, queryset=queryset)
        if not filterset.is_valid():
            continue
        expected_ids, expected_counts = database_answer(filterset)
        ids, counts = index_answer(ProjectFilter(params, queryset=queryset))
        assert ids == expected_ids, params.urlencode()
        assert without_empty(counts) == without_empty(expected_counts), params.urlencode()
    assert (get_index().district.bits is None) == many_values  # the counts took the path meant


def test_the_unfiltered_list_is_in_the_default_order(catalogue):
    filterset = ProjectFilter(QueryDict(), queryset=TransferProject.objects.published())
    assert filterset.is_valid()
    assert index_answer(filterset)[0] == database_answer(filterset)[0]
    assert len(get_index()) == 40  # the draft is not in it


def test_a_change_is_seen_by_the_next_request(client, catalogue):
    project = TransferProject.objects.published().first()
    before = client.get("/projects/").context["result_count"]
    project.publication_state = PublicationState.DRAFT
    project.save()
    assert client.get("/projects/").context["result_count"] == before - 1
    project.stage = TransferProject.Stage.INDUSTRIALISED
    project.publication_state = PublicationState.PUBLISHED
    project.save()
    response = client.get("/projects/", {"stage": "industrialised"})
    assert project in response.context["object_list"] or response.context["result_count"] > 20


def test_a_field_link_change_alone_is_seen(client, catalogue):
    project = TransferProject.objects.published().first()
    field = make_field()
    assert client.get("/projects/", {"field": field.slug}).context["result_count"] == 0
    project.fields.add(field)
    assert client.get("/projects/", {"field": field.slug}).context["result_count"] == 1


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_cards_show_the_projects_fields_in_display_order(client, catalogue, language):
    # Display order unlike creation (id) order: the names must follow display_order.
    for place, field in enumerate(reversed(catalogue["fields"])):
        field.display_order = place
        field.save()
    prefix = "/en" if language == "en" else ""
    for page in (1, 2):
        projects = client.get(f"{prefix}/projects/", {"page": page}).context["object_list"]
        with translation.override(language):
            expected = {project.pk: [field.name for field in project.fields.all()] for project in projects}
        assert {project.pk: project.field_names for project in projects} == expected
        assert any(len(names) == 2 for names in expected.values())


def test_the_version_is_read_once_per_request_and_changes_with_content(catalogue, django_assert_num_queries):
    first = ContentVersion.current()
    make_project()
    assert ContentVersion.current() != first
    start_request_versions()  # what request_started does
    try:
        ContentVersion.current()
        with django_assert_num_queries(0):
            ContentVersion.current()
    finally:
        end_request_versions()


def test_the_index_is_rebuilt_for_what_it_reads_and_only_for_that(catalogue):
    index = get_index()
    make_incubator()  # other content: the pages' version moves, the projects' does not
    assert get_index() is index
    assert ContentVersion.current() != index.version
    for change in (
        lambda: make_project(),
        lambda: TransferProject.objects.first().fields.add(make_field()),
        lambda: _reslug(catalogue["fields"][0]),
        lambda: _reslug(catalogue["districts"][0]),
        lambda: _reslug(catalogue["platforms"][0]),
        lambda: _reslug(catalogue["institutions"][0]),
        lambda: make_institution().delete(),
    ):
        change()
        assert get_index() is not index
        index = get_index()


def _reslug(record):
    record.slug += "-renamed"
    record.save()


def test_related_records_saved_with_their_slugs_leave_the_index_as_it_is(catalogue):
    """The index holds a district's, platform's, institution's or field's slug only."""
    index = get_index()
    for change in (
        make_district,
        make_platform,
        make_institution,
        make_field,
        lambda: _rename(catalogue["fields"][0]),
        lambda: _rename(catalogue["districts"][0]),
        lambda: _rename(catalogue["platforms"][0]),
        lambda: _rename(Institution.objects.get(pk=catalogue["institutions"][0].pk)),  # read, then saved
    ):
        change()
        assert get_index() is index
        assert ContentVersion.current() != index.version  # the pages still change


def _rename(record):
    record.name_zh += "（新名）"
    record.save()


def test_a_renamed_institution_shows_its_new_name_and_a_new_slug_filters(client, catalogue):
    institution = catalogue["institutions"][0]
    owned = TransferProject.objects.published().filter(owner_institution=institution).count()
    assert owned
    get_index()

    _rename(institution)
    page = client.get("/projects/").content.decode()
    assert institution.name_zh in page

    _reslug(institution)
    response = client.get("/projects/", {"institution": institution.slug})
    assert response.context["result_count"] == owned


def test_built_from_names_every_table_the_build_reads(catalogue):
    with CaptureQueriesContext(connection) as queries:
        build_index(0)
    read = {table for query in queries for table in re.findall(r'(?:FROM|JOIN) "(\w+)"', query["sql"])}
    assert read == {apps.get_model(label)._meta.db_table for label in BUILT_FROM}


def test_without_its_own_row_the_projects_version_is_the_general_one(catalogue):
    make_project()
    ContentVersion.objects.filter(pk=ContentVersion.PROJECTS_ROW).delete()  # e.g. an older backup
    assert ContentVersion.of_projects() == ContentVersion.current()
    bump_generation()  # bulk loads and restores: every version moves
    assert ContentVersion.of_projects() == ContentVersion.current()
    assert ContentVersion.objects.filter(pk=ContentVersion.PROJECTS_ROW).exists()


def test_a_filtered_api_detail_holds_only_matching_records(client, catalogue):
    project = TransferProject.objects.published().exclude(stage="transferred").first()
    assert client.get(f"/api/projects/{project.pk}/").status_code == 200
    assert client.get(f"/api/projects/{project.pk}/", {"stage": "transferred"}).status_code == 404


def test_csv_follows_the_index_order(client, catalogue):
    rows = client.get("/api/projects/csv/", {"ordering": "-amount"}).getvalue().decode("utf-8-sig")
    ids = [int(line.split(",")[0]) for line in rows.splitlines()[1:]]
    filterset = ProjectFilter(QueryDict("ordering=-amount"), queryset=TransferProject.objects.published())
    assert filterset.is_valid()
    assert ids == database_answer(filterset)[0]


def search_answers(query: str) -> tuple[list[int], list[int]]:
    """Ids in list order for a keyword query: from the index, and from the database path."""
    params = QueryDict(mutable=True)
    params["q"] = query
    queryset = TransferProject.objects.published()
    by_index, by_database = ProjectFilter(params, queryset=queryset), ProjectFilter(params, queryset=queryset)
    assert by_index.is_valid() and by_database.is_valid()
    return index_answer(by_index)[0], database_answer(by_database)[0]


@pytest.mark.parametrize(
    "query",
    [
        *("细胞", "細胞", "胞平", "细胞治疗", "细胞 影像", "麤", "!!", "𠀀细"),
        # Latin words: the index holds those with a letter; digits alone go to the database.
        *("影像 cell", "cell", "CELL", "cellular", "ell", "imaging cell", "stem", "5g", "a1b"),
        *("cell 2024", "2024", "test"),
    ],
)
@pytest.mark.parametrize("small_blocks", [False, True])
def test_keyword_search_matches_the_substring_scan_at_the_edges(db, query, small_blocks, monkeypatch):
    """Terms that span a gap, a project boundary, a title/text boundary, rare and non-BMP text;
    Latin words at the start, inside and across the title, with digits and in hyphenated words.
    Also with postings blocks of 4 characters and 2 slots, so that terms and titles cross the
    blocks' ends."""
    if small_blocks:
        monkeypatch.setattr(project_index, "CHARACTER_BLOCK_BITS", 2)
        monkeypatch.setattr(project_index, "WORD_BLOCK_BITS", 1)
    make_project(name_zh="细胞", summary_zh="胞平台")  # 细胞 in the title, 胞平 in the summary
    make_project(name_zh="平台细", summary_zh="胞")  # 细|胞 split by the title/summary gap
    make_project(name_zh="医学影像", summary_zh="细 胞治疗")  # split by a space
    make_project(name_zh="𠀀细胞治疗", name_en="Cell therapy")  # a character outside the BMP
    make_project(name_zh="影像", summary_zh="用于细胞治疗的影像系统", name_en="Cellular imaging")
    make_project(name_zh="细", summary_zh="")  # ends with 细; the next project starts with 胞
    make_project(name_zh="胞影像", summary_zh="细胞")
    # "cell" inside a title word ranks it, a summary word starting with it matches.
    make_project(name_zh="检测设备", name_en="Excellent device", summary_en="For stem-cell culture, 2024.")
    make_project(name_zh="通信模块", name_en="5G module A1B2", summary_en="Imaging at 5 GHz")
    ids, expected = search_answers(query)
    assert ids == expected
    if query in ("细胞", "细胞治疗", "影像 cell", "cell", "stem", "5g", "a1b", "cell 2024"):
        assert ids, "the edge cases above must not all miss"


@pytest.mark.parametrize("names", [[], ["Laser radar"]])
def test_an_index_without_chinese_text_finds_no_chinese_term(db, names):
    for name in names:
        make_project(name_zh=name, summary_zh="")
    assert search_answers("细胞") == ([], [])


def test_a_title_hit_ranks_first(db):
    in_summary = make_project(name_zh="甲项目", summary_zh="免疫治疗方法", year=2025)
    in_title = make_project(name_zh="免疫治疗平台", year=2019)
    assert search_answers("免疫治疗") == ([in_title.pk, in_summary.pk],) * 2


def test_index_aggregates_match_the_database(catalogue):
    from django.db.models import Count, Q, Sum

    index = get_index()
    projects = TransferProject.objects.published()
    years = dict(projects.exclude(year=None).order_by("year").values_list("year").annotate(n=Count("pk")))
    assert index.year_counts() == years
    assert index.without_fields() == projects.filter(fields=None).count()
    sums = {
        mode: (amount, disclosed)
        for mode, amount, disclosed in projects.order_by()
        .values_list("transfer_mode")
        .annotate(
            amount=Sum("transfer_amount_wan"),
            disclosed=Count("pk", filter=Q(transfer_amount_wan__isnull=False)),
        )
        if mode
    }
    assert {mode: pair for mode, pair in index.amounts_by("mode").items() if pair[1]} == {
        mode: pair for mode, pair in sums.items() if pair[1]
    }


@pytest.mark.parametrize(
    "path", ["/projects/?q=细胞&stage=transferred", "/api/projects/?q=细胞&stage=transferred"]
)
def test_a_request_lets_go_of_its_index_arrays_once_answered(client, catalogue, path, monkeypatch):
    """FilterSets outlive their requests in reference cycles; the index's arrays must not."""
    released = []
    monkeypatch.setattr(
        ProjectFilter, "release", lambda filterset: released.append(filterset.__dict__.copy())
    )
    assert client.get(path).status_code == 200
    [state] = released
    assert state["_selection"] is not None, "released after the index answered, not before"


def test_a_released_project_filter_holds_no_selection_and_answers_again(catalogue):
    filterset = ProjectFilter(
        QueryDict("q=细胞&stage=transferred"), queryset=TransferProject.objects.published()
    )
    ids = filterset.qs.ids.tolist()
    filterset.release()
    assert "_selection" not in filterset.__dict__
    assert ProjectFilter.filter_queryset(filterset, filterset.queryset).ids.tolist() == ids
