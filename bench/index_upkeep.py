"""What keeping the project index current costs a worker: a full build, and the patch that follows
a one-project edit (transfers/project_index.py). Run by bench/run.py against the benchmark's
database; prints one JSON line. Each edit is rolled back afterwards: the data stays as generated.
"""

import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xuhui_portal.settings")

import django  # noqa: E402

django.setup()

from django.db import connection, router, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from transfers import project_index  # noqa: E402
from transfers.models import TransferProject  # noqa: E402
from xuhui_portal.models import ContentVersion, PublicationState  # noqa: E402

EDITS = {
    "rename": lambda project: setattr(project, "name_zh", project.name_zh + "（修订）"),
    "new summary": lambda project: setattr(project, "summary_zh", (project.summary_zh or "") + "细胞治疗"),
    "year": lambda project: setattr(project, "year", 2011),
    "unpublish": lambda project: setattr(project, "publication_state", PublicationState.DRAFT),
}


def main() -> None:
    using = router.db_for_read(TransferProject)
    builds = []
    for _ in range(3):
        started = time.perf_counter()
        project_index.build_index(ContentVersion.of_projects(using), using)
        builds.append((time.perf_counter() - started) * 1000)
    index = project_index.get_index()
    projects = list(TransferProject.objects.published().filter(is_synthetic=True).order_by("pk")[1000:1005])
    patches = {}
    for (name, edit), project in zip(EDITS.items(), projects, strict=False):
        with transaction.atomic():
            edit(project)
            project.save()
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                patched = project_index.get_index()
                elapsed = (time.perf_counter() - started) * 1000
            # A patch leaves the project's old text behind; a rebuild would hold none.
            assert patched.search_text.removed > index.search_text.removed, "rebuilt, not patched"
            patches[name] = {"ms": round(elapsed, 1), "queries": len(queries.captured_queries)}
            transaction.set_rollback(True)
        project_index._indexes[using] = index  # the edit is gone: so is the patched index
    print(
        json.dumps(
            {
                "projects": len(index),
                "build_ms": round(statistics.median(builds)),
                "patch_after_one_edit": patches,
            },
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
