"""sitemap.xml: every public page, in Chinese and English (hreflang alternates)."""

from collections.abc import Sequence

from django.contrib.sitemaps import Sitemap
from django.core.paginator import Paginator
from django.db.models import Max
from django.urls import reverse
from django.utils.functional import cached_property

from districts.models import InnovationDistrict, Institution
from incubators.models import Incubator
from transfers.models import TransferPlatform, TransferProject


class BilingualSitemap(Sitemap):
    i18n = True
    alternates = True
    x_default = True
    # URLs per sitemap page (each record appears once per language, with its alternates): a page
    # of 2,000 takes about 0.2 s to build, where 20,000 took 1.8 s; the protocol allows 50,000.
    limit = 2_000


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


class InEachLanguage(Sequence):
    """(record, language) pairs, record by record, as Django's i18n sitemaps list them, but read
    from the database one page at a time: Django builds the whole list even to count it, which
    took seconds at 100,000 projects."""

    def __init__(self, queryset, languages: list[str]):
        self.queryset = queryset
        self.languages = languages

    @cached_property
    def _records(self) -> int:
        return self.queryset.count()

    def __len__(self) -> int:
        return self._records * len(self.languages)

    def __getitem__(self, index):
        if not isinstance(index, slice):
            return self[index : index + 1][0]
        start, stop, _step = index.indices(len(self))
        per_record = len(self.languages)
        first, last = start // per_record, -(-stop // per_record)
        pairs = [(record, language) for record in self.queryset[first:last] for language in self.languages]
        return pairs[start - first * per_record : stop - first * per_record]


class RecordSitemap(BilingualSitemap):
    changefreq = "weekly"

    def __init__(self, model):
        super().__init__()
        self.model = model

    def items(self):
        return self.model.objects.published().only("pk", "slug", "updated_at").order_by("pk")

    @property
    def paginator(self) -> Paginator:
        # Every record is published in both languages (get_languages_for_item is not overridden).
        return Paginator(InEachLanguage(self.items(), self._languages()), self.limit)

    def lastmod(self, item):
        return item.updated_at

    def get_latest_lastmod(self):
        # For sitemap.xml. Django's default reads every record to find the latest (2.7 s at
        # 100k projects); the database answers in one query.
        return self.model.objects.published().aggregate(latest=Max("updated_at"))["latest"]


SITEMAPS = {
    "pages": PageSitemap(),
    "districts": RecordSitemap(InnovationDistrict),
    "incubators": RecordSitemap(Incubator),
    "institutions": RecordSitemap(Institution),
    "platforms": RecordSitemap(TransferPlatform),
    "projects": RecordSitemap(TransferProject),
}
