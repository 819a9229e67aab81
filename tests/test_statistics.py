"""The ecosystem at a glance: charts equal the database, SVGs are well-formed, links resolve."""

import csv
import io
import re
import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import resolve

from xuhui_portal import statistics
from xuhui_portal.models import PublicationState

from .factories import make_district, make_field, make_incubator, make_institution, make_project

pytestmark = pytest.mark.django_db
SVG = "{http://www.w3.org/2000/svg}"


def bars(chart) -> dict[str, object]:
    return {bar.label: bar.value for bar in chart.bars}


def svgs(html: str) -> list[ET.Element]:
    return [ET.fromstring(block) for block in re.findall(r"<svg.*?</svg>", html, re.S)]


@pytest.fixture
def data():
    west = make_district(slug="west", short_name_zh="西岸", display_order=1)
    fenglin = make_district(slug="fenglin", short_name_zh="枫林", display_order=2)
    ai = make_field(name_zh="人工智能", slug="ai")
    make_incubator(district=west)
    make_incubator(district=west)
    make_incubator(district=None)
    make_incubator(district=fenglin, publication_state=PublicationState.DRAFT)
    make_project(
        year=2021,
        stage="transferred",
        transfer_mode="licence",
        transfer_amount_wan=Decimal("100"),
        fields_=[ai],
    )
    make_project(year=2021, stage="incubating", transfer_mode="licence", transfer_amount_wan=None)
    make_project(year=2023, stage="transferred", transfer_mode="equity", transfer_amount_wan=Decimal("0"))
    make_project(year=None, stage="transferred", transfer_mode="", transfer_amount_wan=Decimal("50"))
    make_institution(kind="hospital")
    return {"west": west, "fenglin": fenglin, "ai": ai}


def test_charts_count_published_records(data):
    assert bars(statistics.incubators_by_district()) == {"西岸": 2, "枫林": 0, "街区未知": 1}
    assert bars(statistics.projects_by_year()) == {"2021": 2, "2023": 1}
    assert bars(statistics.projects_by_stage())["已转化"] == 3
    assert bars(statistics.projects_by_field()) == {"人工智能": 1}
    assert bars(statistics.institutions_by_kind()) == {"医院": 1}


def test_amounts_never_mix_undisclosed_with_zero(data):
    chart = statistics.amounts_by_mode()
    assert bars(chart) == {"许可": Decimal("100"), "作价入股": Decimal("0")}
    # 4 projects: one undisclosed amount, one disclosed amount without a mode.
    assert "2" in chart.coverage and "4" in chart.coverage


def test_a_change_in_the_database_changes_the_chart(data, client):
    before = client.get("/statistics/incubators-by-district.csv").content.decode()
    make_incubator(district=data["fenglin"])
    after = client.get("/statistics/incubators-by-district.csv").content.decode()
    assert "枫林,0," in before and "枫林,1," in after


def test_the_statistics_page_is_read_once_per_content_version_and_language(data, client):
    assert "枫林" in client.get("/statistics/").content.decode()
    with CaptureQueriesContext(connection) as queries:
        client.get("/statistics/")
    assert len(queries) == 1  # the content version
    english = client.get("/en/statistics/").content.decode()
    assert 'href="/en/incubators/?district=' in english and 'href="/incubators/?district=' not in english

    data["fenglin"].short_name_zh = "枫林生命健康街区"
    data["fenglin"].save()
    make_incubator(district=data["fenglin"])
    response = client.get("/statistics/")
    chart = next(c for c in response.context["charts"] if c.chart.slug == "incubators-by-district")
    assert {bar.label: bar.value for bar in chart.chart.bars}["枫林生命健康街区"] == 1
    # The markup rendered ahead follows too: the map's label and the chart's bar.
    assert response.content.decode().count("枫林生命健康街区") >= 2


def test_every_bar_links_to_the_list_it_counts(data, client):
    for chart in statistics.all_charts():
        for bar in chart.bars:
            path, _, query = bar.url.partition("?")
            resolve(path)
            response = client.get(bar.url)
            assert response.status_code == 200, bar.url
            if chart.slug != "amounts-by-mode":
                assert response.context["result_count"] == bar.value, (chart.slug, bar.label)


def test_statistics_page_svgs_are_well_formed_and_described(client):
    call_command("load_portal_data", verbosity=0)
    response = client.get("/statistics/")
    assert response.status_code == 200
    html = response.content.decode()
    drawings = svgs(html)
    drawn = [chart for chart in statistics.all_charts() if chart.bars]  # the news data has no project years
    assert len(drawings) == len(drawn) + 1  # the charts and the map
    for svg in drawings:
        assert svg.find(f"{SVG}title").text.strip()
        assert svg.find(f"{SVG}desc").text.strip()
        assert set(svg.get("aria-labelledby").split()) == {
            svg.find(f"{SVG}title").get("id"),
            svg.find(f"{SVG}desc").get("id"),
        }
    assert "近5.2亿元" in html and "S1" in html
    assert html.count("<table") == len(statistics.CHARTS)


def test_map_links_every_district_and_says_it_is_schematic(client):
    call_command("load_portal_data", verbosity=0)
    html = client.get("/statistics/").content.decode()
    [map_svg] = [svg for svg in svgs(html) if "map" in svg.find(f"{SVG}title").get("id")]
    links = [a.get("href") for a in map_svg.iter(f"{SVG}a")]
    assert len(links) == 5  # the sixth district's place is not given in the sources: listed below it
    for link in links:
        assert client.get(link).status_code == 200
    assert "视听器械" in html.split("</svg>")[-1] or "视听器械" in html
    assert "示意" in html or "Schematic" in html


def test_chart_csv(data, client):
    response = client.get("/statistics/projects-by-year.csv")
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text[1:])))
    assert [(row["category"], row["value"]) for row in rows] == [("2021", "2"), ("2023", "1")]
    assert client.get("/statistics/no-such-chart.csv").status_code == 404


def test_timeline_newest_first_with_sources(client):
    call_command("load_portal_data", verbosity=0)
    html = client.get("/timeline/").content.decode()
    dates = re.findall(r'<time datetime="([\d-]+)"', html)
    assert dates == sorted(dates, reverse=True) and len(dates) == 7
    assert "2018" in html and "S1" in html


def test_district_page_has_a_summary_strip_and_a_small_chart(client, data):
    make_project(district=data["west"], stage="incubating")
    html = client.get("/districts/west/").content.decode()
    assert 'class="summary-strip"' in html
    [chart] = svgs(html)
    assert chart.find(f"{SVG}title").text
    assert "/projects/?stage=incubating&amp;district=west" in html


def test_a_district_chart_counts_its_published_projects_per_stage(data):
    west = data["west"]
    make_project(district=west, stage="incubating")
    make_project(district=west, stage="incubating")
    make_project(district=west, stage="transferred")
    make_project(district=west, stage="transferred", publication_state=PublicationState.DRAFT)
    make_project(district=data["fenglin"], stage="industrialised")
    counts = {bar.label: bar.value for bar in statistics.district_stage_chart(west).bars if bar.value}
    assert counts == {"孵化中": 2, "已转化": 1}


def test_print_stylesheet_hides_navigation():
    css = open("static/css/portal.css", encoding="utf-8").read()
    print_rules = css.split("@media print")[1]
    for selector in (".site-header", ".site-footer", ".list-filters"):
        assert selector in print_rules
