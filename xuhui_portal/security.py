"""Log admin logins, failures and lockouts: who and from where, never a password."""

import logging

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver

logger = logging.getLogger("xuhui_portal.security")


def _address(request) -> str:
    if request is None:
        return "-"
    return request.META.get("REMOTE_ADDR", "-")


@receiver(user_logged_in)
def log_login(sender, request, user, **kwargs):
    logger.info("login succeeded user=%s address=%s", user.get_username(), _address(request))


@receiver(user_login_failed)
def log_login_failure(sender, credentials, request=None, **kwargs):
    # `credentials` is already scrubbed by Django; only the username is logged.
    logger.warning("login failed user=%s address=%s", credentials.get("username", "-"), _address(request))


@receiver(user_locked_out)
def log_lockout(sender, request, username, ip_address, **kwargs):
    logger.warning("login locked out user=%s address=%s", username, ip_address)
