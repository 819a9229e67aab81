from django.views.generic import ListView

from xuhui_portal.views import CanonicalDetailView

from .models import TransferPlatform, TransferProject


class PlatformListView(ListView):
    queryset = TransferPlatform.objects.published()


class PlatformDetailView(CanonicalDetailView):
    model = TransferPlatform


class ProjectListView(ListView):
    queryset = TransferProject.objects.published().select_related("platform", "owner_institution")
    paginate_by = 24


class ProjectDetailView(CanonicalDetailView):
    model = TransferProject
