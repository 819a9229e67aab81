"""Model invariants: slugs, constraints, bilingual fallback, publication."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.utils import translation

from districts.models import (
    Indicator,
    InnovationDistrict,
    Institution,
    InstitutionAlias,
    Milestone,
    TechField,
)
from incubators.models import Incubator
from transfers.models import PlatformPartnership, TransferProject
from xuhui_portal.models import PublicationState

from .factories import (
    make_district,
    make_field,
    make_incubator,
    make_institution,
    make_platform,
    make_project,
    make_source,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english_messages():
    """Validation messages are matched in English (the msgids)."""
    with translation.override("en"):
        yield


def refused_by_database(model, pk, **values):
    """True when the database itself rejects writing `values` to the row."""
    try:
        with transaction.atomic():
            model.objects.filter(pk=pk).update(**values)
    except IntegrityError:
        return True
    return False


def test_no_missing_migrations():
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


class TestSlugs:
    def test_slug_comes_from_the_english_name(self):
        assert (
            make_incubator(name_en="West Bund AI Hub", name_zh="西岸人工智能孵化器").slug
            == "west-bund-ai-hub"
        )

    def test_slug_falls_back_to_pinyin(self):
        assert make_incubator(name_en="", name_zh="徐汇孵化器").slug == "xu-hui-fu-hua-qi"

    def test_slug_is_made_unique(self):
        first = make_incubator(name_en="Same Name")
        second = make_incubator(name_en="Same Name")
        assert (first.slug, second.slug) == ("same-name", "same-name-2")

    def test_slug_survives_a_rename(self):
        incubator = make_incubator(name_en="Old Name")
        incubator.name_en = "New Name"
        incubator.name_zh = "新名字"
        incubator.save()
        incubator.refresh_from_db()
        assert incubator.slug == "old-name"

    def test_full_clean_fills_an_empty_slug(self):
        incubator = Incubator(name_zh="漕河泾孵化器", status=Incubator.Status.OPERATING)
        incubator.full_clean()
        assert incubator.slug == "cao-he-jing-fu-hua-qi"

    def test_field_slug_is_made_too(self):
        assert (
            TechField.objects.create(name_zh="合成生物", name_en="Synthetic biology").slug
            == "synthetic-biology"
        )
        assert TechField.objects.create(name_zh="细胞治疗").slug == "xi-bao-zhi-liao"

    def test_duplicate_slug_is_refused_with_a_message(self):
        make_incubator(slug="taken")
        with pytest.raises(ValidationError) as error:
            Incubator(name_zh="另一个", slug="taken", status=Incubator.Status.OPERATING).full_clean()
        assert "slug" in error.value.message_dict

    def test_non_ascii_slug_is_refused(self):
        with pytest.raises(ValidationError) as error:
            Incubator(name_zh="徐汇", slug="徐汇", status=Incubator.Status.OPERATING).full_clean()
        assert "slug" in error.value.message_dict

    def test_database_refuses_empty_slug_and_duplicates(self):
        first, second = make_incubator(), make_incubator()
        assert refused_by_database(Incubator, first.pk, slug="")
        assert refused_by_database(Incubator, first.pk, slug=second.slug)


class TestConstraints:
    def test_negative_area_is_refused(self):
        incubator = make_incubator()
        incubator.floor_area_m2 = -1
        with pytest.raises(ValidationError) as error:
            incubator.full_clean()
        assert "floor_area_m2" in error.value.message_dict
        assert refused_by_database(Incubator, incubator.pk, floor_area_m2=-1)
        incubator.refresh_from_db()
        assert incubator.floor_area_m2 is None

    def test_unknown_enum_values_are_refused_by_the_database(self):
        incubator = make_incubator()
        assert refused_by_database(Incubator, incubator.pk, status="bogus")
        assert refused_by_database(Incubator, incubator.pk, recognition="bogus")
        assert refused_by_database(Incubator, incubator.pk, publication_state="bogus")
        institution = make_institution()
        assert refused_by_database(Institution, institution.pk, kind="bogus")

    def test_recognition_batch_needs_a_recognition(self):
        incubator = make_incubator()
        assert refused_by_database(Incubator, incubator.pk, recognition_batch=1)
        assert not refused_by_database(
            Incubator,
            incubator.pk,
            recognition=Incubator.Recognition.DISTRICT_HIGH_QUALITY,
            recognition_batch=1,
        )

    def test_project_year_must_be_sane(self):
        project = make_project(year=2021)
        assert refused_by_database(TransferProject, project.pk, year=1800)
        assert refused_by_database(TransferProject, project.pk, year=2500)
        with pytest.raises(ValidationError, match="year"):
            TransferProject(name_zh="项目", stage="transferred", year=1800).full_clean()

    def test_amounts_are_non_negative_and_undisclosed_differs_from_zero(self):
        project = make_project(transfer_amount_wan=Decimal("0"))
        for field in ("transfer_amount_wan", "financing_wan", "ip_pledge_wan"):
            assert refused_by_database(TransferProject, project.pk, **{field: Decimal("-1")})
        project.refresh_from_db()
        assert project.transfer_amount_wan == 0
        assert make_project().transfer_amount_wan is None

    def test_grade_applies_to_hospitals_only(self):
        university = make_institution(kind=Institution.Kind.UNIVERSITY)
        assert refused_by_database(Institution, university.pk, grade=Institution.Grade.TERTIARY_A)
        hospital = make_institution(kind=Institution.Kind.HOSPITAL)
        assert not refused_by_database(Institution, hospital.pk, grade=Institution.Grade.TERTIARY_A)

    def test_an_institution_is_not_its_own_parent(self):
        institution = make_institution()
        assert refused_by_database(Institution, institution.pk, parent=institution.pk)

    def test_a_parent_loop_is_refused(self):
        parent = make_institution()
        child = make_institution(parent=parent)
        parent.parent = child
        with pytest.raises(ValidationError, match="loop"):
            parent.full_clean()
        hub = make_platform()
        centre = make_platform(parent=hub)
        hub.parent = centre
        with pytest.raises(ValidationError, match="loop"):
            hub.full_clean()

    def test_an_alias_belongs_to_one_institution_whatever_its_case(self):
        make_institution(aliases=["SJTU"])
        other = make_institution()
        with pytest.raises(ValidationError, match="already has this alias"):
            InstitutionAlias(institution=other, name="sjtu").full_clean()
        with pytest.raises(IntegrityError), transaction.atomic():
            InstitutionAlias.objects.create(institution=other, name="sjtu")

    def test_partner_role_is_unique_per_platform(self):
        institution = make_institution()
        platform = make_platform(partners=[(institution, PlatformPartnership.Role.UNIVERSITY)])
        with pytest.raises(IntegrityError), transaction.atomic():
            PlatformPartnership.objects.create(
                platform=platform, institution=institution, role=PlatformPartnership.Role.UNIVERSITY
            )

    def test_indicator_period_must_be_ordered(self):
        indicator = Indicator.objects.create(
            name_zh="指标",
            theme="awards",
            value=1,
            unit="item",
            period_zh="2021年",
            period_start=date(2021, 1, 1),
        )
        assert refused_by_database(Indicator, indicator.pk, period_end=date(2020, 1, 1))
        assert refused_by_database(Indicator, indicator.pk, value=-1)

    def test_milestone_date_matches_its_precision(self):
        milestone = Milestone(
            title_zh="事件", occurred_on=date(2020, 5, 1), date_precision=Milestone.Precision.YEAR
        )
        with pytest.raises(ValidationError, match="1 January"):
            milestone.full_clean()
        milestone.occurred_on = date(2020, 1, 1)
        milestone.full_clean()


class TestBilingual:
    def test_english_name_when_english_is_active(self):
        district = make_district(
            name_zh="枫林生命健康科创街区", name_en="Fenglin Life & Health Innovation District"
        )
        with translation.override("en"):
            assert district.name == "Fenglin Life & Health Innovation District"
        with translation.override("zh-hans"):
            assert district.name == "枫林生命健康科创街区"

    def test_falls_back_to_chinese_when_english_is_missing(self):
        institution = make_institution(name_zh="树图区块链研究院", name_en="")
        with translation.override("en"):
            assert institution.name == "树图区块链研究院"


def test_published_hides_drafts():
    published = make_incubator()
    make_incubator(publication_state=PublicationState.DRAFT)
    assert list(Incubator.objects.published()) == [published]


def test_str_of_every_model():
    source = make_source(key="S9", publisher="东方网", published_on=date(2021, 12, 2))
    assert str(source) == "S9 · 东方网 · 2021-12-02"
    assert str(make_field(name_zh="核能")) == "核能"
    assert str(make_district(name_zh="枫林生命健康科创街区")) == "枫林生命健康科创街区"
    assert str(make_institution(name_zh="华东理工大学")) == "华东理工大学"
    assert str(make_incubator(name_zh="模速空间")) == "模速空间"
    assert str(make_platform(name_zh="转化中心")) == "转化中心"
    assert str(make_project(name_zh="磁波刀")) == "磁波刀"
    milestone = Milestone.objects.create(title_zh="成立", occurred_on=date(2020, 1, 1))
    assert str(milestone) == "2020-01-01 成立"


def test_every_listed_model_has_a_stable_url():
    district = make_district(slug="fenglin")
    assert district.get_absolute_url() == "/en/districts/fenglin/"
    incubator = make_incubator(name_en="ModelSpeed Space")
    assert incubator.get_absolute_url() == f"/en/incubators/{incubator.pk}-modelspeed-space/"
    for record in (make_institution(), make_platform(), make_project()):
        assert str(record.pk) in record.get_absolute_url()


def test_district_display_order_is_unique():
    make_district(display_order=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        InnovationDistrict.objects.create(name_zh="重复", short_name_zh="重复", display_order=1, slug="dup")


@pytest.mark.django_db
def test_choice_labels_are_djangos():
    """The models' own get_<field>_display() give what Django's would, in either language."""
    from django.db.models import Model

    from incubators.models import Incubator
    from transfers.models import TransferProject

    cases = [
        (TransferProject, "stage", [*TransferProject.Stage.values, "no-such"]),
        (TransferProject, "transfer_mode", ["", *TransferProject.TransferMode.values]),
        (Incubator, "status", Incubator.Status.values),
        (Incubator, "recognition", ["", *Incubator.Recognition.values]),
    ]
    for language in ("zh-hans", "en"):
        with translation.override(language):
            for model, name, values in cases:
                field = model._meta.get_field(name)
                for value in values:
                    record = model(**{name: value})
                    assert getattr(record, f"get_{name}_display")() == Model._get_FIELD_display(record, field)


def test_for_display_leaves_out_the_search_columns_of_the_records_selected_with_them():
    project = make_project(platform=make_platform(), district=make_district())
    shown = TransferProject.objects.select_related("platform", "district", "owner_institution").for_display()
    sql = str(shown.query)
    assert "search_text" not in sql and "search_document" not in sql and "search_title" not in sql
    assert '"transfers_transferplatform"."name_zh"' in sql and '"districts_innovationdistrict"."slug"' in sql
    record = shown.get(pk=project.pk)
    assert (record.platform.name_zh, record.district.slug) == (
        project.platform.name_zh,
        project.district.slug,
    )
    assert "search_text" in str(TransferProject.objects.select_related("platform").query)
