"""Template helpers that list pages call on every card: the same output as the plain way."""

import pytest
from django import forms
from django.template.defaultfilters import truncatechars
from django.test import RequestFactory, override_settings
from django.urls import NoReverseMatch, include, path, reverse, set_script_prefix, translate_url
from django.utils.html import strip_tags
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import override

from xuhui_portal.reversing import AbsoluteRecordUrls, record_url, translated_url
from xuhui_portal.templatetags.portal import (
    highlight,
    incubator_card,
    incubator_facts,
    project_card,
    project_facts,
    select_options,
    shortened,
)

from .factories import (
    make_district,
    make_field,
    make_incubator,
    make_institution,
    make_platform,
    make_project,
)

#: A URL configuration with the project pages elsewhere (for the settings-change test).
urlpatterns = [path("elsewhere/", include("transfers.urls"))]


@pytest.mark.parametrize("query", ["", "   ", "!!"])
def test_highlight_without_terms_escapes_once(query):
    marked = highlight('<b>"A" & 磁波</b>', query)
    assert isinstance(marked, SafeString)
    assert marked == "&lt;b&gt;&quot;A&quot; &amp; 磁波&lt;/b&gt;"


def test_highlight_marks_every_term_longest_first_across_scripts():
    marked = highlight("磁波刀 Magnetic 磁波 <x>", "磁波刀 磁波 MAGNET")
    assert marked == "<mark>磁波刀</mark> <mark>Magnet</mark>ic <mark>磁波</mark> &lt;x&gt;"
    # Traditional text is matched by a Simplified query, and the other way round.
    assert highlight("精準無創", "精准") == "<mark>精準</mark>無創"
    assert highlight("精准无创", "無創") == "精准<mark>无创</mark>"


@pytest.mark.django_db
def test_record_urls_are_what_reverse_gives_in_each_language():
    records = [
        (make_district(slug="west-bund"), "districts:detail", {"slug": "west-bund"}),
        (make_institution(slug="fudan"), "districts:institution-detail", None),
        (make_incubator(slug="inno_1"), "incubators:detail", None),
        (make_platform(slug="hub"), "transfers:platform-detail", None),
        (make_project(slug="p-1"), "transfers:project-detail", None),
    ]
    for language in ["zh-hans", "en"]:
        with override(language):
            for record, viewname, kwargs in records:
                kwargs = kwargs or {"pk": record.pk, "slug": record.slug}
                assert record.get_absolute_url() == reverse(viewname, kwargs=kwargs)
    with override("en"):
        assert make_project(slug="p-2").get_absolute_url().startswith("/en/projects/")


@pytest.mark.django_db
def test_record_urls_follow_the_script_prefix_and_url_settings():
    project = make_project(slug="p-1")
    with override("zh-hans"):
        plain = project.get_absolute_url()
        set_script_prefix("/portal/")
        try:
            assert project.get_absolute_url() == "/portal" + plain
        finally:
            set_script_prefix("/")
        assert project.get_absolute_url() == plain
        with override_settings(ROOT_URLCONF=__name__):
            assert project.get_absolute_url() == f"/elsewhere/projects/{project.pk}-p-1/"
        assert project.get_absolute_url() == plain


def test_arguments_a_template_cannot_hold_go_through_reverse():
    with pytest.raises(NoReverseMatch):
        record_url("transfers:project-detail", pk=1, slug="not a slug")
    with override("en"):
        assert record_url("transfers:project-detail", pk=7, slug="a-b") == "/en/projects/7-a-b/"


@pytest.mark.parametrize("script_prefix", ["/", "/portal/"])
def test_absolute_record_urls_are_what_build_absolute_uri_gives(script_prefix):
    request = RequestFactory().get("/api/projects/", HTTP_HOST="testserver", secure=True)
    urls = AbsoluteRecordUrls(request)
    set_script_prefix(script_prefix)
    try:
        for language in ["zh-hans", "en", "zh-hans"]:  # a template per language, reused
            with override(language):
                for viewname, kwargs in [
                    ("api:project-detail", {"pk": 7}),
                    ("transfers:project-detail", {"pk": 7, "slug": "a-b"}),
                    ("districts:detail", {"slug": "west-bund"}),
                ]:
                    expected = request.build_absolute_uri(reverse(viewname, kwargs=kwargs))
                    assert urls(viewname, **kwargs) == expected
                    assert expected.startswith("https://testserver" + script_prefix)
    finally:
        set_script_prefix("/")
    with pytest.raises(NoReverseMatch):  # what a template cannot hold goes through reverse()
        urls("transfers:project-detail", pk=1, slug="not a slug")


