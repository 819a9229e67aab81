from districts.models import InnovationDistrict, Institution
from xuhui_portal.resources import (
    DISTRICT_LOOKUPS,
    INSTITUTION_LOOKUPS,
    DirectoryResource,
    fields_column,
    link_column,
)

from .models import TransferPlatform, TransferProject


class TransferProjectResource(DirectoryResource):
    owner_institution = link_column("owner_institution", Institution, INSTITUTION_LOOKUPS)
    platform = link_column("platform", TransferPlatform, ("name_zh", "name_en", "slug"))
    district = link_column("district", InnovationDistrict, DISTRICT_LOOKUPS)
    # Not called `fields`: that name is the resource's own list of columns.
    tech_fields = fields_column("fields")

    class Meta(DirectoryResource.Meta):
        model = TransferProject
