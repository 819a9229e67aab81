"""Anonymous page and API caching, invalidated by a content generation in the shared cache.

Every cached response's key contains the current generation. Any change to a record of the
directory (save, delete, many-to-many change, fixture load, bulk generation) writes a new
generation, so every process and every app server sharing the cache stops using the old entries
at once; they expire on their own. With Redis down the generation cannot be read and nothing is
cached or served from the cache.
"""

import threading
import time
from collections.abc import Collection
from contextlib import contextmanager

from django.core.cache import cache
from django.db.models.signals import m2m_changed, post_delete, post_save

GENERATION_KEY = "portal:content-generation"
#: Apps whose records appear on public pages.
CONTENT_APPS = {"districts", "incubators", "transfers"}


def current_generation() -> int | None:
    """The content generation, created on first use; None when the cache is unreachable."""
    generation = cache.get(GENERATION_KEY)
    if generation is None:
        cache.add(GENERATION_KEY, time.time_ns(), timeout=None)
        generation = cache.get(GENERATION_KEY)
    return generation


def read_and_count(keys: list[str], throttle, counter_key: str) -> tuple[dict, int | None]:
    """`cache.get_many(keys)`, and this request added to the `throttle`'s counter `counter_key`:
    (values found, new count or None when the cache is unreachable).

    On Redis both go in one round trip, which is most of what a cached API response costs; an
    unreachable Redis reads as an empty cache. Other caches make two calls.
    """
    client = getattr(cache, "client", None)
    if not hasattr(client, "get_client"):  # not django-redis
        return cache.get_many(keys), throttle.count(counter_key)
    # Imported here, not at the top: the redis package is 5 MB of a worker's memory, which a
    # portal without Redis (the local-memory cache) need not carry.
    from redis.exceptions import RedisError

    counter = cache.make_key(counter_key)
    try:
        pipeline = client.get_client(write=True).pipeline(transaction=False)
        pipeline.mget([cache.make_key(key) for key in keys])
        pipeline.incr(counter)
        pipeline.expire(counter, throttle.counter_timeout)
        values, count, _ = pipeline.execute()
    except RedisError:
        return {}, None
    return {
        key: client.decode(value) for key, value in zip(keys, values, strict=True) if value is not None
    }, count


def bump_generation(
    using: str | None = None, projects: bool = True, project_ids: Collection[int] | None = None
) -> None:
    """Content changed: new cache generation, and a new content version in the database (and
    of the projects' version too, unless the change cannot touch the project index; with the
    ids of the projects changed when only those are).

    The database version is written in the caller's transaction, so in-process indexes
    (transfers/project_index.py) see the change exactly when it is committed.
    """
    from .models import ContentVersion

    ContentVersion.bump(using, projects=projects, project_ids=project_ids)
    cache.set(GENERATION_KEY, time.time_ns(), timeout=None)


_bulk = threading.local()


@contextmanager
def one_invalidation_for_all(using: str | None = None):
    """Bulk writes (generated data): no invalidation per record saved or deleted, one at the
    end, in the caller's transaction. Deleting 100k projects otherwise wrote 100k versions."""
    _bulk.active = True
    try:
        yield
    finally:
        _bulk.active = False
    bump_generation(using)


def _content_changed(sender, using=None, **kwargs) -> None:
    if getattr(_bulk, "active", False):
        return
    if sender._meta.app_label in CONTENT_APPS:
        from transfers.project_index import BUILT_FROM, changed_projects, leaves_index_as_is

        projects = sender._meta.label_lower in BUILT_FROM and not leaves_index_as_is(sender, **kwargs)
        bump_generation(
            using, projects=projects, project_ids=changed_projects(sender, **kwargs) if projects else None
        )


def connect_invalidation() -> None:
    post_save.connect(_content_changed, dispatch_uid="page-cache-save")
    post_delete.connect(_content_changed, dispatch_uid="page-cache-delete")
    m2m_changed.connect(_content_changed, dispatch_uid="page-cache-m2m")
