"""What district staff wait for in the admin at 100k projects: the project changelist, and its
search with the portal's search (xuhui_portal/admin.py, SearchableRecordAdmin) against Django's
own (`icontains` on every search field), timed in one process. Run by bench/run.py against the
benchmark's database; prints one JSON line. The staff account and its session are rolled back.
"""

import json
import os
import statistics
import sys
import time
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xuhui_portal.settings")
os.environ["OTP_REQUIRED"] = "false"  # a session without a second factor may see the admin

import django  # noqa: E402

django.setup()

from django.contrib import admin  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402

from transfers.admin import TransferProjectAdmin  # noqa: E402

LIST = "admin:transfers_transferproject_changelist"
PAGES = {
    "changelist": {},
    "search 细胞": {"q": "细胞"},
    "search 免疫治疗": {"q": "免疫治疗"},
    "search cell": {"q": "cell"},
}
RUNS = 7


def timed(client: Client, url: str, params: dict) -> dict:
    client.get(url, params)  # warm-up
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        response = client.get(url, params)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.status_code
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params)
    return {
        "ms": round(statistics.median(times)),
        "queries": len(queries.captured_queries),
        "results": response.context_data["cl"].result_count,
    }


def main() -> None:
    url = reverse(LIST)
    figures = {}
    with transaction.atomic():
        staff = get_user_model().objects.create_superuser("bench-admin", password=None)
        client = Client(HTTP_HOST="localhost")  # the benchmark allows 127.0.0.1 and localhost
        client.force_login(staff)
        for name, params in PAGES.items():
            figures[name] = timed(client, url, params)
        # The same searches as Django's admin would run them.
        with mock.patch.object(
            TransferProjectAdmin, "get_search_results", admin.ModelAdmin.get_search_results
        ):
            for name, params in PAGES.items():
                if params:
                    figures[f"{name}, Django's icontains"] = timed(client, url, params)
        transaction.set_rollback(True)
    print(json.dumps(figures, ensure_ascii=False))


if __name__ == "__main__":
    main()
