"""Public pages: every page renders with one <h1>, shows the fixture facts, and survives bad input."""

import html
import re

import pytest
from django.core.management import call_command
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext
from django.urls import reverse, translate_url

from districts.models import InnovationDistrict, TechField
from incubators.filters import IncubatorFilter
from incubators.models import Incubator
from transfers.models import TransferProject
from xuhui_portal.models import PublicationState

from .factories import (
    make_district,
    make_field,
    make_incubator,
    make_institution,
    make_platform,
    make_project,
    make_source,
)


@pytest.fixture
def portal_data(db):
    call_command("load_portal_data", verbosity=0)


def h1_count(response) -> int:
    return len(re.findall(r"<h1[ >]", response.content.decode()))


LIST_URLS = [
    "/",
    "/districts/",
    "/incubators/",
    "/institutions/",
    "/platforms/",
    "/projects/",
    "/search/",
    "/search/?q=复旦",
]
DETAIL_URLS = [
    "/districts/fenglin/",
    "/incubators/4-modelspeed-space/",
    "/institutions/1-sjtu/",
    "/platforms/2-tto-1n/",
    "/projects/1-phased-array-magnetic-wave-knife/",
]


@pytest.mark.parametrize("url", LIST_URLS + DETAIL_URLS)
def test_every_page_renders_with_one_h1(client, portal_data, url):
    response = client.get(url)
    assert response.status_code == 200
    assert h1_count(response) == 1


@pytest.mark.parametrize("url", DETAIL_URLS)
def test_detail_pages_show_sources_and_last_update(client, portal_data, url):
    html = client.get(url).content.decode()
    assert "来源" in html and "S" in html
    assert "最后更新" in html or "Last updated" in html


def test_home_shows_the_structure_figures_and_entry_points(client, portal_data):
    html = client.get("/").content.decode()
    for text in [
        "徐汇区科技成果转化服务中心",
        "枫林",
        "西岸",
        "近5.2亿元",
        "19",
        "/incubators/",
        "/projects/",
    ]:
        assert text in html, text


def test_district_page_lists_its_anchors_and_incubators(client, portal_data):
    html = client.get("/districts/west-bund/").content.decode()
    assert "上海人工智能实验室" in html
    assert "模速空间" in html


def test_platform_list_groups_partners_by_role(client, portal_data):
    html = client.get("/platforms/").content.decode()
    assert "上海交大分子与纳米创新转化中心" in html
    assert "金融" in html or "Finance" in html
    assert "太平洋保险" in html


def test_project_detail_says_what_is_not_disclosed(client, portal_data):
    html = client.get("/projects/1-phased-array-magnetic-wave-knife/").content.decode()
    assert "陈亚珠" in html
    assert "未披露" in html


def test_outdated_slug_redirects_to_the_canonical_url(client, portal_data):
    response = client.get("/incubators/4-old-name/")
    assert response.status_code == 301
    assert response["Location"] == "/incubators/4-modelspeed-space/"


def test_unpublished_record_is_404(client, db):
    draft = make_incubator(publication_state=PublicationState.DRAFT)
    assert client.get(draft.get_absolute_url()).status_code == 404
    assert draft.name_zh not in client.get("/incubators/").content.decode()


def test_unknown_district_is_404(client, db):
    assert client.get("/districts/nowhere/").status_code == 404


class TestEnglish:
    def test_english_pages_show_english(self, client, portal_data):
        html = client.get("/en/districts/fenglin/").content.decode()
        assert '<html lang="en">' in html
        assert "Fenglin Life &amp; Health Innovation District" in html
        assert "Innovation districts" in html
        assert "Sources" in html and "来源" not in html

    def test_chinese_is_the_default(self, client, portal_data):
        html = client.get("/districts/fenglin/").content.decode()
        assert '<html lang="zh-Hans">' in html
        assert "枫林生命健康科创街区" in html

    def test_language_switch_links_to_the_same_page(self, client, portal_data):
        assert (
            'href="/en/incubators/?district=fenglin"'
            in client.get("/incubators/?district=fenglin").content.decode()
        )
        assert (
            'href="/incubators/4-modelspeed-space/"'
            in client.get("/en/incubators/4-modelspeed-space/").content.decode()
        )


