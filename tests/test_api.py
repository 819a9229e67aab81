"""Open data: JSON API, CSV export, Atom feed, sitemap, robots.txt, structured data."""

import csv
import io
import json
import re
import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.http import StreamingHttpResponse
from django.urls import resolve
from django.utils import timezone
from rest_framework import serializers
from rest_framework.reverse import reverse
from rest_framework.test import APIRequestFactory

from incubators.models import Incubator
from transfers.api import PlatformSerializer
from transfers.models import TransferProject
from xuhui_portal.api import ReadPlanMixin
from xuhui_portal.models import PublicationState
from xuhui_portal.throttling import AnonymousApiThrottle

from .factories import make_district, make_field, make_incubator, make_project, make_source

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


@pytest.fixture
def portal_data():
    call_command("load_portal_data", verbosity=0)


RESOURCES = [
    "districts",
    "incubators",
    "institutions",
    "platforms",
    "projects",
    "indicators",
    "fields",
    "sources",
]


@pytest.mark.parametrize("resource", [*RESOURCES, "milestones"])
def test_every_list_and_detail(client, portal_data, resource):
    listing = client.get(f"/api/{resource}/")
    assert listing.status_code == 200
    body = listing.json()
    assert {"count", "next", "previous", "results"} <= body.keys()
    assert len(body["results"]) == min(body["count"], 20) > 0
    first = body["results"][0]
    assert client.get(first["url"]).json() == first


def test_pagination_links_and_page_size(client, db):
    for n in range(5):
        make_incubator(name_zh=f"孵化器{n}")
    first = client.get("/api/incubators/", {"page_size": 2}).json()
    assert first["count"] == 5 and len(first["results"]) == 2
    assert first["previous"] is None and "page=2" in first["next"]
    last = client.get(first["next"]).json()
    assert last["previous"] is not None


def test_records_link_by_id_and_url_not_by_nesting(client, portal_data):
    incubator = client.get("/api/incubators/4/").json()
    assert incubator["district"] == 1
    assert incubator["district_url"].endswith("/api/districts/1/")
    assert incubator["web_url"].endswith("/incubators/4-modelspeed-space/")
    assert incubator["focus_fields"] == ["ai-large-models"]
    assert incubator["sources"] == ["S3"]
    project = client.get("/api/projects/1/").json()
    assert project["transfer_amount_wan"] is None
    assert project["platform_url"].endswith("/api/platforms/2/")


@pytest.mark.parametrize("resource", [*RESOURCES, "milestones"])
def test_links_are_what_drf_reverses_and_keep_a_format_override(client, portal_data, resource):
    """Links are filled into a URL template per pattern (RecordLinkField): the same as DRF's."""
    view_names = {}
    for record in client.get(f"/api/{resource}/").json()["results"]:
        for name, value in record.items():
            if (name == "url" or name.endswith("_url")) and name != "web_url" and value:
                path = value.removeprefix("http://testserver")
                match = resolve(path)
                view_names[name] = f"{match.namespace}:{match.url_name}"
                request = APIRequestFactory().get(f"/api/{resource}/")
                assert value == reverse(view_names[name], kwargs=match.kwargs, request=request)
    assert "url" in view_names
    # ?format=json: DRF carries the override into every link, and still does here.
    record = client.get(f"/api/{resource}/", {"format": "json"}).json()["results"][0]
    assert record["url"].endswith("?format=json")


@pytest.mark.parametrize("resource", ["districts", "incubators", "institutions", "platforms", "projects"])
def test_records_are_what_drf_itself_would_give(client, portal_data, monkeypatch, resource):
    """ReadPlanMixin builds fields once per class and reads columns directly: same output as DRF's."""
    district = make_district(slug="bare")
    make_incubator(district=None, floor_area_m2=None)
    make_project(district=district, platform=None, transfer_amount_wan=Decimal("1200.50"), year=None)
    make_project(summary_zh="", team_lead="", financing_wan=Decimal("0"))
    for params in ({"page_size": 100}, {"page_size": 100, "format": "json"}):
        planned = [client.get(f"/api/{resource}/", params).json() for _ in range(2)]
        with monkeypatch.context() as drf_itself:
            drf_itself.setattr(ReadPlanMixin, "get_fields", serializers.ModelSerializer.get_fields)
            drf_itself.setattr(ReadPlanMixin, "to_representation", serializers.Serializer.to_representation)
            expected = client.get(f"/api/{resource}/", params).json()
        assert planned == [expected, expected]
        assert expected["results"]


