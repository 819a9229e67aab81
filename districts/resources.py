from xuhui_portal.resources import DISTRICT_LOOKUPS, INSTITUTION_LOOKUPS, DirectoryResource, link_column

from .models import InnovationDistrict, Institution


class InstitutionResource(DirectoryResource):
    district = link_column("district", InnovationDistrict, DISTRICT_LOOKUPS)
    parent = link_column("parent", Institution, INSTITUTION_LOOKUPS)

    class Meta(DirectoryResource.Meta):
        model = Institution
