from django.views.generic import ListView

from xuhui_portal.views import CanonicalDetailView

from .models import Incubator


class IncubatorListView(ListView):
    queryset = Incubator.objects.published().select_related("district")
    paginate_by = 24


class IncubatorDetailView(CanonicalDetailView):
    model = Incubator