class TestSearchPage:
    def test_magnetic_wave_knife_is_found_by_simplified_and_traditional_words(self, client, portal_data):
        for query in ["磁波", "精準無創"]:
            html = client.get("/search/", {"q": query}).content.decode()
            assert "/projects/1-phased-array-magnetic-wave-knife/" in html, query

    def test_results_are_grouped_with_counts(self, client, portal_data):
        response = client.get("/search/", {"q": "复旦"})
        groups = {group.label: group.count for group in response.context["groups"]}
        assert groups["机构"] >= 4
        assert "转化平台" in groups

    def test_matches_are_highlighted_and_escaped(self, client, db):
        make_project(name_zh="<script>磁波</script>刀")
        html = client.get("/search/", {"q": "磁波"}).content.decode()
        assert "&lt;script&gt;<mark>磁波</mark>&lt;/script&gt;刀" in html
        assert "<script>磁波" not in html

    @pytest.mark.parametrize("query", ["x" * 500, "\u202e\u200b", "😀" * 10, "' OR 1=1 --", "%", "_"])
    def test_odd_queries_do_not_break_the_page(self, client, portal_data, query):
        assert client.get("/search/", {"q": query}).status_code == 200

    def test_nul_byte_is_a_400_page(self, client, db):
        response = client.get("/search/", {"q": "磁\x00波"})
        assert response.status_code == 400
        assert "Bad request" in response.content.decode()


