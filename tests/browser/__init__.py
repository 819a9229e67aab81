"""Browser tests (Playwright driving Debian's headless Chromium); see conftest.py.

Whether they can run here is decided once, on import, for conftest.py and the test modules alike.
"""

import importlib.util
import os

#: The Chromium binary Playwright drives; Playwright's own browser builds are never downloaded.
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
#: REQUIRE_BROWSER_TESTS=1 (CI) turns "cannot run here" from a skip into a failure.
REQUIRED = os.environ.get("REQUIRE_BROWSER_TESTS", "").strip().lower() in {"1", "true", "yes"}


def _why_unavailable() -> str | None:
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        return f"Chromium not found at {CHROMIUM}: browser tests skipped (apt-get install chromium, or set CHROMIUM)"
    if importlib.util.find_spec("playwright") is None:
        return "Playwright for Python is not installed: browser tests skipped (pip install -e '.[test]')"
    return None


#: Why the browser tests cannot run on this machine, or None when they can.
UNAVAILABLE = _why_unavailable()
