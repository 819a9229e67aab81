from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    """The project package as an app: shared bases, site-wide commands and template tags."""

    name = "xuhui_portal"
    verbose_name = _("Xuhui Innovation Portal")
