"""What a visitor and an editor do in a real browser, checked by what they see (text and URL).

Each test loads the portal's data set into the live server's database (`portal_data`), adds what
it needs with the factories, and drives headless Chromium through `page` (see conftest.py).
"""

import re

import pytest
from django.contrib.auth.models import User

from districts.models import InnovationDistrict
from incubators.models import Incubator
from tests.browser import REQUIRED, UNAVAILABLE
from tests.factories import make_incubator

try:
    from playwright.sync_api import expect
except ImportError:
    if REQUIRED:
        raise
    pytest.skip(UNAVAILABLE or "playwright is not installed: browser tests skipped", allow_module_level=True)

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("portal_data")]


def test_home_to_a_district_to_its_incubators(page):
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_have_text("徐汇创新生态门户")

    page.get_by_role("link", name=re.compile(r"^西岸")).first.click()
    expect(page).to_have_url(re.compile(r"/districts/west-bund/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("西岸大模型创新生态街区")
    incubators = page.get_by_role("region", name=re.compile("^孵化器"))
    expect(incubators.get_by_role("link", name="模速空间")).to_be_visible()

    page.get_by_role("link", name="按本街区筛选孵化器").click()
    expect(page).to_have_url(re.compile(r"/incubators/\?district=west-bund$"))
    expect(page.get_by_role("status")).to_have_text("1 个孵化器")
    expect(
        page.get_by_role("group", name="街区").get_by_role("checkbox", name=re.compile("^西岸"))
    ).to_be_checked()

    page.get_by_role("link", name="模速空间").click()
    expect(page).to_have_url(re.compile(r"/incubators/\d+-modelspeed-space/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("模速空间")
    expect(page.get_by_role("link", name="西岸大模型创新生态街区")).to_be_visible()


def test_filter_incubators_and_page_through_them(page):
    sjtu = InnovationDistrict.objects.get(slug="around-sjtu")
    for n in range(1, 26):
        make_incubator(name_zh=f"交大浏览器测试孵化器{n:02d}", district=sjtu)
    total = Incubator.objects.published().count()
    assert total == 29

    page.goto("/incubators/")
    summary = page.get_by_role("status")
    expect(summary).to_have_text(f"{total} 个孵化器")

    # Ticking a facet submits the form by itself (portal.js).
    district_facet = page.get_by_role("group", name="街区")
    district_facet.get_by_role("checkbox", name=re.compile("^环交大")).check()
    expect(page).to_have_url(re.compile(r"[?&]district=around-sjtu"))
    expect(summary).to_have_text("25 个孵化器")
    cards = page.locator(".list-results .card")
    expect(cards).to_have_count(20)
    expect(page.get_by_text("第 1 页，共 2 页")).to_be_visible()

    page.get_by_role("navigation", name="分页").get_by_role("link", name="下一页").click()
    expect(page).to_have_url(re.compile(r"[?&]page=2"))
    expect(page).to_have_url(re.compile(r"[?&]district=around-sjtu"))
    expect(summary).to_have_text("25 个孵化器")
    expect(page.get_by_text("第 2 页，共 2 页")).to_be_visible()
    expect(cards).to_have_count(5)
    expect(cards.get_by_role("link")).to_have_text([f"交大浏览器测试孵化器{n}" for n in range(21, 26)])
    expect(page.get_by_role("link", name="上一页")).to_be_visible()

    # Without the automatic submission, the 应用筛选 button does the same: add a second district.
    page.goto("/incubators/?district=around-sjtu")
    page.evaluate("document.querySelector('form[data-auto-submit]').removeAttribute('data-auto-submit')")
    district_facet.get_by_role("checkbox", name=re.compile("^西岸")).check()
    expect(page).to_have_url(re.compile(r"/incubators/\?district=around-sjtu$"))
    page.get_by_role("button", name="应用筛选").click()
    expect(page).to_have_url(re.compile(r"[?&]district=west-bund"))
    expect(page).to_have_url(re.compile(r"[?&]district=around-sjtu"))
    expect(summary).to_have_text("26 个孵化器")


def test_search_from_the_header_and_open_the_project(page):
    page.goto("/incubators/")
    search_box = page.get_by_role("banner").get_by_role("searchbox", name="站内搜索")
    search_box.fill("磁波")
    search_box.press("Enter")

    expect(page).to_have_url(re.compile(r"/search/\?q=%E7%A3%81%E6%B3%A2$"))
    expect(page.get_by_role("status")).to_contain_text("磁波")
    result = page.locator(".result-list").get_by_role("link", name=re.compile("磁波刀"))
    expect(result).to_have_count(1)
    result.click()

    expect(page).to_have_url(re.compile(r"/projects/\d+-phased-array-magnetic-wave-knife/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("磁波刀")


def test_switch_to_english_and_back(page):
    # A Chinese-only record: in English its Chinese name stands in for the missing English one.
    make_incubator(
        name_zh="仅中文名孵化器", name_en="", district=InnovationDistrict.objects.get(slug="west-bund")
    )

    page.goto("/districts/west-bund/")
    expect(page.get_by_role("heading", level=1)).to_have_text("西岸大模型创新生态街区")
    page.get_by_role("banner").get_by_role("link", name="English").click()

    expect(page).to_have_url(re.compile(r"^https?://[^/]+/en/districts/west-bund/$"))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "West Bund Large-Model Innovation Ecosystem District"
    )
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Incubators")).to_be_visible()
    incubators = page.get_by_role("region", name=re.compile("^Incubators"))
    expect(incubators.get_by_role("link", name="ModelSpeed Space")).to_be_visible()
    expect(incubators.get_by_role("link", name="仅中文名孵化器")).to_be_visible()

    nav.get_by_role("link", name="Incubators").click()
    expect(page).to_have_url(re.compile(r"/en/incubators/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Incubators")
    expect(page.get_by_role("status")).to_have_text("5 incubators")

    page.get_by_role("banner").get_by_role("link", name="中文").click()
    expect(page).to_have_url(re.compile(r"^https?://[^/]+/incubators/$"))
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    expect(page.get_by_role("heading", level=1)).to_have_text("孵化器")


def test_admin_edit_shows_on_the_public_page(page, new_page, settings):
    settings.PAGE_CACHE_SECONDS = 600  # the suite turns the anonymous page cache off; this test needs it
    password = "browser-test-password-2024"
    User.objects.create_superuser("editor", "editor@example.org", password)
    incubator = Incubator.objects.get(slug="modelspeed-space")
    public_url = incubator.get_absolute_url()
    new_name = "ModelSpeed Space (edited in the browser)"

    # An anonymous visitor sees the page first, so a cached copy would exist if edits kept it.
    visitor = new_page()
    visitor.goto(public_url)
    expect(visitor.get_by_role("heading", level=1)).to_have_text("模速空间")
    expect(visitor.locator(".subtitle")).to_have_text("ModelSpeed Space")
    # Guard: the cache really is in play, or this test could not catch a stale page.
    assert visitor.reload().headers.get("x-cache") == "HIT"

    page.goto("/admin/login/")
    page.get_by_label("用户名").fill("editor")
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(re.compile(r"/admin/$"))

    page.goto("/admin/incubators/incubator/")
    page.get_by_role("link", name="模速空间", exact=True).click()
    expect(page).to_have_url(re.compile(rf"/admin/incubators/incubator/{incubator.pk}/change/$"))
    name_en = page.get_by_label("名称（英文）")
    expect(name_en).to_have_value("ModelSpeed Space")
    name_en.fill(new_name)
    page.get_by_role("button", name="保存", exact=True).first.click()

    expect(page).to_have_url(re.compile(r"/admin/incubators/incubator/$"))
    expect(page.locator(".messagelist")).to_contain_text("模速空间")
    incubator.refresh_from_db()
    assert incubator.name_en == new_name

    # The editor, still logged in, and a new anonymous visitor both see the new name.
    page.goto(public_url)
    expect(page.get_by_role("heading", level=1)).to_have_text("模速空间")
    expect(page.locator(".subtitle")).to_have_text(new_name)

    visitor.goto(public_url)
    expect(visitor.locator(".subtitle")).to_have_text(new_name)
    stranger = new_page()
    stranger.goto(public_url)
    expect(stranger.locator(".subtitle")).to_have_text(new_name)