@pytest.mark.django_db
class TestIncubatorList:
    @pytest.fixture(autouse=True)
    def _data(self):
        self.ai = make_field(name_zh="人工智能", slug="ai")
        self.bio = make_field(name_zh="生物医药", slug="bio")
        self.west = make_district(slug="west", short_name_zh="西岸", display_order=1)
        self.fenglin = make_district(slug="fenglin", short_name_zh="枫林", display_order=2)
        make_incubator(name_zh="甲", district=self.west, focus_fields=[self.ai], floor_area_m2=500)
        make_incubator(name_zh="乙", district=self.west, focus_fields=[self.ai, self.bio], floor_area_m2=3000)
        make_incubator(
            name_zh="丙",
            district=self.fenglin,
            focus_fields=[self.bio],
            recognition=Incubator.Recognition.DISTRICT_HIGH_QUALITY,
            recognition_batch=2,
        )
        make_incubator(name_zh="丁", district=None, status=Incubator.Status.PREPARING)

    def names(self, client, **params):
        response = client.get("/incubators/", params)
        assert response.status_code == 200
        return [incubator.name_zh for incubator in response.context["object_list"]]

    def facet(self, client, name, **params):
        response = client.get("/incubators/", params)
        [result] = [facet for facet in response.context["facets"] if facet.name == name]
        return {option.value: option.count for option in result.options}

    def test_district_filter_or_within_and_across(self, client):
        assert self.names(client, district=["west"]) == ["乙", "甲"]
        assert self.names(client, district=["west", "fenglin"]) == ["丙", "乙", "甲"]
        assert self.names(client, district=["west"], field=["bio"]) == ["乙"]

    def test_district_unknown(self, client):
        assert self.names(client, district=["unknown"]) == ["丁"]
        assert self.names(client, district=["unknown", "fenglin"]) == ["丁", "丙"]

    def test_district_filter_follows_a_renamed_slug_at_once(self, client):
        assert self.names(client, district=["west"]) == ["乙", "甲"]
        self.west.slug = "west-bund"
        self.west.save()
        assert self.names(client, district=["west-bund"]) == ["乙", "甲"]
        response = client.get("/incubators/", {"district": "west"})
        assert response.context["filter_errors"]  # no longer a district: said, not ignored

    def test_many_to_many_field_filter_gives_each_incubator_once(self, client):
        assert self.names(client, field=["ai", "bio"]) == ["丙", "乙", "甲"]

    def test_recognition_batch_and_status(self, client):
        assert self.names(client, recognition=["district_hq"]) == ["丙"]
        assert self.names(client, batch=["2"]) == ["丙"]
        assert self.names(client, status=["preparing"]) == ["丁"]

    def test_facet_counts_use_the_other_filters(self, client):
        assert self.facet(client, "district") == {"west": 2, "fenglin": 1, "unknown": 1}
        # Choosing a district does not shrink its own facet, but narrows the others.
        assert self.facet(client, "district", district=["west"]) == {"west": 2, "fenglin": 1, "unknown": 1}
        assert self.facet(client, "field", district=["west"]) == {"ai": 2, "bio": 1}

    def test_facet_values_are_read_once_per_content_version(self, client, monkeypatch):
        from xuhui_portal.facet_table import FacetTable

        reads = []
        read = FacetTable.read
        monkeypatch.setattr(FacetTable, "read", lambda *args: reads.append(args) or read(*args))

        def group_bys(**params) -> int:
            """Facet queries: incubators counted per group (the page's own count is a COUNT(*))."""
            with CaptureQueriesContext(connection) as captured:
                client.get("/incubators/", params)
            return sum('COUNT("incubators_incubator"."id")' in query["sql"] for query in captured)

        # Read on the first request; then counted in memory whatever the filters: no GROUP BY.
        assert group_bys() == group_bys(district="fenglin", status="operating") == 0
        assert len(reads) == 1
        # An edit changes the content version: the next request reads the values again.
        added = make_incubator(name_zh="戊", district=self.fenglin, status=Incubator.Status.PREPARING)
        assert self.facet(client, "district") == {"west": 2, "fenglin": 2, "unknown": 1}
        assert self.facet(client, "status") == {"operating": 3, "preparing": 2}
        assert len(reads) == 2
        added.publication_state = PublicationState.DRAFT
        added.save()
        assert self.facet(client, "status") == {"operating": 3, "preparing": 1}

    def test_a_search_counts_the_facets_of_its_matches_only(self, client):
        with CaptureQueriesContext(connection) as queries:
            assert self.facet(client, "district", q="乙") == {"west": 1, "fenglin": 0, "unknown": 0}
        # The facet values read, then only the ids the search matches: no GROUP BY.
        assert not any('COUNT("incubators_incubator"."id")' in query["sql"] for query in queries)
        assert self.facet(client, "field", q="乙", district=["fenglin"]) == {}

    def test_facet_counts_are_exact_for_many_to_many(self, client):
        assert self.facet(client, "field") == {"ai": 2, "bio": 2}
        assert self.facet(client, "district", field=["ai", "bio"]) == {"west": 2, "fenglin": 1, "unknown": 0}

    def test_sorting(self, client):
        # Unknown areas come last in both directions.
        assert self.names(client, ordering="-area")[:2] == ["乙", "甲"]
        assert self.names(client, ordering="area")[:2] == ["甲", "乙"]

    def test_active_filters_are_removable_one_by_one(self, client):
        response = client.get("/incubators/", {"district": ["west", "fenglin"], "status": "operating"})
        chips = {(chip.value_label, chip.remove_url) for chip in response.context["active_filters"]}
        assert ("西岸", "?district=fenglin&status=operating") in chips
        assert ("枫林", "?district=west&status=operating") in chips

    def test_empty_result_offers_to_clear(self, client):
        response = client.get("/incubators/", {"district": "fenglin", "status": "preparing"})
        html = response.content.decode()
        assert "没有符合" in html or "Nothing matches" in html
        assert 'href="?"' in html

    @pytest.mark.parametrize(
        "params",
        [
            {"district": "nowhere"},
            {"batch": "x"},
            {"ordering": "password"},
            {"q": "x" * 300},
            {"status": "\u202e"},
        ],
    )
    def test_bad_filter_values_explain_themselves(self, client, params):
        response = client.get("/incubators/", params)
        assert response.status_code == 200
        assert response.context["filter_errors"]
        assert list(response.context["object_list"]) == []

    @pytest.mark.parametrize("page", ["abc", "0", "999", "-1", "1.5"])
    def test_bad_page_numbers_are_404(self, client, page):
        assert client.get("/incubators/", {"page": page}).status_code == 404


@pytest.mark.django_db
def test_pagination_keeps_the_filters(client):
    district = make_district(slug="west")
    for n in range(25):
        make_incubator(name_zh=f"孵化器{n:02d}", district=district)
    first = client.get("/incubators/", {"district": "west"})
    assert 'href="?district=west&amp;page=2"' in first.content.decode()
    second = client.get("/incubators/", {"district": "west", "page": 2})
    assert len(second.context["object_list"]) == 5


