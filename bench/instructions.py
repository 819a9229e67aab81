"""Instructions per request for the benchmark's pages: a figure a busy machine does not move.

    make bench-instructions          (BENCH_REQUESTS=10 requests per page)

requests/s and CPU time on a shared 2-core machine drift by up to a quarter within an hour, which
hides a change of 5-10%. This counts the CPU instructions one process executes to answer each of
bench/run.py's pages (after a warm-up: the project index built, caches filled), under valgrind's
callgrind, with its instrumentation switched on only around the measured requests. The count is
the same on every run for the same code, data and PYTHONHASHSEED; compare two commits with it.
It reads the benchmark's database (bench/run.py prepares it) with the page cache off, and prints
one line per page and a JSON line. valgrind comes from Debian (installed when missing).
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import run  # noqa: E402  (the benchmark's data, pages and settings)

REQUESTS = int(os.environ.get("BENCH_REQUESTS", "10"))
WARM_UP = 5


def child(paths: list[tuple[str, str]], requests: int) -> None:
    """Run inside callgrind: answer each page WARM_UP times, then, between a "go" read from stdin
    and a "done" written to stdout, `requests` times."""
    sys.path.insert(0, str(run.ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xuhui_portal.settings")
    import django

    django.setup()
    import logging

    from django.test import Client

    logging.getLogger("xuhui_portal.requests").setLevel(logging.WARNING)
    client = Client(HTTP_HOST="127.0.0.1")

    def answer(path: str) -> None:
        status = client.get(path).status_code
        if status != 200:
            raise SystemExit(f"{path} answered {status}")

    for _name, path in paths:
        for _ in range(WARM_UP):
            answer(path)
    for name, path in paths:
        print(f"ready {name}", flush=True)
        sys.stdin.readline()
        for _ in range(requests):
            answer(path)
        print("done", flush=True)


def control(pid: int, *args: str) -> None:
    subprocess.run(["callgrind_control", *args, str(pid)], check=True, capture_output=True)


def measure(paths: list[tuple[str, str]], requests: int) -> dict[str, float]:
    """{page name: instructions per request}, in one process under callgrind."""
    env = {**run.ENV, "PAGE_CACHE_SECONDS": "0", "PYTHONHASHSEED": "0"}
    with tempfile.TemporaryDirectory() as folder:
        process = subprocess.Popen(
            [
                "valgrind",
                "--tool=callgrind",
                "--instr-atstart=no",
                f"--callgrind-out-file={folder}/callgrind.%p",
                run.PY,
                __file__,
                "--child",
                json.dumps(paths, ensure_ascii=False),
                str(requests),
            ],
            cwd=run.ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        try:
            for number, (name, _path) in enumerate(paths):
                if process.stdout.readline().strip() != f"ready {name}":
                    raise SystemExit(f"the measured process stopped before {name}")
                control(process.pid, "--zero")
                control(process.pid, "--instr=on")
                process.stdin.write("go\n")
                process.stdin.flush()
                if process.stdout.readline().strip() != "done":
                    raise SystemExit(f"the measured process stopped during {name}")
                control(process.pid, "--instr=off")
                control(process.pid, f"--dump=page-{number}")
        finally:
            process.stdin.close()
            process.wait(timeout=600)
        counts = {}
        for dump in Path(folder).glob("callgrind.*.*"):
            text = dump.read_text(errors="replace")
            page = re.search(r"^desc: Trigger: dump page-(\d+)$", text, re.MULTILINE)
            total = re.search(r"^totals: (\d+)", text, re.MULTILINE)
            if page and total:
                counts[int(page.group(1))] = int(total.group(1)) / requests
    return {name: counts[number] for number, (name, _path) in enumerate(paths)}


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.child:
        child([tuple(page) for page in json.loads(arguments.child[0])], int(arguments.child[1]))
        return 0
    if shutil.which("valgrind") is None:
        subprocess.run(["apt-get", "install", "-y", "-q", "valgrind"], check=True)
    run.prepare_data()
    district = "fenglin"
    project = run.shell(
        "from transfers.models import TransferProject as P; print(P.objects.published().filter(is_synthetic=True).order_by('pk').last().get_absolute_url())"
    )
    paths = [(name, path.format(district=district, project=project)) for name, path in run.PAGES]
    print(f"Instructions per request (callgrind, {REQUESTS} requests per page after {WARM_UP} each):")
    counts = measure(paths, REQUESTS)
    for name, instructions in counts.items():
        print(f"  {name:36s} {instructions / 1e6:8.2f} million")
    print(
        json.dumps({name: round(instructions) for name, instructions in counts.items()}, ensure_ascii=False)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
