"""Test data without ceremony: `make_<model>(**fields)` fills in what a test does not care about."""

import itertools
from datetime import date

from districts.models import InnovationDistrict, Institution, InstitutionAlias, Source, TechField
from incubators.models import Incubator
from transfers.models import PlatformPartnership, TransferPlatform, TransferProject
from xuhui_portal.models import PublicationState

_seq = itertools.count(1)


def make_source(**fields) -> Source:
    n = next(_seq)
    fields.setdefault("key", f"T{n}")
    fields.setdefault("publisher", "测试日报")
    fields.setdefault("published_on", date(2024, 1, 1))
    fields.setdefault("headline", f"测试报道 {n}")
    return Source.objects.create(**fields)


def make_field(**fields) -> TechField:
    n = next(_seq)
    fields.setdefault("name_zh", f"领域{n}")
    fields.setdefault("name_en", f"Field {n}")
    fields.setdefault("slug", f"field-{n}")
    return TechField.objects.create(**fields)


def _published(fields: dict) -> None:
    fields.setdefault("publication_state", PublicationState.PUBLISHED)


def _cite(record, sources):
    record.sources.set(sources if sources is not None else [make_source()])
    return record


def make_district(sources=None, **fields) -> InnovationDistrict:
    n = next(_seq)
    fields.setdefault("name_zh", f"测试科创街区{n}")
    fields.setdefault("name_en", f"Test Innovation District {n}")
    fields.setdefault("short_name_zh", f"测试{n}")
    fields.setdefault("display_order", 100 + n)
    _published(fields)
    return _cite(InnovationDistrict.objects.create(**fields), sources)


def make_institution(aliases=(), sources=None, **fields) -> Institution:
    n = next(_seq)
    fields.setdefault("name_zh", f"测试大学{n}")
    fields.setdefault("name_en", f"Test University {n}")
    fields.setdefault("kind", Institution.Kind.UNIVERSITY)
    _published(fields)
    institution = _cite(Institution.objects.create(**fields), sources)
    for alias in aliases:
        InstitutionAlias.objects.create(institution=institution, name=alias)
    return institution


def make_incubator(focus_fields=(), sources=None, **fields) -> Incubator:
    n = next(_seq)
    fields.setdefault("name_zh", f"测试孵化器{n}")
    fields.setdefault("name_en", f"Test Incubator {n}")
    fields.setdefault("status", Incubator.Status.OPERATING)
    _published(fields)
    incubator = _cite(Incubator.objects.create(**fields), sources)
    incubator.focus_fields.set(focus_fields)
    return incubator


def make_platform(hosts=(), partners=(), sources=None, **fields) -> TransferPlatform:
    """`partners` is a sequence of (institution, role) pairs."""
    n = next(_seq)
    fields.setdefault("name_zh", f"测试转化中心{n}")
    fields.setdefault("name_en", f"Test Transfer Centre {n}")
    _published(fields)
    platform = _cite(TransferPlatform.objects.create(**fields), sources)
    platform.host_institutions.set(hosts)
    for institution, role in partners:
        PlatformPartnership.objects.create(platform=platform, institution=institution, role=role)
    return platform


def make_project(fields_=(), sources=None, **fields) -> TransferProject:
    """`fields_` are the project's technology fields (`fields` is taken by the keyword arguments)."""
    n = next(_seq)
    fields.setdefault("name_zh", f"测试转化项目{n}")
    fields.setdefault("name_en", f"Test Transfer Project {n}")
    fields.setdefault("stage", TransferProject.Stage.TRANSFERRED)
    _published(fields)
    project = _cite(TransferProject.objects.create(**fields), sources)
    project.fields.set(fields_)
    return project