@pytest.mark.django_db
class TestProjectList:
    @pytest.fixture(autouse=True)
    def _data(self):
        make_project(
            name_zh="磁波刀", year=2021, transfer_amount_wan=100, stage="transferred", transfer_mode="licence"
        )
        make_project(name_zh="细胞疗法", year=2023, transfer_amount_wan=5000, stage="incubating")
        make_project(name_zh="未披露项目", year=2022, transfer_amount_wan=None, stage="transferred")

    def names(self, client, **params):
        response = client.get("/projects/", params)
        assert response.status_code == 200
        return [project.name_zh for project in response.context["object_list"]]

    def test_year_and_amount_ranges(self, client):
        assert self.names(client, year_min=2022) == ["细胞疗法", "未披露项目"]
        assert self.names(client, year_min=2021, year_max=2021) == ["磁波刀"]
        assert self.names(client, amount_min=50, amount_max=1000) == ["磁波刀"]

    def test_sorting_by_amount_and_year(self, client):
        assert self.names(client, ordering="-amount")[:2] == ["细胞疗法", "磁波刀"]
        assert self.names(client, ordering="year") == ["磁波刀", "未披露项目", "细胞疗法"]

    @pytest.mark.parametrize("list_url", ["/incubators/", "/institutions/", "/api/projects/"])
    def test_empty_sort_keys_are_left_out_on_every_list(self, client, list_url):
        for ordering in (",,", "name,", ",-name"):
            assert client.get(list_url, {"ordering": ordering}).status_code == 200

    @pytest.mark.parametrize(("ordering", "same_as"), [(",,", ""), ("name,", "name"), (",-name", "-name")])
    def test_empty_sort_keys_are_left_out(self, client, ordering, same_as):
        assert self.names(client, ordering=ordering) == self.names(client, ordering=same_as)

    def test_clearing_filters_drops_a_bad_sort_order_but_keeps_a_good_one(self, client):
        bad = client.get("/projects/", {"ordering": "year,bogus", "stage": "transferred"})
        assert bad.context["filter_errors"]
        assert bad.context["clear_url"] == "?"
        good = client.get("/projects/", {"ordering": "year", "stage": "transferred"})
        assert good.context["clear_url"] == "?ordering=year"

    def test_stage_and_mode(self, client):
        assert self.names(client, stage="incubating") == ["细胞疗法"]
        assert self.names(client, mode="licence") == ["磁波刀"]

    def test_search_with_filter_ranks_by_relevance(self, client):
        assert self.names(client, q="磁波", stage="transferred") == ["磁波刀"]

    @pytest.mark.parametrize(
        "params",
        [
            {"year_min": "2023", "year_max": "2020"},
            {"amount_min": "abc"},
            {"amount_min": "-5"},
            {"year_min": "99999999999999999999"},
            {"amount_max": "1e400"},
            {"platform": "nope"},
        ],
    )
    def test_bad_ranges_explain_themselves(self, client, params):
        response = client.get("/projects/", params)
        assert response.status_code == 200
        assert response.context["filter_errors"]


def _one_district():
    return InnovationDistrict.objects.first() or make_district()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "make"),
    [
        # One district for all: short facets are counted together, and 51 districts make a long one.
        ("/incubators/", lambda n: make_incubator(focus_fields=[make_field()], district=_one_district())),
        ("/projects/", lambda n: make_project(fields_=[make_field()])),
        ("/institutions/", lambda n: None),
    ],
)
def test_query_count_does_not_grow_with_rows(client, django_assert_max_num_queries, url, make):
    """Counted once the content's per-version reads are done (the first request after a change
    brings the project index and the per-version tables up to date: tested on their own)."""
    make(0)
    client.get(url)
    with django_assert_max_num_queries(10) as one_row:
        client.get(url)
    queries = len(one_row.captured_queries)  # a request clears the connection's query log
    for n in range(50):
        make(n)
    client.get(url)
    with django_assert_max_num_queries(queries):
        client.get(url)


@pytest.mark.django_db
def test_a_project_page_reads_its_row_and_links_in_one_query(client, django_assert_num_queries):
    fields = [make_field(name_zh="细胞治疗", display_order=2), make_field(name_zh="创新药", display_order=1)]
    sources = [make_source(key="S2", headline="第二篇报道"), make_source(key="S1", headline="第一篇报道")]
    project = make_project(fields_=fields, sources=sources)
    url = project.get_absolute_url()
    client.get(url)  # builds the project index and reads the fields and sources tables
    with django_assert_num_queries(2):  # the content version, the project with its source ids
        html = client.get(url).content.decode()
    tags = re.search(r'<ul class="tags">(.*?)</ul>', html).group(1)
    assert tags.index("创新药") < tags.index("细胞治疗")
    assert html.index("S1") < html.index("S2") and "第一篇报道" in html

    sources[0].headline = "更正后的报道"
    sources[0].save()
    project.sources.remove(sources[1])
    html = client.get(url).content.decode()
    assert "更正后的报道" in html and "第一篇报道" not in html


