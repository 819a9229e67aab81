"""An edit patches the project index (transfers/project_index.py, `patch_index`) instead of
rebuilding it: the patched index must answer exactly as a fresh build would."""

import random
from decimal import Decimal

import numpy as np
import pytest
from django.db import transaction

from transfers import project_index
from transfers.models import TransferProject
from transfers.project_index import CODED, PATCH_LIMIT, POSITION, build_index, get_index
from xuhui_portal.models import ContentVersion, ProjectIndexChange, PublicationState
from xuhui_portal.search import parse_query

from .factories import make_district, make_field, make_project
from .test_project_index import MODES, STAGES

QUERIES = [
    "细胞",
    "治疗",
    "免疫治疗",
    "影像诊断",
    "新名",
    "项目1",
    "平台",
    "cell",
    "novel3",
    "imag",
    "assay cell",
    "test",
]


def coded(index, name: str) -> list[str | None]:
    dimension = getattr(index, name)
    return [dimension.keys[code] if code >= 0 else None for code in dimension.codes.tolist()]


def searched(index, query: str) -> tuple[list[int], list[int]]:
    matching, in_title = index.search_text.search(parse_query(query))
    return sorted(index.ids[matching].tolist()), sorted(index.ids[in_title > 0].tolist())


def assert_same_answers(patched, built) -> None:
    """Everything a page reads from the index: order, columns, facets, sort orders, search."""
    assert patched.ids.tolist() == built.ids.tolist()
    for name, _column in CODED:
        assert coded(patched, name) == coded(built, name), name
    assert patched.year.tolist() == built.year.tolist()
    assert patched.amount_cents.tolist() == built.amount_cents.tolist()
    positions = range(len(built))
    assert patched.field.key_ids_at(positions) == built.field.key_ids_at(positions)
    for key in ("name", "-name", "year", "-amount"):
        assert patched.ids[patched.ordered(key)].tolist() == built.ids[built.ordered(key)].tolist(), key
    for query in QUERIES:
        assert searched(patched, query) == searched(built, query), query
    # A patch keeps a build's 4-byte positions and offsets: wider ones would grow every worker.
    assert position_types(patched) == position_types(built) == dict.fromkeys(position_types(built), POSITION)


def position_types(index) -> dict[str, np.dtype]:
    text, words = index.search_text, index.search_text.words
    arrays = {
        "field rows": index.field.rows,
        "field codes": index.field.codes,
        "title starts": text.title_starts,
        "text starts": text.text_starts,
        "slot positions": text.slot_positions,
        "word tail slots": words.tail_slots,
        "title word tail slots": words.title_tail_slots,
    }
    return {name: array.dtype for name, array in arrays.items()}


@pytest.fixture
def builds(monkeypatch):
    """Counts full builds, so that a test can tell a patch from a rebuild."""
    calls = []

    def counting_build(*args, **kwargs):
        calls.append(args)
        return build_index(*args, **kwargs)

    monkeypatch.setattr(project_index, "build_index", counting_build)
    return calls


def random_edit(rng: random.Random, catalogue: dict) -> None:
    projects = list(TransferProject.objects.order_by("pk"))
    project = rng.choice(projects)
    edit = rng.choice(["rename", "same name", "columns", "text", "publication", "fields", "new", "delete"])
    if edit == "rename":
        project.name_zh = f"新名{rng.randint(0, 10**6)}"
    elif edit == "same name":
        project.name_zh = rng.choice(projects).name_zh
    elif edit == "columns":
        project.year = rng.choice([None, 2018, 2021, 2025])
        project.stage = rng.choice(STAGES)
        project.transfer_mode = rng.choice(MODES)
        project.district = rng.choice([*catalogue["districts"], None])
        project.platform = rng.choice([*catalogue["platforms"], None])
        project.owner_institution = rng.choice([*catalogue["institutions"], None])
        project.transfer_amount_wan = rng.choice([None, Decimal("0"), Decimal("7.5")])
    elif edit == "text":
        project.summary_zh = rng.choice(["细胞影像平台", "全新的免疫治疗", ""])
        # English words, some never seen before: new codes after the built ones.
        project.summary_en = rng.choice(["Cellular imaging", f"A novel{rng.randint(0, 9)} assay", ""])
    elif edit == "publication":
        project.publication_state = rng.choice([PublicationState.DRAFT, PublicationState.PUBLISHED])
    elif edit == "fields":
        project.fields.set(rng.sample(catalogue["fields"], rng.randint(0, 2)))
        return
    elif edit == "new":
        make_project(
            name_zh=rng.choice(["细胞治疗平台", f"新名{rng.randint(0, 10**6)}"]),
            year=rng.choice([None, 2022]),
            district=rng.choice(catalogue["districts"]),
            fields_=rng.sample(catalogue["fields"], 1),
        )
        return
    elif edit == "delete":
        project.delete()
        return
    project.save()


