"""Browser tests: Playwright for Python drives Debian's headless Chromium against pytest-django's live server.

Only the system Chromium is used (/usr/bin/chromium, or $CHROMIUM); Playwright never downloads a
browser here. Without it every browser test is skipped, with the reason repeated at the end of the
run, unless REQUIRE_BROWSER_TESTS=1 (CI), which makes them fail instead.

Every test gets its own browser context and page; all console messages and page errors are kept,
and a test fails if any of its pages reported a Content Security Policy violation or an uncaught
error. A failing test leaves a full-page screenshot and its console log in test-artifacts/browser/.
"""

import re
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import override_settings

from tests.browser import CHROMIUM, REQUIRED, UNAVAILABLE

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    # The machine has no network but the loopback: nothing in Chromium should try to reach out.
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DEFAULT_TIMEOUT_MS = 10_000


def pytest_configure(config):
    config.addinivalue_line("markers", "browser: drives a real browser (headless Chromium via Playwright)")


@pytest.hookimpl(trylast=True)
def pytest_terminal_summary(terminalreporter):
    """Say at the end of the run, not only with -rs, that the browser tests did not run and why."""
    if UNAVAILABLE is not None and not REQUIRED:
        terminalreporter.write_sep("-", UNAVAILABLE, yellow=True, bold=True)


@pytest.fixture(scope="session", autouse=True)
def _browser_available():
    if UNAVAILABLE is not None:
        if REQUIRED:
            pytest.fail(
                f"REQUIRE_BROWSER_TESTS=1, but {UNAVAILABLE.replace(' skipped', ' cannot run')}",
                pytrace=False,
            )
        pytest.skip(UNAVAILABLE)


@pytest.fixture(scope="session", autouse=True)
def _live_server_over_plain_http(_browser_available, request):
    """Starts the live server with SECURE_SSL_REDIRECT off: it speaks plain HTTP (TLS is the proxy's job).

    The suite's settings fixture turns the redirect off for each test, but SecurityMiddleware reads
    the setting once, when the live server (one per session) builds its handler: it must be off then.
    So does WhiteNoise its own settings: it serves static files from the source folders here too, as
    in the rest of the suite (a clean clone has no collectstatic output).
    """
    with override_settings(
        SECURE_SSL_REDIRECT=False, WHITENOISE_AUTOREFRESH=True, WHITENOISE_USE_FINDERS=True
    ):
        request.getfixturevalue("live_server")


@pytest.fixture(scope="package")
def browser(_browser_available):
    """One Chromium for all browser tests, closed after the last of them.

    Package rather than session scope: while Playwright's sync API is started, its event loop counts
    as running in the test thread, and the tests after this package must not see that.

    Django refuses ORM calls from a thread with a running event loop (SynchronousOnlyOperation), and
    here that thread is the test's own: loading data, creating users and flushing the database
    between tests all happen in it while Playwright is started. Nothing async touches the database
    here, so Django's check is relaxed (DJANGO_ALLOW_ASYNC_UNSAFE) for exactly as long as Playwright
    runs. The live server answers in its own thread, where no loop runs.
    """
    from playwright.sync_api import sync_playwright

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
            yield chromium
            chromium.close()


class ConsoleLog:
    """Everything a test's pages said on the console, and every uncaught error they threw."""

    def __init__(self):
        self.lines: list[str] = []
        self.problems: list[str] = []

    def watch(self, page) -> None:
        page.on("console", lambda message: self._console(page, message))
        page.on("pageerror", lambda error: self._page_error(page, error))

    def _console(self, page, message) -> None:
        location = message.location or {}
        source = location.get("url") or page.url
        if location.get("lineNumber"):
            source += f":{location['lineNumber']}"
        line = f"[{message.type}] {message.text} (page {page.url}; source {source})"
        self.lines.append(line)
        if "content security policy" in message.text.lower():
            self.problems.append(f"CSP violation: {line}")

    def _page_error(self, page, error) -> None:
        line = f"[pageerror] {error} (page {page.url})"
        self.lines.append(line)
        self.problems.append(f"Uncaught error: {line}")


@pytest.fixture
def console_log() -> ConsoleLog:
    return ConsoleLog()


@pytest.fixture
def new_page(browser, live_server, console_log):
    """Opens a page in a fresh browser context (its own cookies: a new visitor), watched like `page`."""
    contexts = []

    def open_page():
        context = browser.new_context(base_url=live_server.url, locale="zh-CN")
        context.set_default_timeout(DEFAULT_TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        console_log.watch(page)
        return page

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page):
    """The test's browser page; relative URLs (page.goto("/incubators/")) go to the live server."""
    return new_page()


@pytest.fixture
def portal_data(live_server):
    """The portal's published data set; the live server's database is flushed after every test."""
    call_command("load_portal_data", stdout=StringIO())


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """After the test body: fail the test if any of its pages had a CSP violation or an uncaught error."""
    result = yield
    log = item.funcargs.get("console_log")
    if log is not None and log.problems:
        pytest.fail("The browser reported problems:\n" + "\n".join(log.problems), pytrace=False)
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """A failing browser test leaves test-artifacts/browser/<test>.png (full page) and <test>.log."""
    report = yield
    if report.when == "call" and report.failed and "page" in item.funcargs:
        _save_artifacts(item, report)
    return report


def _save_artifacts(item, report) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    stem = re.sub(r"[^\w.-]+", "_", item.name)
    page = item.funcargs["page"]
    notes = []
    try:
        page.screenshot(path=ARTIFACTS / f"{stem}.png", full_page=True, timeout=5_000)
        notes.append(f"screenshot: {ARTIFACTS / f'{stem}.png'} (of {page.url})")
    except Exception as error:  # the page may be gone; the console log is still worth writing
        notes.append(f"no screenshot: {error}")
    lines = item.funcargs["console_log"].lines
    (ARTIFACTS / f"{stem}.log").write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    notes.append(f"console log: {ARTIFACTS / f'{stem}.log'} ({len(lines)} messages)")
    report.sections.append(("browser artifacts", "\n".join(notes)))