@pytest.mark.parametrize("script_prefix", ["/", "/portal/"])
def test_translated_urls_are_what_translate_url_gives(script_prefix):
    """Remembered per path, they still follow the active language, the prefix and the query."""
    paths = [
        "/projects/?q=%E7%BB%86%E8%83%9E&stage=transferred",
        "/projects/?page=2",
        "/en/projects/?page=2",
        "/",
        "/en/",
        "/projects/7-a-b/",
        "/en/incubators/?district=west-bund&district=caohejing",
        "/no-such-page/?x=1",
        "/en/no-such-page/",
    ]
    set_script_prefix(script_prefix)
    try:
        for language in ["zh-hans", "en", "zh-hans"]:
            with override(language):
                for url in paths:
                    for target in ["zh-hans", "en"]:
                        assert translated_url(url, target) == translate_url(url, target), (language, url)
    finally:
        set_script_prefix("/")
    with override("zh-hans"):
        assert translated_url("/projects/?page=2", "en") == "/en/projects/?page=2"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "细胞治疗",
        "细" * 140,
        "细" * 141,
        "e\u0301" * 100 + "x" * 60,  # combining accents: not counted, composed by NFC
        "e\u0301" * 150,
        "A\u030a" + "b" * 139,  # 141 characters before NFC, 140 after: it fits
        "Cafe\u0301",  # short, but not NFC
        mark_safe("<b>" + "细" * 200 + "</b>"),
        None,
    ],
)
def test_shortened_is_truncatechars(text):
    assert shortened(text, 140) == truncatechars(text, 140)
    assert isinstance(shortened(text, 140), SafeString) == isinstance(truncatechars(text, 140), SafeString)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("zh-hans", ["已转化 · 许可 · 2024 · 2.37亿元 · 甲<中心>", "孵化中 · 未披露"]),
        ("en", ["Transferred · Licence · 2024 · 237 million yuan · A<Centre>", "Incubating · not disclosed"]),
    ],
)
def test_a_project_cards_facts_are_those_it_has(language, expected):
    platform = make_platform(name_zh="甲<中心>", name_en="A<Centre>")
    complete = make_project(
        stage="transferred",
        transfer_mode="licence",
        year=2024,
        transfer_amount_wan="23700",
        platform=platform,
    )
    bare = make_project(stage="incubating", transfer_mode="", year=None, transfer_amount_wan=None)
    with override(language):
        assert [project_facts(project) for project in (complete, bare)] == expected


@pytest.mark.django_db
def test_a_project_card_links_marks_and_escapes():
    field = make_field(name_zh="<生物>医药")
    project = make_project(
        name_zh="<b>细胞</b>治疗",
        summary_zh="一种" + "细胞" * 80,
        stage="transferred",
        transfer_mode="",
        year=None,
        transfer_amount_wan=None,
        fields_=[field],
    )
    project.field_names = ["<生物>医药"]
    card = project_card(project, "细胞")
    assert isinstance(card, SafeString)
    assert card.startswith(f'<li class="card">\n<h3><a href="{project.get_absolute_url()}">')
    assert "&lt;b&gt;<mark>细胞</mark>&lt;/b&gt;治疗</a></h3>" in card
    assert '<p class="muted">已转化 · 未披露</p>' in card
    summary = card.split('<p class="muted">')[1].split("<p>")[1].split("</p>")[0]
    assert summary == highlight(shortened(project.summary_zh, 140), "细胞")
    assert summary.startswith("一种<mark>细胞</mark>") and len(strip_tags(summary)) == 140
    assert '<ul class="tags"><li>&lt;生物&gt;医药</li></ul></li>' in card
    project.summary_zh, project.field_names = "", []
    assert project_card(project, "") == (
        f'<li class="card">\n<h3><a href="{project.get_absolute_url()}">&lt;b&gt;细胞&lt;/b&gt;治疗</a></h3>\n'
        '<p class="muted">已转化 · 未披露</p>\n</li>'
    )


@pytest.mark.django_db
def test_an_incubator_card_links_marks_and_escapes():
    incubator = make_incubator(name_zh="<i>漕河泾</i>孵化器", district=None, status="operating")
    incubator.field_names = []
    assert incubator_card(incubator, "孵化") == (
        f'<li class="card">\n<h3><a href="{incubator.get_absolute_url()}">&lt;i&gt;漕河泾&lt;/i&gt;'
        '<mark>孵化</mark>器</a></h3>\n<p class="muted">街区未知 · 运营中</p>\n</li>'
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "zh-hans",
            ["枫林 · 运营中 · 区级高质量孵化器 (第 2 批) · 18,800 m²", "街区未知 · 未知 · 市级高质量孵化器"],
        ),
        (
            "en",
            [
                "Fenglin · Operating · District-level high-quality incubator (batch 2) · 18,800 m²",
                "District unknown · Unknown · Municipal high-quality incubator",
            ],
        ),
    ],
)
def test_an_incubator_cards_facts_are_those_it_has(language, expected):
    fenglin = make_district(short_name_zh="枫林", short_name_en="Fenglin")
    complete = make_incubator(
        district=fenglin,
        status="operating",
        recognition="district_hq",
        recognition_batch=2,
        floor_area_m2=18800,
    )
    bare = make_incubator(district=None, status="unknown", recognition="municipal_hq")
    with override(language):
        assert [incubator_facts(incubator) for incubator in (complete, bare)] == expected


@pytest.mark.django_db
def test_a_cards_facts_are_escaped_on_the_page(client):
    make_project(platform=make_platform(name_zh="甲<script>中心"))
    html = client.get("/projects/").content.decode()
    assert "甲&lt;script&gt;中心" in html and "甲<script>" not in html


def test_select_options_mark_the_submitted_value_and_escape():
    class SortForm(forms.Form):
        ordering = forms.ChoiceField(choices=[("", "Default"), ("a&b", "<A & B>"), ("-year", "Year")])

    assert select_options(SortForm({"ordering": "a&b"})["ordering"]) == (
        '<option value="">Default</option>'
        '<option value="a&amp;b" selected>&lt;A &amp; B&gt;</option>'
        '<option value="-year">Year</option>'
    )
    assert " selected" not in select_options(SortForm({})["ordering"])


@pytest.mark.django_db
def test_the_sort_menu_follows_the_language_and_the_request(client):
    page = client.get("/en/projects/", {"ordering": "-year"}).content.decode()
    assert '<option value="-year" selected>Year (descending)</option>' in page
    assert '<option value="">Default order</option>' in page
