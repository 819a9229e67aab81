"""Fault drill: run the portal under gunicorn on this machine and break things on purpose.

    .venv/bin/python deploy/fault_drill.py        (or: make fault-drill)

It uses its own PostgreSQL database (xuhui_drill) and Redis database 15, stops and starts the
local PostgreSQL and Redis servers, and prints one line per check. Exit status 0 when every
check passes. Requires root (to stop and start the local services), as on the dev machines.

Checks:
 1. PostgreSQL down: pages and API answer 503 with Retry-After (no 500, no traceback), static
    files still serve, /healthz says 503.
 2. PostgreSQL back: the same processes answer 200 again within 5 s (CONN_HEALTH_CHECKS).
 3. A runaway query (a table locked by another session) is cancelled by statement_timeout and
    answered 503 before gunicorn's worker timeout.
 4. PostgreSQL restarted under load: no 500.
 5. `kill -HUP` of gunicorn under load: every request answered (no connection errors).
 6. Redis down: the site keeps working, uncached; back up: cached again.
"""

import glob
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = str(ROOT / ".venv" / "bin" / "python")
GUNICORN = str(ROOT / ".venv" / "bin" / "gunicorn")
PORT = int(os.environ.get("DRILL_PORT", "8211"))
BASE = f"http://127.0.0.1:{PORT}"
DB = "xuhui_drill"
PG_CLUSTER = (
    os.path.basename(sorted(glob.glob("/etc/postgresql/*"))[-1]) if glob.glob("/etc/postgresql/*") else "15"
)
ENV = {
    **os.environ,
    "DEBUG": "false",
    "HTTPS": "false",
    "SECRET_KEY": "fault-drill-only-key-5b1f0c9e8d7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f",
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DB}",
    "REDIS_URL": "redis://127.0.0.1:6379/15",
    "DB_STATEMENT_TIMEOUT_MS": "1500",
    "DB_CONNECT_TIMEOUT": "2",
    "GUNICORN_BIND": f"127.0.0.1:{PORT}",
    "WEB_CONCURRENCY": "2",
    "GUNICORN_TIMEOUT": "20",
    "API_ANON_RATE": "100000/minute",
}
results: list[tuple[str, bool, str]] = []


def check(name: str, ok: bool, detail: str = "") -> None:
    results.append((name, ok, detail))
    print(f"{'PASS' if ok else 'FAIL'}  {name}  {detail}", flush=True)


def get(path: str, timeout: float = 10.0) -> tuple[int, dict, str]:
    url = BASE + urllib.parse.quote(path, safe="/?=&")
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode("utf-8", "replace")


