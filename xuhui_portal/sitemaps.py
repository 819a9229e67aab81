"""sitemap.xml: every public page, in Chinese and English (hreflang alternates)."""

from django.contrib.sitemaps import Sitemap
from django.urls import reverse

from districts.models import InnovationDistrict, Institution
from incubators.models import Incubator
from transfers.models import TransferPlatform, TransferProject


class BilingualSitemap(Sitemap):
    i18n = True
    alternates = True
    x_default = True
    # Each record appears once per language; two languages keep a page under 50,000 URLs.
    limit = 20_000


class PageSitemap(BilingualSitemap):
    changefreq = "daily"
    priority = 0.8

    def items(self):
        return [
            "home",
            "districts:list",
            "incubators:list",
            "districts:institution-list",
            "transfers:platform-list",
            "transfers:project-list",
        ]

    def location(self, item):
        return reverse(item)


class RecordSitemap(BilingualSitemap):
    changefreq = "weekly"

    def __init__(self, model):
        super().__init__()
        self.model = model

    def items(self):
        return self.model.objects.published().only("pk", "slug", "updated_at").order_by("pk")

    def lastmod(self, item):
        return item.updated_at


SITEMAPS = {
    "pages": PageSitemap(),
    "districts": RecordSitemap(InnovationDistrict),
    "incubators": RecordSitemap(Incubator),
    "institutions": RecordSitemap(Institution),
    "platforms": RecordSitemap(TransferPlatform),
    "projects": RecordSitemap(TransferProject),
}