def test_each_serializer_binds_fields_of_its_own(rf):
    first, second = PlatformSerializer(context={"request": rf.get("/")}), PlatformSerializer()
    for name in ("url", "district", "partners"):
        assert first.fields[name] is not second.fields[name]
        assert first.fields[name].parent is first and second.fields[name].parent is second
    assert first.fields["partners"].child.root is first


def test_only_published_records(client, db):
    draft = make_incubator(publication_state=PublicationState.DRAFT)
    make_incubator()
    assert client.get("/api/incubators/").json()["count"] == 1
    assert client.get(f"/api/incubators/{draft.pk}/").status_code == 404


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("incubators", {"district": ["west", "unknown"]}),
        ("incubators", {"field": ["ai"], "status": "operating"}),
        ("incubators", {"q": "孵化", "ordering": "-area"}),
        ("projects", {"q": "细胞", "year_min": "2020"}),
        ("projects", {"stage": "incubating", "ordering": "-amount"}),
        ("institutions", {"kind": "university", "district": "west"}),
    ],
)
def test_a_filter_gives_the_same_records_on_the_page_and_in_the_api(client, db, path, params):
    ai = make_field(slug="ai")
    west = make_district(slug="west")
    for n in range(6):
        make_incubator(
            name_zh=f"孵化器{n}",
            district=west if n % 2 else None,
            focus_fields=[ai] if n % 3 else [],
            floor_area_m2=100 * n or None,
        )
        make_project(name_zh=f"细胞项目{n}", year=2018 + n, stage="incubating" if n % 2 else "transferred")
    page = client.get(f"/{path}/", params)
    page_ids = [record.pk for record in page.context["paginator"].object_list]
    api_ids = [
        record["id"] for record in client.get(f"/api/{path}/", {**params, "page_size": 100}).json()["results"]
    ]
    assert page_ids == api_ids
    assert api_ids or path == "institutions"


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"district": "nowhere"}, "district"),
        ({"page": "abc"}, "page"),
        ({"page": "0"}, "page"),
        ({"page_size": "1000"}, "page_size"),
        ({"ordering": "secret"}, "ordering"),
        ({"q": "x" * 300}, "q"),
        ({"q": "磁\x00波"}, "q"),
        ({"batch": "one"}, "batch"),
    ],
)
def test_bad_parameters_are_400_naming_the_parameter(client, db, params, parameter):
    response = client.get("/api/incubators/", params)
    assert response.status_code == 400
    assert parameter in response.json()


@pytest.mark.parametrize(
    ("params", "parameter"),
    [({"year_min": "2025", "year_max": "2020"}, "year_max"), ({"amount_min": "x"}, "amount_min")],
)
def test_bad_ranges_are_400(client, db, params, parameter):
    response = client.get("/api/projects/", params)
    assert response.status_code == 400 and parameter in response.json()


def test_a_page_beyond_the_last_is_404(client, db):
    assert client.get("/api/incubators/", {"page": "999"}).status_code == 404


def test_api_messages_are_english_unless_chinese_is_asked_for(client, db):
    english = client.get("/api/incubators/", {"page": "abc"}).json()["page"][0]
    chinese = client.get("/api/incubators/", {"page": "abc"}, HTTP_ACCEPT_LANGUAGE="zh-hans").json()["page"][
        0
    ]
    assert english.startswith("A page number")
    assert english != chinese


@pytest.mark.django_db
def test_linked_fields_and_sources_follow_display_order_and_edits(client):
    from datetime import date

    later = make_field(slug="later", display_order=2)
    first = make_field(slug="first", display_order=1)
    old = make_source(key="OLD", published_on=date(2020, 1, 1))
    new = make_source(key="NEW", published_on=date(2024, 1, 1))
    project = make_project(fields_=[later, first], sources=[new, old])
    incubator = make_incubator(focus_fields=[later, first], sources=[new, old])
    for url in (f"/api/projects/{project.pk}/", f"/api/incubators/{incubator.pk}/"):
        record = client.get(url).json()
        assert (record.get("fields") or record["focus_fields"]) == ["first", "later"]
        assert record["sources"] == ["OLD", "NEW"]
    [listed] = client.get("/api/projects/").json()["results"]
    assert (listed["fields"], listed["sources"]) == (["first", "later"], ["OLD", "NEW"])
    later.display_order = 0
    later.slug = "now-first"
    later.save()
    assert client.get(f"/api/projects/{project.pk}/").json()["fields"] == ["now-first", "first"]
    project.fields.remove(first)
    assert client.get(f"/api/projects/{project.pk}/").json()["fields"] == ["now-first"]