def run(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(args, check=True, capture_output=True, text=True, **kwargs)


def postgres(action: str) -> None:
    run(
        "pg_ctlcluster",
        "--skip-systemctl-redirect",
        PG_CLUSTER,
        "main",
        action,
        *(["-m", "fast"] if action != "start" else []),
    )
    if action in ("start", "restart"):
        for _ in range(50):
            if subprocess.run(["pg_isready", "-h", "127.0.0.1", "-q"]).returncode == 0:
                return
            time.sleep(0.1)


def redis(action: str) -> None:
    if action == "stop":
        subprocess.run(["redis-cli", "-h", "127.0.0.1", "shutdown", "nosave"], capture_output=True)
    else:
        run(
            "redis-server",
            "--daemonize",
            "yes",
            "--bind",
            "127.0.0.1",
            "-::1",
            "--port",
            "6379",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            "/var/lib/redis",
            "--logfile",
            "/var/log/redis/ci.log",
        )
        time.sleep(0.5)


class Load:
    """Bounded background load: N threads requesting a few URLs until stopped (at most 60 s)."""

    def __init__(self, paths: list[str], threads: int = 6):
        self.paths, self.stop, self.statuses = paths, threading.Event(), Counter()
        self.workers = [threading.Thread(target=self._loop, args=(n,), daemon=True) for n in range(threads)]

    def _loop(self, n: int) -> None:
        deadline = time.monotonic() + 60
        i = n
        while not self.stop.is_set() and time.monotonic() < deadline:
            path = self.paths[i % len(self.paths)]
            if not path.startswith("/static/"):
                # A distinct URL each time, so the page cache cannot hide the database.
                path += f"{'&' if '?' in path else '?'}drill={i}"
            i += 1
            try:
                status, _, _ = get(path, timeout=15)
                self.statuses[status] += 1
            except Exception as error:  # a dropped connection is exactly what we count
                self.statuses[type(error).__name__] += 1

    def __enter__(self):
        for worker in self.workers:
            worker.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for worker in self.workers:
            worker.join()


def main() -> int:
    subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", DB], check=True)
    run("createdb", "-h", "127.0.0.1", "-U", "postgres", DB)
    run(PY, "manage.py", "migrate", "--noinput", "-v", "0", env=ENV, cwd=ROOT)
    run(PY, "manage.py", "load_portal_data", env=ENV, cwd=ROOT)
    run(PY, "manage.py", "collectstatic", "--noinput", "-v", "0", env=ENV, cwd=ROOT)
    server = subprocess.Popen(
        [GUNICORN, "xuhui_portal.wsgi", "--config", "deploy/gunicorn.conf.py"],
        cwd=ROOT,
        env=ENV,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            try:
                if get("/healthz")[0] == 200:
                    break
            except OSError:
                time.sleep(0.1)
        check("baseline: home 200", get("/")[0] == 200)

        # 1. PostgreSQL down.
        postgres("stop")
        page, headers, body = get("/incubators/?status=operating")
        check("pg down: page 503 + Retry-After", page == 503 and "Retry-After" in headers, f"status {page}")
        check(
            "pg down: friendly page, no traceback",
            "Temporarily unavailable" in body and "Traceback" not in body,
        )
        api = get("/api/incubators/?page_size=5")
        check("pg down: API 503 JSON", api[0] == 503 and '"detail"' in api[2], f"status {api[0]}")
        check("pg down: static still served", get("/static/css/portal.css")[0] == 200)
        check("pg down: /healthz 503", get("/healthz")[0] == 503)

        # 2. Recovery.
        postgres("start")
        started = time.monotonic()
        recovered = None
        while time.monotonic() - started < 10:
            if get("/projects/?stage=transferred")[0] == 200:
                recovered = time.monotonic() - started
                break
            time.sleep(0.1)
        check(
            "pg back: same processes recover < 5 s",
            recovered is not None and recovered < 5,
            f"{recovered:.2f} s" if recovered else "no",
        )

        # 3. Runaway query: another session holds a lock the page needs.
        locker = subprocess.Popen(
            [
                "psql",
                "-h",
                "127.0.0.1",
                "-U",
                "postgres",
                DB,
                "-c",
                "BEGIN; LOCK TABLE incubators_incubator IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(8); COMMIT;",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(0.5)
        started = time.monotonic()
        status, _, _ = get("/incubators/?status=closed", timeout=25)
        took = time.monotonic() - started
        check(
            "runaway query: 503 via statement_timeout, worker alive",
            status == 503 and took < 5,
            f"status {status} in {took:.1f} s",
        )
        locker.wait()

        # 4. PostgreSQL restart under load.
        with Load(["/", "/incubators/", "/api/projects/", "/projects/?q=磁波"]) as load:
            time.sleep(2)
            postgres("restart")
            time.sleep(3)
        failures = {k: v for k, v in load.statuses.items() if not isinstance(k, int) or k == 500}
        check(
            "pg restart under load: no 500, no dropped request", not failures, dict(load.statuses).__repr__()
        )

        # 5. Graceful reload under load.
        with Load(["/", "/incubators/", "/api/incubators/", "/static/css/portal.css"]) as load:
            time.sleep(1.5)
            server.send_signal(signal.SIGHUP)
            time.sleep(4)
        errors = {k: v for k, v in load.statuses.items() if not isinstance(k, int) or k >= 500}
        check("kill -HUP under load: no request lost", not errors, dict(load.statuses).__repr__())

        # 6. Redis down and back.
        get("/districts/")
        redis("stop")
        status, headers, _ = get("/districts/")
        check(
            "redis down: page 200 uncached",
            status == 200 and headers.get("X-Cache") is None,
            f"status {status}",
        )
        check("redis down: API 200", get("/api/districts/")[0] == 200)
        redis("start")
        get("/districts/")
        check("redis back: cached again", get("/districts/")[1].get("X-Cache") == "HIT")
    finally:
        server.terminate()
        server.wait(timeout=30)
        if subprocess.run(["pg_isready", "-h", "127.0.0.1", "-q"]).returncode != 0:
            postgres("start")
        if subprocess.run(["redis-cli", "-h", "127.0.0.1", "ping"], capture_output=True).returncode != 0:
            redis("start")
        subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", DB])
    failed = [name for name, ok, _ in results if not ok]
    print(f"\n{len(results) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
