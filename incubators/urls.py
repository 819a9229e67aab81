from django.urls import path

from . import views

app_name = "incubators"
urlpatterns = [
    path("", views.IncubatorListView.as_view(), name="list"),
    path("<int:pk>/", views.IncubatorDetailView.as_view(), name="detail-short"),
    path("<int:pk>-<slug:slug>/", views.IncubatorDetailView.as_view(), name="detail"),
]
