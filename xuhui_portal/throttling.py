from django.conf import settings
from rest_framework.throttling import AnonRateThrottle


class AnonymousApiThrottle(AnonRateThrottle):
    """Throttles anonymous API clients by address at settings.API_ANON_RATE (env API_ANON_RATE).

    Requests are counted in fixed windows (e.g. each calendar minute for "120/minute"): one
    atomic increment in the shared cache per request. DRF's own throttle keeps a list of every
    request's time and rewrites it each time, which at a few hundred requests a second cost more
    than serving a cached response. The rate is read per request, so it follows the settings.
    """

    def get_rate(self):
        return settings.API_ANON_RATE

    def allow_request(self, request, view):
        self.rate = self.get_rate()
        if self.rate is None:
            return True
        self.num_requests, self.duration = self.parse_rate(self.rate)
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        self.now = self.timer()
        window = int(self.now // self.duration)
        self.window_end = (window + 1) * self.duration
        key = f"{key}:{window}"
        try:
            count = self.cache.incr(key)
        except ValueError:  # the client's first request in this window
            count = 1 if self.cache.add(key, 1, self.duration + 1) else self.cache.incr(key)
        # None: the cache is unreachable (errors ignored), and then nobody is throttled.
        return count is None or count <= self.num_requests

    def wait(self):
        return max(1.0, self.window_end - self.now)
