from django.views.generic import DetailView, ListView

from xuhui_portal.views import CanonicalDetailView

from .models import InnovationDistrict, Institution


class DistrictListView(ListView):
    queryset = InnovationDistrict.objects.published()


class DistrictDetailView(DetailView):
    queryset = InnovationDistrict.objects.published()


class InstitutionListView(ListView):
    queryset = Institution.objects.published().select_related("district")
    paginate_by = 50


class InstitutionDetailView(CanonicalDetailView):
    model = Institution
