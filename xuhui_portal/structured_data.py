"""schema.org JSON-LD for detail pages, so search engines understand what a page describes."""

from districts.models import InnovationDistrict, Institution
from incubators.models import Incubator
from transfers.models import TransferPlatform, TransferProject

INSTITUTION_TYPES = {
    Institution.Kind.UNIVERSITY: "CollegeOrUniversity",
    Institution.Kind.HOSPITAL: "Hospital",
    Institution.Kind.RESEARCH_INSTITUTE: "ResearchOrganization",
    Institution.Kind.ENTERPRISE: "Corporation",
    Institution.Kind.AGENCY: "GovernmentOrganization",
}
XUHUI = {"@type": "AdministrativeArea", "name": "徐汇区, 上海市", "alternateName": "Xuhui District, Shanghai"}


def _names(record) -> dict:
    names = {"name": record.name_zh}
    if record.name_en:
        names["alternateName"] = record.name_en
    return names


def _place(district) -> dict:
    if district is None:
        return XUHUI
    return {"@type": "Place", "name": district.name_zh, "containedInPlace": XUHUI}


def structured_data(record, url: str) -> dict | None:
    """The JSON-LD object for a record's page, or None for kinds without one."""
    base = {"@context": "https://schema.org", "url": url, **_names(record)}
    if isinstance(record, Institution):
        data = {
            **base,
            "@type": INSTITUTION_TYPES.get(record.kind, "Organization"),
            "location": _place(record.district),
        }
        aliases = [alias.name for alias in record.aliases.all()]
        if aliases:
            data["alternateName"] = [name for name in [record.name_en, *aliases] if name]
        if record.parent_id:
            data["parentOrganization"] = {"@type": "Organization", "name": record.parent.name_zh}
    elif isinstance(record, Incubator | TransferPlatform):
        data = {**base, "@type": "Organization", "location": _place(record.district)}
    elif isinstance(record, TransferProject):
        data = {**base, "@type": "Project", "location": _place(record.district)}
        if record.owner_institution_id:
            data["parentOrganization"] = {"@type": "Organization", "name": record.owner_institution.name_zh}
    elif isinstance(record, InnovationDistrict):
        data = {**base, "@type": "Place", "containedInPlace": XUHUI}
    else:
        return None
    description = getattr(record, "summary_zh", "") or getattr(record, "description_zh", "")
    if description:
        data["description"] = description
    return data
