from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from districts.api import (
    DistrictViewSet,
    FieldViewSet,
    IndicatorViewSet,
    InstitutionViewSet,
    MilestoneViewSet,
    SourceViewSet,
)
from incubators.api import IncubatorViewSet
from transfers.api import PlatformViewSet, ProjectViewSet

router = DefaultRouter()
router.register("districts", DistrictViewSet, basename="district")
router.register("incubators", IncubatorViewSet, basename="incubator")
router.register("institutions", InstitutionViewSet, basename="institution")
router.register("platforms", PlatformViewSet, basename="platform")
router.register("projects", ProjectViewSet, basename="project")
router.register("indicators", IndicatorViewSet, basename="indicator")
router.register("fields", FieldViewSet, basename="field")
router.register("sources", SourceViewSet, basename="source")
router.register("milestones", MilestoneViewSet, basename="milestone")

app_name = "api"
urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its bootstrap script from a URL, so the page needs no inline script.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api:schema"), name="redoc"),
    path("", include(router.urls)),
]