def test_transferproject_has_the_search_columns():
    assert {"search_title", "search_text", "search_document"} <= {
        f.name for f in TransferProject._meta.fields
    }


def test_home_url_name():
    assert reverse("home") == "/"


@pytest.mark.django_db
def test_a_long_facet_shows_its_largest_options_and_says_how_many_more(client):
    from xuhui_portal.filters import FACET_LIMIT

    institutions = [make_institution(name_zh=f"机构{n:03d}") for n in range(FACET_LIMIT + 5)]
    for n, institution in enumerate(institutions):
        for _ in range(1 + (n == 0)):
            make_project(owner_institution=institution)
    response = client.get("/projects/", {"institution": institutions[-1].slug})
    [facet] = [f for f in response.context["facets"] if f.name == "institution"]
    shown = facet.options
    assert len(shown) == FACET_LIMIT and facet.hidden_count == 5
    assert shown[0].label == "机构000" and any(option.selected for option in shown)


@pytest.mark.parametrize("seed", range(20))
def test_a_long_facet_keeps_the_chosen_then_the_largest_options_in_choice_order(seed):
    """FacetResult.build against the rule written out: chosen options first, then the largest
    counts, ties broken by the choices' order; the kept options shown in the choices' order."""
    import random

    from xuhui_portal.filters import FACET_LIMIT, Facet, FacetResult

    rng = random.Random(seed)
    choices = [(f"option-{n}", f"Option {n}") for n in range(rng.randint(FACET_LIMIT + 1, 80))]
    counts = {value: rng.randint(1, 5) for value, _ in choices if rng.random() < 0.8}
    selected = {value for value, _ in rng.sample(choices, rng.randint(0, 3))}
    offered = [(value, label) for value, label in choices if value in counts or value in selected]
    ranked = sorted(offered, key=lambda option: (option[0] not in selected, -counts.get(option[0], 0)))
    kept = {value for value, _ in ranked[:FACET_LIMIT]}

    result = FacetResult.build(Facet("institution", "owner__slug"), "Owner", choices, counts, selected)

    assert [option.value for option in result.options] == [value for value, _ in offered if value in kept]
    assert result.hidden_count == max(0, len(offered) - FACET_LIMIT)
    assert all(option.selected == (option.value in selected) for option in result.options)
    assert all(option.count == counts.get(option.value, 0) for option in result.options)


def test_each_filterset_has_filters_of_its_own():
    first, second = IncubatorFilter(QueryDict()), IncubatorFilter(QueryDict())
    for name, filter_ in first.filters.items():
        assert filter_ is not second.filters[name] and filter_ is not IncubatorFilter.base_filters[name]
        assert filter_.parent is first and second.filters[name].parent is second
    assert not hasattr(IncubatorFilter.base_filters["district"], "parent")


@pytest.fixture
def varied_incubators(db):
    districts = [make_district(), make_district()]
    fields = [make_field(), make_field()]
    for n in range(12):
        make_incubator(
            name_zh=f"{'孵化器' if n % 4 else '众创空间'}{n}",
            district=[*districts, None][n % 3],
            focus_fields=fields[: n % 3],
            recognition=Incubator.Recognition.values[n % len(Incubator.Recognition.values)],
            recognition_batch=[None, 1, 2][n % 3],
            status=Incubator.Status.values[n % 2],
        )
    make_incubator(name_zh="草稿孵化器", publication_state=PublicationState.DRAFT, focus_fields=fields)


FACET_QUERIES = [
    "",
    "status=operating",
    "district=unknown&batch=2",
    "q=孵化&recognition=district_hq",
    "q=众创",
    "q=nothing-matches",
    "field={field}&district={district}",
    "field={field}&field={other_field}&status=operating&batch=1",
    "district={district}&district=unknown&ordering=-area",
]


def _facet_query(query: str) -> QueryDict:

    field, other_field = TechField.objects.order_by("pk").values_list("slug", flat=True)[:2]
    district = InnovationDistrict.objects.order_by("pk").values_list("slug", flat=True).first()
    return QueryDict(query.format(field=field, other_field=other_field, district=district))


