"""Where an uncached page's time goes, in one process: rendering (templates, or the API's JSON),
SQL (each query's round trip), the project index (filters, search, facet counts and order), and
the rest (views, FilterSets, the ORM building rows, middleware). Run by bench/run.py with the
benchmark's pages as a JSON argument, against its database, with the page cache off; prints one
JSON line. Medians of 60 requests after 15 warm-up requests; the rest is each request's total less
the three parts.
"""

import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xuhui_portal.settings")
os.environ["PAGE_CACHE_SECONDS"] = "0"

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.template.backends.django import Template  # noqa: E402
from django.test import Client  # noqa: E402
from rest_framework.renderers import JSONRenderer  # noqa: E402

from transfers import filters as project_filters  # noqa: E402
from transfers import project_index  # noqa: E402

WARM_UP, RUNS = 15, 60
PARTS = ("rendering", "sql", "index")


class Stopwatch:
    """Time spent in each part for one request, exclusive of the other parts run inside it (a
    query run while a template renders counts as SQL only), so that the parts and the rest add
    up to the total."""

    def __init__(self):
        self.reset()

    def reset(self) -> None:
        self.seconds = dict.fromkeys(PARTS, 0.0)
        self._open = []  # per part being timed: [its start, the time of the parts inside it]

    def timed(self, part: str, call):
        frame = [time.perf_counter(), 0.0]
        self._open.append(frame)
        try:
            return call()
        finally:
            self._open.pop()
            elapsed = time.perf_counter() - frame[0]
            self.seconds[part] += elapsed - frame[1]
            if self._open:
                self._open[-1][1] += elapsed

    def wrap(self, owner, name: str, part: str) -> None:
        function = getattr(owner, name)
        setattr(owner, name, lambda *args, **kwargs: self.timed(part, lambda: function(*args, **kwargs)))

    def query(self, execute, sql, params, many, context):
        return self.timed("sql", lambda: execute(sql, params, many, context))


def breakdown(client: Client, path: str, stopwatch: Stopwatch) -> dict:
    for _ in range(WARM_UP):
        assert client.get(path).status_code == 200, path
    figures = {name: [] for name in ("total", *PARTS, "rest")}
    for _ in range(RUNS):
        stopwatch.reset()
        started = time.perf_counter()
        with connection.execute_wrapper(stopwatch.query):
            client.get(path)
        total = time.perf_counter() - started
        figures["total"].append(total)
        for part in PARTS:
            figures[part].append(stopwatch.seconds[part])
        figures["rest"].append(total - sum(stopwatch.seconds.values()))
    return {f"{name}_ms": round(statistics.median(values) * 1000, 2) for name, values in figures.items()}


def main() -> None:
    stopwatch = Stopwatch()
    stopwatch.wrap(Template, "render", "rendering")
    stopwatch.wrap(JSONRenderer, "render", "rendering")
    # The index's work for a request: the selection (filters, search), then its order and counts.
    stopwatch.wrap(project_filters, "select", "index")
    stopwatch.wrap(project_index.Selection, "ids", "index")
    stopwatch.wrap(project_index.Selection, "facet_counts", "index")
    client = Client(HTTP_HOST="localhost")  # the benchmark allows 127.0.0.1 and localhost
    pages = json.loads(sys.argv[1])
    print(json.dumps({name: breakdown(client, path, stopwatch) for name, path in pages}, ensure_ascii=False))


if __name__ == "__main__":
    main()
