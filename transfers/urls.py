from django.urls import path

from . import views

app_name = "transfers"
urlpatterns = [
    path("platforms/", views.PlatformListView.as_view(), name="platform-list"),
    path("platforms/<int:pk>/", views.PlatformDetailView.as_view(), name="platform-detail-short"),
    path("platforms/<int:pk>-<slug:slug>/", views.PlatformDetailView.as_view(), name="platform-detail"),
    path("projects/", views.ProjectListView.as_view(), name="project-list"),
    path("projects/<int:pk>/", views.ProjectDetailView.as_view(), name="project-detail-short"),
    path("projects/<int:pk>-<slug:slug>/", views.ProjectDetailView.as_view(), name="project-detail"),
]
