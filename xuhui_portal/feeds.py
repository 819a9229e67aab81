"""Atom feed of newly published transfer projects and incubators."""

from itertools import chain

from django.contrib.syndication.views import Feed
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.translation import gettext_lazy as _

from incubators.models import Incubator
from transfers.models import TransferProject

#: Entries in the feed: the newest of each kind, merged by publication date.
FEED_SIZE = 50


class NewlyPublishedFeed(Feed):
    feed_type = Atom1Feed
    title = _("Xuhui Innovation Portal: newly published projects and incubators")
    subtitle = _("Transfer projects and incubators as they are published in the directory.")

    def link(self):
        return reverse("home")

    def items(self):
        projects = (
            TransferProject.objects.published().for_display().order_by("-published_at", "-pk")[:FEED_SIZE]
        )
        incubators = Incubator.objects.published().for_display().order_by("-published_at", "-pk")[:FEED_SIZE]
        merged = sorted(
            chain(projects, incubators), key=lambda record: (record.published_at, record.pk), reverse=True
        )
        return merged[:FEED_SIZE]

    def item_title(self, item):
        return item.name

    def item_description(self, item):
        text = item.summary if isinstance(item, TransferProject) else item.description
        return text or str(item._meta.verbose_name)

    def item_link(self, item):
        return item.get_absolute_url()

    def item_guid(self, item):
        return f"urn:xuhui-portal:{item._meta.label_lower}:{item.pk}"

    item_guid_is_permalink = False

    def item_pubdate(self, item):
        return item.published_at

    def item_updateddate(self, item):
        return item.updated_at

    def item_categories(self, item):
        return [str(item._meta.verbose_name)]
