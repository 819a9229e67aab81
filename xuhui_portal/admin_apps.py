from django.contrib.admin.apps import AdminConfig


class PortalAdminConfig(AdminConfig):
    """django.contrib.admin with the portal's site (second factor, titles) as `admin.site`."""

    default_site = "xuhui_portal.admin_site.PortalAdminSite"