class TestCsv:
    def rows(self, response):
        text = b"".join(response.streaming_content).decode("utf-8")
        assert text.startswith("\ufeff")
        return list(csv.DictReader(io.StringIO(text[1:])))

    def test_streamed_utf8_with_bom_and_the_same_filter(self, client, portal_data):
        response = client.get("/api/projects/csv/", {"q": "精準無創"})
        assert isinstance(response, StreamingHttpResponse)
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        assert "attachment" in response["Content-Disposition"]
        [row] = self.rows(response)
        assert row["name_zh"] == "新一代国产相控“磁波刀”AI精准无创治疗技术"
        assert row["fields"] == "medical-devices; medical-ai"
        assert row["transfer_amount_wan"] == ""

    def test_page_links_to_the_csv_of_its_filters(self, client, portal_data):
        html = client.get("/incubators/", {"district": "west-bund", "page": "1"}).content.decode()
        [link] = re.findall(r'href="(/api/incubators/csv/[^"]*)"', html)
        assert link == "/api/incubators/csv/?district=west-bund"
        rows = self.rows(client.get(link.replace("&amp;", "&")))
        assert [row["name_zh"] for row in rows] == ["模速空间"]

    def test_large_exports_use_a_constant_number_of_queries(self, client, db, django_assert_max_num_queries):
        for n in range(30):
            make_project(name_zh=f"项目{n}", fields_=[make_field()])
        client.get("/api/projects/csv/")  # the project index is built once per content version
        with django_assert_max_num_queries(8):
            rows = self.rows(client.get("/api/projects/csv/"))
        assert len(rows) == 30


def test_atom_feed_lists_newly_published_projects_and_incubators(client, db):
    make_project(name_zh="最早的项目")
    make_incubator(name_zh="新孵化器")
    make_project(name_zh="草稿项目", publication_state=PublicationState.DRAFT)
    response = client.get("/feeds/latest.atom")
    assert response["Content-Type"].startswith("application/atom+xml")
    feed = ET.fromstring(response.content)
    assert feed.tag == f"{ATOM}feed"
    titles = [entry.find(f"{ATOM}title").text for entry in feed.findall(f"{ATOM}entry")]
    assert titles == ["新孵化器", "最早的项目"]
    entry = feed.find(f"{ATOM}entry")
    assert entry.find(f"{ATOM}link").get("href").startswith("http://testserver/incubators/")
    assert entry.find(f"{ATOM}published") is not None


def test_first_publication_date_is_kept(db):
    project = make_project()
    first = project.published_at
    project.publication_state = PublicationState.DRAFT
    project.save()
    project.publication_state = PublicationState.PUBLISHED
    project.save()
    assert project.published_at == first is not None
    draft = make_project(publication_state=PublicationState.DRAFT)
    assert draft.published_at is None


def test_sitemap_covers_every_public_page_in_both_languages(client, portal_data):
    make_incubator(name_zh="草稿", slug="a-draft", publication_state=PublicationState.DRAFT)
    index = ET.fromstring(client.get("/sitemap.xml").content)
    urls = []
    for location in index.iter(f"{SITEMAP}loc"):
        section = ET.fromstring(client.get(location.text.replace("http://testserver", "")).content)
        urls += [loc.text.replace("http://testserver", "") for loc in section.iter(f"{SITEMAP}loc")]
    for record in [*Incubator.objects.published(), *TransferProject.objects.published()]:
        assert record.get_absolute_url() in urls
        assert f"/en{record.get_absolute_url()}" in urls
    for page in ["/", "/incubators/", "/projects/", "/platforms/", "/institutions/", "/districts/fenglin/"]:
        assert page in urls
    assert not any("a-draft" in url for url in urls)