@pytest.mark.parametrize("query", FACET_QUERIES)
def test_facets_counted_together_match_one_group_by_each(varied_incubators, query, monkeypatch):
    monkeypatch.setattr(IncubatorFilter, "facets_in_memory", False)
    filterset = IncubatorFilter(_facet_query(query), queryset=Incubator.objects.published())
    assert filterset.is_valid()
    separately = {facet.name: filterset.facet_counts(facet) for facet in filterset.facets}
    assert filterset.all_facet_counts() == separately


@pytest.mark.parametrize("query", FACET_QUERIES)
def test_facets_counted_in_memory_match_the_group_bys(varied_incubators, query, monkeypatch):
    def counts(in_memory: bool) -> dict:
        monkeypatch.setattr(IncubatorFilter, "facets_in_memory", in_memory)
        filterset = IncubatorFilter(_facet_query(query), queryset=Incubator.objects.published())
        assert filterset.is_valid()
        return filterset.all_facet_counts()

    assert counts(in_memory=True) == counts(in_memory=False)


@pytest.mark.django_db
def test_project_cards_name_their_platform_in_the_page_language(client):
    """Platforms come from a per-version table, not a join: a rename shows on the next request,
    and a project without a platform or with an unpublished one still gets its card."""
    platform = make_platform(name_zh="徐汇技术转移中心", name_en="Xuhui Transfer Centre")
    draft = make_platform(name_zh="草稿平台", publication_state=PublicationState.DRAFT)
    make_project(name_zh="有平台的项目", platform=platform)
    make_project(name_zh="草稿平台的项目", platform=draft)
    make_project(name_zh="无平台的项目", platform=None)
    html = client.get("/projects/").content.decode()
    assert html.count('<li class="card">') == 3
    assert "徐汇技术转移中心" in html and "草稿平台" in html
    assert "Xuhui Transfer Centre" in client.get("/en/projects/").content.decode()
    platform.name_zh = "徐汇技术转移服务中心"
    platform.save()
    assert "徐汇技术转移服务中心" in client.get("/projects/").content.decode()


@pytest.mark.django_db
def test_project_cards_name_fields_in_display_order_and_language(client):
    later = make_field(name_zh="乙领域", name_en="Second field", display_order=2)
    first = make_field(name_zh="甲领域", name_en="First field", display_order=1)
    make_project(fields_=[later, first])
    make_project()  # no fields: no tag list
    chinese = client.get("/projects/").content.decode()
    assert re.search(r'<ul class="tags"><li>甲领域</li><li>乙领域</li></ul>', chinese)
    assert chinese.count('<ul class="tags">') == 1
    english = client.get("/en/projects/").content.decode()
    assert '<ul class="tags"><li>First field</li><li>Second field</li></ul>' in english


@pytest.mark.django_db
def test_a_district_page_previews_its_incubators_and_projects(client):
    from xuhui_portal.selectors import INCUBATOR_PREVIEW, PROJECT_PREVIEW

    district = make_district()
    for n in range(INCUBATOR_PREVIEW + 1):
        make_incubator(name_zh=f"预览孵化器{n:02d}", district=district)
    for _ in range(PROJECT_PREVIEW + 2):
        make_project(district=district)
    make_institution(district=district)
    response = client.get(district.get_absolute_url())
    html = response.content.decode()
    assert html.count('<li class="card">') == INCUBATOR_PREVIEW
    assert f"本街区全部 {INCUBATOR_PREVIEW + 1} 个孵化器" in html
    assert f"本街区全部 {PROJECT_PREVIEW + 2} 个转化项目" in html
    assert f'href="/projects/?district={district.slug}"' in html
    assert response.context["summary"]["institutions"] == 1
    assert response.context["projects"].count == PROJECT_PREVIEW + 2


@pytest.mark.django_db
def test_a_district_page_reads_the_district_once_per_content_version(client):
    district = make_district(name_zh="漕河泾园区")
    make_platform(name_zh="第一平台", district=district)
    url = district.get_absolute_url()
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    tables = {"districts_innovationdistrict", "transfers_transferplatform", "districts_indicator"}
    assert not [q for q in queries if any(f'FROM "{table}"' in q["sql"] for table in tables)]

    make_platform(name_zh="第二平台", district=district)
    district.name_zh = "漕河泾科创园区"
    district.save()
    html = client.get(url).content.decode()
    assert "漕河泾科创园区" in html and "第一平台" in html and "第二平台" in html
    district.publication_state = PublicationState.DRAFT
    district.save()
    assert client.get(url).status_code == 404


