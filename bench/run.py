"""The portal's benchmark: gunicorn + PostgreSQL at 100k projects, driven by wrk on 127.0.0.1.

    make bench            (BENCH_DURATION=10 seconds per URL, BENCH_CONNECTIONS=8)

It prepares the data set once (generate_demo_data --projects 100000 --incubators 2000
--institutions 500 --seed 1 in the database xuhui_bench), then measures, in one run: an
uncached pass and a cached pass of the portal's pages, a trivial Django view (the ceiling),
Datasette 0.65 serving the same projects with the same two facets, what keeping the project
index current costs (bench/index_upkeep.py: a build, and the patch after a one-project edit),
the admin's project list and search (bench/admin_lists.py), and where each page's time goes in one
process (bench/page_breakdown.py). It prints a table (requests/s, p50, p99, SQL queries and the
workers' CPU time per request, worker RSS) and writes it as JSON under bench/results/.
Figures vary by about ±15% between runs on this 2-core machine: compare within one run.
"""

import argparse
import json
import os
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from collections import defaultdict
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
RESULTS = BENCH / "results"
PY = str(ROOT / ".venv" / "bin" / "python")
GUNICORN = str(ROOT / ".venv" / "bin" / "gunicorn")
DATASETTE_VENV = BENCH / ".venv-datasette"
DB_NAME = os.environ.get("BENCH_DB", "xuhui_bench")
PORT, DATASETTE_PORT = 8301, 8302
DURATION = int(os.environ.get("BENCH_DURATION", "10"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "8"))
PROJECTS, INCUBATORS, INSTITUTIONS, SEED = 100_000, 2_000, 500, 1

ENV = {
    **os.environ,
    "DEBUG": "false",
    "HTTPS": "false",
    "SECRET_KEY": "benchmark-only-key-0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c",
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DB_NAME}",
    "BENCHMARK_VIEWS": "true",
    # Throttling stays on but out of the way: DRF keeps one timestamp per request in the window,
    # so a per-second window keeps that list short at benchmark rates.
    "API_ANON_RATE": "100000/second",
    "WEB_CONCURRENCY": "2",
    "GUNICORN_BIND": f"127.0.0.1:{PORT}",
    "GUNICORN_MAX_REQUESTS": "0",
}

#: (name, path) of what is measured; {district} and {project} are filled from the data.
PAGES = [
    ("trivial view (ceiling)", "/bench/trivial/"),
    ("home", "/"),
    ("incubators, district filter", "/incubators/?district={district}"),
    ("project search 2 chars + filter", "/projects/?q=细胞&stage=transferred"),
    ("project search 4 chars + filter", "/projects/?q=免疫治疗&stage=transferred"),
    ("project search English + filter", "/projects/?q=cell&stage=transferred"),
    ("projects, facet filter", "/projects/?stage=transferred"),
    ("project detail", "{project}"),
    ("API projects, filter", "/api/projects/?stage=transferred&district={district}"),
]


def manage(*args: str) -> str:
    return subprocess.run(
        [PY, "manage.py", *args], cwd=ROOT, env=ENV, check=True, capture_output=True, text=True
    ).stdout


def shell(code: str) -> str:
    return manage("shell", "-c", code).strip().splitlines()[-1]


def prepare_data() -> None:
    exists = subprocess.run(
        [
            "psql",
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-tAc",
            f"SELECT 1 FROM pg_database WHERE datname='{DB_NAME}'",
        ],
        capture_output=True,
        text=True,
    ).stdout.strip()
    if not exists:
        subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", DB_NAME], check=True)
    manage("migrate", "--noinput", "-v", "0")
    count = int(
        shell(
            "from transfers.models import TransferProject as P; print(P.objects.filter(is_synthetic=True).count())"
        )
    )
    if count != PROJECTS:
        manage("load_portal_data")
        started = time.monotonic()
        print(
            manage(
                "generate_demo_data",
                "--projects",
                str(PROJECTS),
                "--incubators",
                str(INCUBATORS),
                "--institutions",
                str(INSTITUTIONS),
                "--seed",
                str(SEED),
            ).strip()
        )
        print(f"  (generated in {time.monotonic() - started:.0f} s)")
    subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", DB_NAME, "-qc", "VACUUM ANALYZE"], check=True
    )
    manage("collectstatic", "--noinput", "-v", "0")