def test_robots_txt_points_to_the_sitemap(client, db):
    text = client.get("/robots.txt").content.decode()
    assert "Sitemap: http://testserver/sitemap.xml" in text
    assert "/admin" not in text


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("/institutions/3-fudan-shmc/", "CollegeOrUniversity"),
        ("/incubators/4-modelspeed-space/", "Organization"),
        ("/projects/1-phased-array-magnetic-wave-knife/", "Project"),
        ("/districts/fenglin/", "Place"),
    ],
)
def test_detail_pages_carry_json_ld_and_open_graph(client, portal_data, url, kind):
    html = client.get(url).content.decode()
    [block] = re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    data = json.loads(block)
    assert data["@context"] == "https://schema.org" and data["@type"] == kind
    assert data["url"] == f"http://testserver{url}"
    assert '<meta property="og:type" content="article">' in html
    assert f'<meta property="og:url" content="http://testserver{url}">' in html


def test_json_ld_cannot_break_out_of_its_script(client, db):
    incubator = make_incubator(name_zh="</script><script>alert(1)</script>")
    html = client.get(incubator.get_absolute_url()).content.decode()
    block = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S).group(1)
    assert "<" not in block and json.loads(block)["name"] == incubator.name_zh


def test_anonymous_clients_are_throttled_with_retry_after(client, db, settings, monkeypatch):
    settings.API_ANON_RATE = "3/minute"
    # Inside one window of the fixed-window count, wherever the clock is.
    monkeypatch.setattr(AnonymousApiThrottle, "timer", lambda self: 1_800_000_030.0)
    statuses = [client.get("/api/fields/").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = client.get("/api/fields/")
    assert int(response["Retry-After"]) > 0
    assert "detail" in response.json()


def test_schema_documents_filters_with_types_and_values(client, portal_data):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    parameters = {p["name"]: p for p in schema["paths"]["/api/incubators/"]["get"]["parameters"]}
    assert parameters["district"]["schema"]["items"]["enum"] == sorted(
        [
            "west-bund",
            "around-sjtu",
            "fenglin",
            "around-ecust",
            "caohejing",
            "audio-visual-devices",
            "unknown",
        ]
    )
    assert set(parameters["status"]["schema"]["items"]["enum"]) == {
        "operating",
        "preparing",
        "closed",
        "unknown",
    }
    assert parameters["page"]["schema"]["type"] == "integer"
    assert "429" in schema["paths"]["/api/incubators/"]["get"]["responses"]


def test_docs_use_self_hosted_assets(client, db):
    html = client.get("/api/docs/").content.decode()
    assert "/static/drf_spectacular_sidecar/" in html
    assert "cdn" not in html.lower() and "https://" not in html.replace("https://schema.org", "")


def test_the_throttle_window_resets(client, db, settings, monkeypatch):
    settings.API_ANON_RATE = "2/minute"
    now = [1_800_000_000.0]
    monkeypatch.setattr(AnonymousApiThrottle, "timer", lambda self: now[0])
    assert [client.get("/api/fields/").status_code for _ in range(3)] == [200, 200, 429]
    now[0] += 45
    response = client.get("/api/fields/")
    assert response.status_code == 429 and response["Retry-After"] == "15"
    now[0] += 15  # the next minute
    assert client.get("/api/fields/").status_code == 200


def test_sitemap_pages_hold_each_record_once_per_language(client, db, monkeypatch):
    from xuhui_portal.sitemaps import BilingualSitemap

    monkeypatch.setattr(BilingualSitemap, "limit", 3)  # 7 projects, 2 languages: 5 pages
    projects = [make_project() for _ in range(7)]
    index = ET.fromstring(client.get("/sitemap.xml").content)
    pages = [loc.text for loc in index.iter(f"{SITEMAP}loc") if "projects" in loc.text]
    assert len(pages) == 5
    urls = []
    for page in pages:
        section = ET.fromstring(client.get(page.replace("http://testserver", "")).content)
        urls += [loc.text.replace("http://testserver", "") for loc in section.iter(f"{SITEMAP}loc")]
    expected = [url for p in projects for url in (p.get_absolute_url(), f"/en{p.get_absolute_url()}")]
    assert urls == expected
    latest = timezone.localtime(max(p.updated_at for p in projects)).isoformat()
    assert latest in [node.text for node in index.iter(f"{SITEMAP}lastmod")]
