from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.contrib.sitemaps import views as sitemap_views
from django.urls import include, path

from . import views
from .feeds import NewlyPublishedFeed
from .sitemaps import SITEMAPS

urlpatterns = [
    path("api/", include("xuhui_portal.api_urls")),
    path("robots.txt", views.robots_txt, name="robots"),
    path("healthz", views.healthz, name="healthz"),
    path("sitemap.xml", sitemap_views.index, {"sitemaps": SITEMAPS}, name="sitemap"),
    path(
        "sitemap-<section>.xml",
        sitemap_views.sitemap,
        {"sitemaps": SITEMAPS},
        name="django.contrib.sitemaps.views.sitemap",
    ),
]
urlpatterns += i18n_patterns(
    path("", views.home, name="home"),
    path("search/", views.search, name="search"),
    path("feeds/latest.atom", NewlyPublishedFeed(), name="feed"),
    path("statistics/", views.statistics_page, name="statistics"),
    path("statistics/<slug:slug>.csv", views.statistics_csv, name="statistics-csv"),
    path("timeline/", views.timeline, name="timeline"),
    path(settings.ADMIN_URL, admin.site.urls),
    path("", include("districts.urls")),
    path("incubators/", include("incubators.urls")),
    path("", include("transfers.urls")),
    prefix_default_language=False,
)

handler400 = "xuhui_portal.views.bad_request"
handler500 = "xuhui_portal.views.server_error"

if settings.BENCHMARK_VIEWS:
    urlpatterns.append(path("bench/trivial/", views.trivial, name="bench-trivial"))