def test_random_edits_patch_the_index_to_what_a_build_gives(catalogue, builds, monkeypatch):
    monkeypatch.setattr(project_index, "SCAN_BLOCK", 3)  # the tail's scans cross their blocks' ends
    rng = random.Random(11)
    get_index()
    builds.clear()
    for _ in range(60):
        for _edit in range(rng.randint(1, 3)):
            random_edit(rng, catalogue)
        patched = get_index()
        assert patched.version == ContentVersion.of_projects()
        assert_same_answers(patched, build_index(patched.version))
    assert builds == []  # every edit was patched in


def test_more_new_words_than_the_builds_codes_hold_are_patched_in(catalogue, builds):
    index = get_index()
    assert index.search_text.words.tail_codes.dtype == np.uint8  # the catalogue's words fit a byte
    builds.clear()
    project = make_project(name_en="Word0x", summary_en=" ".join(f"word{n}x" for n in range(300)))
    patched = get_index()
    assert builds == []
    assert searched(patched, "word299x") == ([project.pk], [])
    assert searched(patched, "word0x") == ([project.pk], [project.pk])
    assert_same_answers(patched, build_index(patched.version))


def test_a_patch_reads_a_few_rows_not_all(catalogue, django_assert_max_num_queries):
    index = get_index()
    project = TransferProject.objects.published().first()
    project.name_zh = "新名称"
    project.year = 2020
    project.save()
    # Three version reads (the request's, then before and after), the log, the project, its
    # name's neighbours (3), its fields.
    with django_assert_max_num_queries(9):
        patched = get_index()
    assert patched is not index
    assert_same_answers(patched, build_index(patched.version))


def _new_slug(record):
    record.slug += "-new"
    record.save()


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda catalogue: _new_slug(catalogue["districts"][0]), id="a district's new slug"),
        pytest.param(lambda catalogue: make_project(district=make_district()), id="a new district key"),
        pytest.param(lambda catalogue: make_project(fields_=[make_field()]), id="a new field"),
        pytest.param(
            lambda catalogue: [make_project() for _ in range(PATCH_LIMIT + 1)],
            id="more projects than a patch takes",
        ),
        pytest.param(
            lambda catalogue: (make_project(), ProjectIndexChange.objects.all().delete()),
            id="a log that does not reach the version",
        ),
    ],
)
def test_what_a_patch_cannot_express_is_rebuilt(catalogue, builds, change):
    get_index()
    builds.clear()
    change(catalogue)
    index = get_index()
    assert len(builds) == 1
    assert_same_answers(index, build_index(index.version))


def test_edits_in_one_project_leave_old_text_until_a_rebuild_drops_it(catalogue, builds, monkeypatch):
    monkeypatch.setattr(project_index, "PATCHED_TEXT_LIMIT", 1000)
    project = TransferProject.objects.published().first()
    get_index()
    builds.clear()
    rebuilt_after = None
    for n in range(200):
        project.summary_zh = "细胞" * 200 + str(n)  # each edit leaves the old text and appends the new
        project.save()
        index = get_index()
        if builds:
            rebuilt_after = n
            break
        assert index.search_text.removed > 0
    assert rebuilt_after is not None
    assert get_index().search_text.removed == 0
    assert_same_answers(get_index(), build_index(0))


def test_an_index_patched_inside_a_rolled_back_transaction_is_rebuilt(catalogue, builds):
    get_index()
    builds.clear()
    with transaction.atomic():
        rolled_back = make_project(name_zh="回滚的项目")
        assert searched(get_index(), "回滚")[0] == [rolled_back.pk]  # this transaction sees it
        transaction.set_rollback(True)
    make_project(name_zh="提交的项目")  # a later change, logged after the rolled-back one
    index = get_index()
    assert searched(index, "回滚") == ([], [])
    assert len(builds) == 1
    assert_same_answers(index, build_index(index.version))


def test_a_change_that_rebuilds_every_index_clears_the_log_before_it(catalogue, builds):
    get_index()
    builds.clear()
    make_project()
    make_project()
    assert ProjectIndexChange.objects.exclude(project_id=None).exists()
    _new_slug(catalogue["districts"][0])
    assert list(ProjectIndexChange.objects.values_list("project_id", flat=True)) == [None]
    index = get_index()
    assert len(builds) == 1
    make_project(name_zh="之后的项目")  # and the log goes on from there: a patch again
    assert_same_answers(get_index(), build_index(index.version))
    assert len(builds) == 1