def ensure_tools() -> None:
    if shutil.which("wrk") is None:
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, capture_output=True)
    if (
        not (DATASETTE_VENV / "bin" / "datasette").exists()
        or subprocess.run(
            [str(DATASETTE_VENV / "bin" / "python"), "-c", "import pkg_resources"], capture_output=True
        ).returncode
    ):
        subprocess.run([sys.executable, "-m", "venv", str(DATASETTE_VENV)], check=True)
        subprocess.run(
            # Datasette 0.65 imports pkg_resources, which setuptools 81 no longer ships.
            [
                str(DATASETTE_VENV / "bin" / "pip"),
                "install",
                "-q",
                "datasette==0.65.1",
                "sqlite-utils",
                "setuptools<81",
            ],
            check=True,
        )


def export_for_datasette() -> Path:
    """The same projects (published, with district and stage) as a SQLite file with FTS."""
    path = RESULTS / "datasette-projects.db"
    if path.exists():
        return path
    code = (
        "import json,sys; from transfers.models import TransferProject as P\n"
        "rows = P.objects.published().values_list('id','name_zh','summary_zh','stage','transfer_mode','year','district__slug')\n"
        "sys.stdout.write('\\n'.join(json.dumps(r, ensure_ascii=False) for r in rows.iterator(chunk_size=5000)))"
    )
    lines = manage("shell", "-c", code).splitlines()
    database = sqlite3.connect(path)
    database.execute(
        "CREATE TABLE projects (id INTEGER PRIMARY KEY, name_zh TEXT, summary_zh TEXT, stage TEXT, "
        "transfer_mode TEXT, year INTEGER, district TEXT)"
    )
    database.executemany(
        "INSERT INTO projects VALUES (?,?,?,?,?,?,?)",
        (json.loads(line) for line in lines if line.startswith("[")),
    )
    database.commit()
    database.close()
    subprocess.run(
        [
            str(DATASETTE_VENV / "bin" / "sqlite-utils"),
            "enable-fts",
            str(path),
            "projects",
            "name_zh",
            "summary_zh",
        ],
        check=True,
    )
    return path


def wrk(url: str, server: "Server | None" = None) -> dict:
    """wrk's figures for `url`, after a warm-up; with `server`, its workers' CPU time per request."""
    subprocess.run(
        ["wrk", "-t2", f"-c{CONNECTIONS}", "-d2s", "--timeout", "30s", url], capture_output=True
    )  # warm-up
    cpu_before = server.worker_cpu_seconds() if server else 0.0
    output = subprocess.run(
        ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{DURATION}s", "--timeout", "30s", "--latency", url],
        capture_output=True,
        text=True,
    ).stdout
    cpu = server.worker_cpu_seconds() - cpu_before if server else None
    requests = int(re.search(r"(\d+) requests in", output).group(1))

    def latency(label: str) -> float:
        match = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)", output, re.M)
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "p50_ms": latency("50"),
        "p99_ms": latency("99"),
        "errors": int(non_2xx.group(1)) if non_2xx else 0,
        "worker_cpu_ms": round(cpu * 1000 / requests, 2) if cpu is not None and requests else None,
    }


