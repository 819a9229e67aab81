from django.conf import settings
from rest_framework.throttling import AnonRateThrottle

#: The attribute of an HttpRequest that holds its count in the throttle window, when the page
#: cache has counted it already (together with its own lookup, in one round trip to the cache).
COUNTED = "anonymous_api_request_count"


class AnonymousApiThrottle(AnonRateThrottle):
    """Throttles anonymous API clients by address at settings.API_ANON_RATE (env API_ANON_RATE).

    Requests are counted in fixed windows (e.g. each calendar minute for "120/minute"): one
    atomic increment in the shared cache per request. DRF's own throttle keeps a list of every
    request's time and rewrites it each time, which at a few hundred requests a second cost more
    than serving a cached response. The rate is read per request, so it follows the settings.
    """

    def get_rate(self):
        return settings.API_ANON_RATE

    def counter_key(self, request) -> str | None:
        """The cache key counting this client's requests in the current window; None when the
        request is not throttled (no rate, or a logged-in user)."""
        self.rate = self.get_rate()
        if self.rate is None:
            return None
        self.num_requests, self.duration = self.parse_rate(self.rate)
        key = self.get_cache_key(request, None)
        if key is None:
            return None
        self.now = self.timer()
        window = int(self.now // self.duration)
        self.window_end = (window + 1) * self.duration
        return f"{key}:{window}"

    def get_cache_key(self, request, view):
        # Before authentication (the page cache counts the requests it serves, and serves only
        # requests without a session or credentials) the request has no user: anonymous.
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}

    @property
    def counter_timeout(self) -> int:
        """How long a window's counter is kept: the window, and a second for clock skew."""
        return self.duration + 1

    def allow_request(self, request, view):
        key = self.counter_key(request)
        if key is None:
            return True
        count = getattr(request, COUNTED, None)
        if count is None:
            count = self.count(key)
        return self.admits(count)

    def count(self, key: str) -> int | None:
        """Add this request to the counter `key`; the new count, None if the cache is unreachable."""
        try:
            return self.cache.incr(key)
        except ValueError:  # the client's first request in this window
            return 1 if self.cache.add(key, 1, self.counter_timeout) else self.cache.incr(key)

    def admits(self, count: int | None) -> bool:
        # None: the cache is unreachable (errors ignored), and then nobody is throttled.
        return count is None or count <= self.num_requests

    def wait(self):
        return max(1.0, self.window_end - self.now)
