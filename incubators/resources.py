from districts.models import InnovationDistrict, Institution
from xuhui_portal.resources import (
    DISTRICT_LOOKUPS,
    INSTITUTION_LOOKUPS,
    DirectoryResource,
    fields_column,
    link_column,
)

from .models import Incubator


class IncubatorResource(DirectoryResource):
    district = link_column("district", InnovationDistrict, DISTRICT_LOOKUPS)
    operator = link_column("operator", Institution, INSTITUTION_LOOKUPS)
    host_institution = link_column("host_institution", Institution, INSTITUTION_LOOKUPS)
    focus_fields = fields_column("focus_fields")

    class Meta(DirectoryResource.Meta):
        model = Incubator
        exclude = (*DirectoryResource.Meta.exclude, "operator_accounts")
