from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path

from . import views

urlpatterns = i18n_patterns(
    path("", views.home, name="home"),
    path("search/", views.search, name="search"),
    path(settings.ADMIN_URL, admin.site.urls),
    path("", include("districts.urls")),
    path("incubators/", include("incubators.urls")),
    path("", include("transfers.urls")),
    prefix_default_language=False,
)