@pytest.mark.django_db
def test_an_institution_page_previews_its_projects_and_links_to_all(client, django_assert_max_num_queries):
    from xuhui_portal.selectors import PROJECT_PREVIEW

    institution = make_institution()
    for year in range(2000, 2000 + PROJECT_PREVIEW + 3):
        make_project(owner_institution=institution, year=year)
    make_project(owner_institution=institution, publication_state=PublicationState.DRAFT)
    make_project()  # another institution's
    make_incubator(name_zh="自营孵化器", operator=institution)
    make_incubator(name_zh="托管孵化器", host_institution=institution)
    make_incubator(name_zh="草稿孵化器", operator=institution, publication_state=PublicationState.DRAFT)
    client.get(institution.get_absolute_url())  # the first read after an edit rebuilds the index
    with django_assert_max_num_queries(10):
        response = client.get(institution.get_absolute_url())
    html = response.content.decode()
    projects = response.context["projects"]
    assert projects.count == PROJECT_PREVIEW + 3
    assert [p.year for p in projects.records] == list(range(2000 + PROJECT_PREVIEW + 2, 2002, -1))
    assert f"本机构全部 {PROJECT_PREVIEW + 3} 个转化项目" in html
    assert f'href="/projects/?institution={institution.slug}"' in html
    assert [i.name_zh for i in response.context["operated_incubators"]] == ["自营孵化器"]
    assert [i.name_zh for i in response.context["hosted_incubators"]] == ["托管孵化器"]
    assert "草稿孵化器" not in html


@pytest.mark.django_db
def test_tags_and_facet_options_escape_names(client):
    field = make_field(name_zh="<b>领域</b>&", slug="escaped-field")
    make_project(fields_=[field])
    html = client.get("/projects/").content.decode()
    assert "<b>领域</b>" not in html
    assert "<li>&lt;b&gt;领域&lt;/b&gt;&amp;</li>" in html  # the card's tag
    assert "<span>&lt;b&gt;领域&lt;/b&gt;&amp;</span>" in html  # the facet option


@pytest.mark.django_db
def test_incubator_cards_name_their_focus_fields_in_display_order(client):
    district = make_district()
    later = make_field(name_zh="人工智能", name_en="AI", display_order=2)
    first = make_field(name_zh="集成电路", name_en="Chips", display_order=1)
    make_incubator(district=district, focus_fields=[later, first])
    make_incubator(district=district)  # no fields: no tag list
    html = client.get("/incubators/").content.decode()
    assert '<ul class="tags"><li>集成电路</li><li>人工智能</li></ul>' in html
    assert html.count('<ul class="tags">') == 1
    preview = client.get(district.get_absolute_url().replace("/districts", "/en/districts")).content.decode()
    assert '<ul class="tags"><li>Chips</li><li>AI</li></ul>' in preview


@pytest.mark.django_db
def test_an_incubators_focus_fields_change_on_the_next_request(client):
    """The incubators' links to their fields are read once per content version."""
    district = make_district()
    incubator = make_incubator(district=district, focus_fields=[make_field(name_zh="集成电路")])
    assert "<li>集成电路</li>" in client.get("/incubators/").content.decode()
    incubator.focus_fields.set([make_field(name_zh="人工智能")])
    html = client.get("/incubators/").content.decode()
    assert "<li>人工智能</li>" in html and "<li>集成电路</li>" not in html
    incubator.focus_fields.clear()
    assert '<ul class="tags">' not in client.get(district.get_absolute_url()).content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("incubators", [0, 1, 12])
def test_a_district_preview_counts_its_incubators(client, incubators):
    district = make_district()
    for _ in range(incubators):
        make_incubator(district=district)
    make_incubator(district=make_district())  # another district's
    preview = client.get(district.get_absolute_url()).context["incubators"]
    assert (len(preview.records), preview.count) == (incubators, incubators)


@pytest.mark.django_db
def test_batch_labels_follow_the_page_language(client):
    make_incubator(district=make_district(), recognition_batch=1, recognition="district_hq")
    assert "Remove filter Batch: Batch 1" in client.get("/en/incubators/", {"batch": "1"}).content.decode()
    assert "第 1 批" in client.get("/incubators/", {"batch": "1"}).content.decode()


