"""Scale-out demo: two app servers (gunicorn on two ports), one PostgreSQL, one Redis.

    .venv/bin/python deploy/scale_out_demo.py        (or: make scale-out-demo)

An editor unpublishes an incubator through server A's admin; the very next anonymous request to
server B, which had the page cached, no longer shows it. Sessions live in the database and the
page cache in the shared Redis, so either server can answer any request.
"""

import http.cookiejar
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = str(ROOT / ".venv" / "bin" / "python")
GUNICORN = str(ROOT / ".venv" / "bin" / "gunicorn")
DB = "xuhui_scaleout"
A, B = "http://127.0.0.1:8221", "http://127.0.0.1:8222"
ENV = {
    **os.environ,
    "DEBUG": "false",
    "HTTPS": "false",
    "SECRET_KEY": "scale-out-demo-key-8e7d6c5b4a39281706f5e4d3c2b1a0f9e8d7c6b5a4",
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DB}",
    "REDIS_URL": "redis://127.0.0.1:6379/14",
    "WEB_CONCURRENCY": "2",
}
PASSWORD = "scale-out-demo-password"


def fetch(opener, url: str, data: dict | None = None) -> tuple[int, dict, str]:
    body = urllib.parse.urlencode(data, doseq=True).encode() if data is not None else None
    request = urllib.request.Request(url, data=body, headers={"Referer": url})
    try:
        with opener.open(request, timeout=15) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


def csrf_token(html: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)


def main() -> int:
    subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", DB], check=True)
    subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", DB], check=True)
    subprocess.run(["redis-cli", "-n", "14", "flushdb"], check=True, capture_output=True)
    for command in (
        ["migrate", "--noinput", "-v", "0"],
        ["load_portal_data"],
        ["collectstatic", "--noinput", "-v", "0"],
    ):
        subprocess.run([PY, "manage.py", *command], cwd=ROOT, env=ENV, check=True, capture_output=True)
    subprocess.run(
        [
            PY,
            "manage.py",
            "createsuperuser",
            "--noinput",
            "--username",
            "editor",
            "--email",
            "editor@example.org",
        ],
        cwd=ROOT,
        env={**ENV, "DJANGO_SUPERUSER_PASSWORD": PASSWORD},
        check=True,
        capture_output=True,
    )
    servers = [
        subprocess.Popen(
            [
                GUNICORN,
                "xuhui_portal.wsgi",
                "--config",
                "deploy/gunicorn.conf.py",
                "--bind",
                url.removeprefix("http://"),
            ],
            cwd=ROOT,
            env=ENV,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for url in (A, B)
    ]
    try:
        anonymous = urllib.request.build_opener()
        for _ in range(100):
            try:
                if fetch(anonymous, f"{A}/healthz")[0] == 200 and fetch(anonymous, f"{B}/healthz")[0] == 200:
                    break
            except OSError:
                time.sleep(0.1)
        page = f"{B}/incubators/4-modelspeed-space/"
        first, second = fetch(anonymous, page), fetch(anonymous, page)
        print(
            f"B, anonymous: {first[0]} {first[1].get('X-Cache')}, then {second[0]} {second[1].get('X-Cache')}"
        )

        editor = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        login = fetch(editor, f"{A}/admin/login/")
        fetch(
            editor,
            f"{A}/admin/login/?next=/admin/",
            {
                "csrfmiddlewaretoken": csrf_token(login[2]),
                "username": "editor",
                "password": PASSWORD,
                "next": "/admin/",
            },
        )
        listing = fetch(editor, f"{A}/admin/incubators/incubator/")[2]
        checkbox = re.search(r'name="_selected_action" value="(4,\d+)"', listing).group(1)
        done = fetch(
            editor,
            f"{A}/admin/incubators/incubator/",
            {
                "csrfmiddlewaretoken": csrf_token(listing),
                "action": "unpublish",
                "_selected_action": checkbox,
            },
        )
        print(f"A, editor: unpublished incubator 4 through the admin ({done[0]})")

        after = fetch(anonymous, page)
        print(f"B, anonymous, next request: {after[0]}")
        ok = first[0] == 200 and second[1].get("X-Cache") == "HIT" and after[0] == 404
        print("PASS: the edit made through A is seen through B at once" if ok else "FAIL")
        return 0 if ok else 1
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=30)
        subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", DB])


if __name__ == "__main__":
    sys.exit(main())
