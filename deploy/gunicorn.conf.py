"""gunicorn settings for `make serve` (production). Every value can be set from the environment."""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# Sync workers: the portal is CPU-bound (templates) and PostgreSQL answers in milliseconds.
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() + 1))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
# Above PostgreSQL's statement_timeout (DB_STATEMENT_TIMEOUT_MS, 10 s): a slow query is
# cancelled and answered 503 long before the worker would be killed.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
# Recycle workers now and then so memory stays bounded.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "5000"))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", "500"))
# The portal logs one line per request itself (stdout); gunicorn logs its own events to stderr.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")
# Trust X-Forwarded-* only from these proxy addresses.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


def post_worker_init(worker):
    """Build the project index before the worker's first request (about 2 s at 100k projects).

    With the database unreachable the worker starts anyway; the first request builds it.
    """
    _return_large_blocks_to_the_system()
    from django.db import DatabaseError

    from transfers.project_index import get_index

    try:
        get_index()
    except DatabaseError as error:
        worker.log.warning("Project index not built at start: %s", error)
    _exclude_startup_objects_from_garbage_collection()


def _return_large_blocks_to_the_system():
    """Keep glibc from holding on to the index's large temporary arrays.

    glibc serves blocks above a threshold with mmap and unmaps them when freed, but raises the
    threshold each time such a block is freed: after a few searches (which then scanned arrays of
    several MB; an index build still makes such temporaries) they came from the heap, which it does
    not shrink, and a worker grew by some 35 MB. Setting the threshold fixes it at 256 KB.
    Elsewhere (another C library) nothing happens.
    """
    import ctypes

    m_mmap_threshold = -3
    try:
        ctypes.CDLL(None).mallopt(m_mmap_threshold, 256 * 1024)
    except (AttributeError, OSError):
        pass


def _exclude_startup_objects_from_garbage_collection():
    """Move what the worker holds for good (modules, URL patterns, templates) out of the
    collector's reach: a full collection walked those ~130,000 objects and stopped a request
    for about 75 ms every few hundred requests, which set the p99 latency."""
    import gc

    gc.collect()
    gc.freeze()
