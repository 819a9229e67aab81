"""The portal's admin site: optional (or required) second factor, titles, lockout-aware login."""

from django.conf import settings
from django.contrib.admin import AdminSite
from django.utils.translation import gettext_lazy as _
from django_otp import user_has_device
from django_otp.admin import OTPAdminAuthenticationForm


class PortalAuthenticationForm(OTPAdminAuthenticationForm):
    """Password, then a TOTP code for staff who have a device (for everyone with OTP_REQUIRED)."""

    def clean_otp(self, user):
        if user is None:
            return
        if settings.OTP_REQUIRED or user_has_device(user, confirmed=True):
            super().clean_otp(user)


class PortalAdminSite(AdminSite):
    site_header = _("Xuhui Innovation Portal administration")
    site_title = _("Xuhui Innovation Portal")
    index_title = _("Directory records")
    login_form = PortalAuthenticationForm
    login_template = "otp/admin111/login.html"

    def has_permission(self, request) -> bool:
        if not super().has_permission(request):
            return False
        user = request.user
        if user.is_verified():
            return True
        # Not verified by a code: enough only where no second factor is asked for.
        return not settings.OTP_REQUIRED and not user_has_device(user, confirmed=True)
