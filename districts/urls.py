from django.urls import path

from . import views

app_name = "districts"
urlpatterns = [
    path("districts/", views.DistrictListView.as_view(), name="list"),
    path("districts/<slug:slug>/", views.DistrictDetailView.as_view(), name="detail"),
    path("institutions/", views.InstitutionListView.as_view(), name="institution-list"),
    path("institutions/<int:pk>/", views.InstitutionDetailView.as_view(), name="institution-detail-short"),
    path(
        "institutions/<int:pk>-<slug:slug>/", views.InstitutionDetailView.as_view(), name="institution-detail"
    ),
]
