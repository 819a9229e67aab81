from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    """The project package as an app: shared bases, site-wide commands and template tags."""

    name = "xuhui_portal"
    verbose_name = _("Xuhui Innovation Portal")

    def ready(self):
        from django.core.signals import request_finished, request_started

        from . import security  # noqa: F401  (connects the login signal receivers)
        from .models import end_request_versions, start_request_versions
        from .page_cache import connect_invalidation
        from .roles import create_roles_after_migrate

        post_migrate.connect(create_roles_after_migrate, sender=self)
        connect_invalidation()
        request_started.connect(start_request_versions, dispatch_uid="content-version-start")
        request_finished.connect(end_request_versions, dispatch_uid="content-version-end")
