"""The synthetic data set: deterministic, marked, replaced on a re-run, searchable."""

import pytest
from django.core.management import CommandError, call_command

from districts.models import Institution
from incubators.models import Incubator
from transfers.models import TransferProject
from xuhui_portal.search import search_queryset

pytestmark = pytest.mark.django_db


@pytest.fixture
def portal_data():
    call_command("load_portal_data", verbosity=0)


def generate(**options):
    call_command("generate_demo_data", projects=60, incubators=12, institutions=8, verbosity=0, **options)


def test_generates_marked_records_that_cite_the_demo_source(portal_data):
    generate()
    assert TransferProject.objects.filter(is_synthetic=True).count() == 60
    assert Incubator.objects.filter(is_synthetic=True).count() == 12
    assert Institution.objects.filter(is_synthetic=True).count() == 8
    assert not TransferProject.objects.filter(is_synthetic=True).exclude(sources__key="DEMO").exists()
    assert TransferProject.objects.filter(is_synthetic=False).count() == 1


def test_same_seed_same_data_and_no_duplicates(portal_data):
    generate(seed=7)
    first = list(
        TransferProject.objects.filter(is_synthetic=True).order_by("slug").values_list("name_zh", "year")
    )
    generate(seed=7)
    second = list(
        TransferProject.objects.filter(is_synthetic=True).order_by("slug").values_list("name_zh", "year")
    )
    assert first == second
    generate(seed=8)
    third = list(
        TransferProject.objects.filter(is_synthetic=True).order_by("slug").values_list("name_zh", "year")
    )
    assert third != first and len(third) == 60


def test_generated_projects_are_searchable(portal_data):
    generate()
    project = TransferProject.objects.filter(is_synthetic=True).first()
    found = search_queryset(TransferProject.objects.all(), project.name_zh[:4])
    assert project in found


def test_needs_the_portal_data_first():
    with pytest.raises(CommandError, match="load_portal_data"):
        generate()


def test_refuses_negative_counts(portal_data):
    with pytest.raises(CommandError, match="--projects"):
        call_command("generate_demo_data", projects=-1, verbosity=0)
