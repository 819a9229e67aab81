from django.conf import settings
from rest_framework.throttling import AnonRateThrottle


class AnonymousApiThrottle(AnonRateThrottle):
    """Throttles anonymous API clients by address at settings.API_ANON_RATE (env API_ANON_RATE).

    The rate is read per request rather than at import, so it follows the settings.
    """

    def get_rate(self):
        return settings.API_ANON_RATE