class Server:
    """gunicorn with the portal; collects its request log (query counts) and workers' RSS."""

    def __init__(self, **env):
        self.process = subprocess.Popen(
            [GUNICORN, "xuhui_portal.wsgi", "--config", "deploy/gunicorn.conf.py"],
            cwd=ROOT,
            env={**ENV, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        self.queries = defaultdict(list)
        self.rss_kb = 0
        self.running = True
        threading.Thread(target=self._read_log, daemon=True).start()
        threading.Thread(target=self._sample_rss, daemon=True).start()
        for _ in range(200):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{PORT}/healthz", timeout=2)
                return
            except OSError:
                time.sleep(0.1)

    def _read_log(self):
        for line in self.process.stdout:
            match = re.search(r"GET (\S+) \d+ [\d.]+ms (\d+)q", line)
            if match:
                self.queries[match.group(1)].append(int(match.group(2)))

    def _sample_rss(self):
        """The workers' peak RSS: the kernel's high-water mark (VmHWM), so that a peak between
        two samples (an index build) counts too."""
        while self.running:
            for pid in self._worker_pids():
                try:
                    status = Path(f"/proc/{pid}/status").read_text()
                except OSError:  # the worker exited meanwhile
                    continue
                peak = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
                if peak:
                    self.rss_kb = max(self.rss_kb, int(peak.group(1)))
            time.sleep(0.5)

    def worker_cpu_seconds(self) -> float:
        """The CPU time (user and system) the workers have used so far. They live through a pass
        (GUNICORN_MAX_REQUESTS=0), so the difference over a wrk run is that run's."""
        ticks = 0
        for pid in self._worker_pids():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:  # the worker exited meanwhile
                continue
            ticks += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
        return ticks / os.sysconf("SC_CLK_TCK")

    def _worker_pids(self) -> list[str]:
        return subprocess.run(
            ["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True
        ).stdout.split()

    def stop(self):
        self.running = False
        self.process.terminate()
        self.process.wait(timeout=30)


def measure(server: Server, paths: list[tuple[str, str]]) -> list[dict]:
    rows = []
    for name, path in paths:
        server.queries.pop(path, None)
        result = wrk(f"http://127.0.0.1:{PORT}{urllib.request.quote(path, safe='/?=&')}", server)
        counts = server.queries.get(urllib.request.quote(path, safe="/?=&"), []) or server.queries.get(
            path, []
        )
        result.update(name=name, path=path, queries=round(statistics.mean(counts), 1) if counts else None)
        rows.append(result)
        print(
            f"  {name:34} {result['rps']:8.1f} rps  p50 {result['p50_ms']:6.1f} ms  p99 {result['p99_ms']:7.1f} ms"
            f"  {result['queries'] if result['queries'] is not None else '-':>5} q"
            f"  {result['worker_cpu_ms']:5.2f} ms CPU",
            flush=True,
        )
    return rows


def datasette(db: Path) -> dict:
    process = subprocess.Popen(
        [
            str(DATASETTE_VENV / "bin" / "datasette"),
            "serve",
            str(db),
            "--port",
            str(DATASETTE_PORT),
            "--setting",
            "default_cache_ttl",
            "0",
            "--setting",
            "sql_time_limit_ms",
            "10000",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{DATASETTE_PORT}/datasette-projects/projects"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{DATASETTE_PORT}/", timeout=2)
                break
            except OSError:
                time.sleep(0.2)
        facet = wrk(f"{base}?stage=transferred&_facet=stage&_facet=district")
        found = {}
        for query in ("细胞", "免疫治疗"):
            with urllib.request.urlopen(
                f"{base}.json?_search={urllib.request.quote(query)}&_size=0", timeout=30
            ) as r:
                found[query] = json.load(r).get("filtered_table_rows_count")
        return {"facet": facet, "search_hits": found}
    finally:
        process.terminate()
        process.wait(timeout=30)


def ceiling(rows: list[dict]) -> float:
    """The trivial view's requests/s in a pass: the mean of its first and last measurement."""
    return round((rows[0]["rps"] + rows[-1]["rps"]) / 2, 1)


def one_process_figures(script: str, *args: str) -> dict:
    """The JSON line a bench/ script prints after timing something in one process."""
    output = subprocess.run(
        [PY, str(BENCH / script), *args], cwd=ROOT, env=ENV, check=True, capture_output=True, text=True
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> int:
    argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    ).parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    ensure_tools()
    prepare_data()
    district = "fenglin"
    project = shell(
        "from transfers.models import TransferProject as P; print(P.objects.published().filter(is_synthetic=True).order_by('pk').last().get_absolute_url())"
    )
    pages = [(name, path.format(district=district, project=project)) for name, path in PAGES]
    # The ceiling is measured at both ends of each pass, and its mean taken: the machine's speed
    # drifts within a run by up to a tenth.
    paths = [*pages, (f"{pages[0][0]}, again", pages[0][1])]
    substring = json.loads(
        shell(
            "import json; from transfers.models import TransferProject as P; from xuhui_portal.search import search_queryset; "
            "qs=P.objects.published(); print(json.dumps({q: [search_queryset(qs, q).count(), qs.filter(search_text__contains=q).count()] for q in ['细胞','免疫治疗']}))"
        )
    )

    print(f"Uncached pass ({CONNECTIONS} connections, {DURATION} s per URL, 2 gunicorn workers):")
    server = Server(PAGE_CACHE_SECONDS="0")
    uncached = measure(server, paths)
    rss_uncached = server.rss_kb
    server.stop()

    print("Cached pass (Redis):")
    subprocess.run(["redis-cli", "-n", "13", "flushdb"], capture_output=True)
    server = Server(PAGE_CACHE_SECONDS="600", REDIS_URL="redis://127.0.0.1:6379/13")
    cached = measure(server, paths)
    rss_cached = server.rss_kb
    server.stop()

    print("Datasette 0.65 (same projects, facets stage + district):")
    other = datasette(export_for_datasette())
    print(
        f"  facet page {other['facet']['rps']:.1f} rps, p50 {other['facet']['p50_ms']:.1f} ms; "
        f"its full-text search finds {other['search_hits']}"
    )

    print("Project index upkeep (one worker):")
    upkeep = one_process_figures("index_upkeep.py")
    patches = ", ".join(
        f"{name} {figures['ms']:.0f} ms ({figures['queries']} queries)"
        for name, figures in upkeep["patch_after_one_edit"].items()
    )
    print(f"  build {upkeep['build_ms']} ms; patch after a one-project edit: {patches}")

    print("Admin project list (one process, median of 7):")
    admin_lists = one_process_figures("admin_lists.py")
    for name, figures in admin_lists.items():
        print(
            f"  {name:36s} {figures['ms']:5d} ms  {figures['queries']:3d} q  {figures['results']:7d} results"
        )

    print("Where an uncached page's time goes (one process, median ms per request):")
    breakdown = one_process_figures("page_breakdown.py", json.dumps(pages, ensure_ascii=False))
    for name, figures in breakdown.items():
        print(
            f"  {name:34s} {figures['total_ms']:5.1f} ms: rendering {figures['rendering_ms']:4.1f}"
            f"  SQL {figures['sql_ms']:4.1f}  index {figures['index_ms']:4.1f}  rest {figures['rest_ms']:4.1f}"
        )

    trivial, cached_trivial = ceiling(uncached), ceiling(cached)
    facet_page = next(row for row in uncached if row["name"] == "projects, facet filter")
    summary = {
        "trivial_rps": trivial,
        "trivial_rps_at_each_end": [uncached[0]["rps"], uncached[-1]["rps"]],
        "uncached_min_share_of_trivial": round(min(row["rps"] for row in uncached[1:-1]) / trivial, 3),
        "uncached_share_of_trivial": {row["name"]: round(row["rps"] / trivial, 3) for row in uncached[1:-1]},
        # Cached pages against the trivial view of the same pass (which is cached too: its
        # requests pay for the cache lookup) and against the uncached trivial view, the ceiling.
        "cached_min_share_of_trivial": round(min(row["rps"] for row in cached[1:-1]) / cached_trivial, 3),
        "cached_min_share_of_uncached_trivial": round(min(row["rps"] for row in cached[1:-1]) / trivial, 3),
        "facet_vs_datasette": round(facet_page["rps"] / other["facet"]["rps"], 1)
        if other["facet"]["rps"]
        else None,
        "max_worker_rss_mb": round(max(rss_uncached, rss_cached) / 1024, 1),
        "worker_rss_mb": {"uncached": round(rss_uncached / 1024, 1), "cached": round(rss_cached / 1024, 1)},
        "search_hits_vs_substring_scan": substring,
    }
    print("\nSummary:", json.dumps(summary, ensure_ascii=False))
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    out = RESULTS / f"bench-{stamp}.json"
    out.write_text(
        json.dumps(
            {
                "uncached": uncached,
                "cached": cached,
                "datasette": other,
                "index_upkeep": upkeep,
                "admin_lists": admin_lists,
                "page_breakdown": breakdown,
                "summary": summary,
                "settings": {"connections": CONNECTIONS, "duration_s": DURATION, "projects": PROJECTS},
            },
            ensure_ascii=False,
            indent=1,
        ),
        encoding="utf-8",
    )
    print(f"Written to {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