@pytest.mark.django_db
def test_the_home_page_names_the_service_centre_and_the_hub_with_its_published_centres(client):
    from transfers.models import TransferPlatform
    from xuhui_portal.models import PublicationState

    Kind = TransferPlatform.Kind
    centre = make_platform(name_zh="技术转移服务中心", kind=Kind.SERVICE_CENTRE)
    hub = make_platform(name_zh="转化枢纽", name_en="Transfer Hub", kind=Kind.HUB)
    for _ in range(3):
        make_platform(kind=Kind.CENTRE, parent=hub)
    make_platform(kind=Kind.CENTRE, parent=hub, publication_state=PublicationState.DRAFT)
    make_platform(kind=Kind.CENTRE)  # a centre outside the hub
    html = client.get("/").content.decode()
    assert f'<a href="{centre.get_absolute_url()}">技术转移服务中心</a>' in html
    assert "Backed by the Transfer Hub with 3 transfer centres." in client.get("/en/").content.decode()


@pytest.mark.django_db
def test_the_home_page_is_read_once_per_content_version_and_shows_an_edit_at_once(client):
    def home() -> tuple[dict, int]:
        with CaptureQueriesContext(connection) as queries:
            context = client.get("/").context
        return context, len(queries)

    district = make_district(name_zh="枫林园区")
    make_incubator(district=district)
    make_institution()
    context, first = home()
    assert context["counts"] == {"incubators": 1, "institutions": 1, "projects": 0}
    assert first > 1
    context, again = home()
    assert again == 1  # the content version; the rest is held by the process
    assert [d.name_zh for d in context["districts"]] == ["枫林园区"]

    draft = make_incubator(district=district, publication_state=PublicationState.DRAFT)
    make_institution()
    make_project(district=district)
    assert home()[0]["counts"] == {"incubators": 1, "institutions": 2, "projects": 1}
    draft.publication_state = PublicationState.PUBLISHED
    draft.save()
    district.name_zh = "枫林生命健康园区"
    district.save()
    context, _queries = home()
    assert context["counts"]["incubators"] == 2
    assert [(d.name_zh, d.n_incubators, d.n_projects) for d in context["districts"]] == [
        ("枫林生命健康园区", 2, 1)
    ]
    assert "枫林生命健康园区" in client.get("/").content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/en/",
        "/projects/?q=%E7%BB%86%E8%83%9E&stage=transferred",
        "/en/incubators/?district=unknown&page=1",
        "{project}",
        "/en{project}",
    ],
)
def test_language_links_lead_to_the_same_page_in_each_language(client, path):
    path = path.format(project=make_project(slug="cell-therapy").get_absolute_url())
    page = client.get(path).content.decode()
    alternates = dict(re.findall(r'<link rel="alternate" hreflang="([^"]+)" href="([^"]+)">', page))
    expected = {
        code: translate_url(path, language) for code, language in (("zh-Hans", "zh-hans"), ("en", "en"))
    }
    assert {code: html.unescape(url) for code, url in alternates.items()} == {
        code: f"http://testserver{url}" for code, url in expected.items()
    }
    assert expected["zh-Hans"] != expected["en"]
    switch = re.search(r'<p class="language-switch">\s*<a href="([^"]+)"', page).group(1)
    assert html.unescape(switch) == expected["zh-Hans" if path.startswith("/en/") else "en"]


@pytest.mark.django_db
def test_the_site_header_is_each_languages_own(client):
    """The header's navigation is a fragment kept per process and language."""

    def nav(path):
        page = client.get(path).content.decode()
        return re.search(r'<nav aria-label="[^"]+">.*?</nav>', page, re.S).group(0)

    chinese, english = nav("/"), nav("/en/projects/")
    assert '<a href="/projects/">转化项目</a>' in chinese
    assert '<a href="/en/projects/">Projects</a>' in english
    assert nav("/incubators/") == chinese and nav("/en/") == english


@pytest.mark.django_db
def test_the_filter_form_shows_what_was_submitted_escaped(client):
    page = client.get(
        "/projects/", {"q": '"><script>', "year_min": "2001", "amount_max": "x", "stage": "transferred"}
    ).content.decode()
    assert 'name="q" value="&quot;&gt;&lt;script&gt;"' in page
    assert 'name="year_min" value="2001"' in page
    assert 'name="amount_max" value="x"' in page  # invalid: shown as typed, explained above the list
    assert 'name="year_max" value=""' in page
    assert 'name="q" value=""' in client.get("/incubators/").content.decode()
