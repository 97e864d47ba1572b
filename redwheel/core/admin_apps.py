"""The admin app with RedWheel's superuser-only site (kept apart: app configs load first)."""

from django.contrib.admin.apps import AdminConfig


class RedWheelAdminConfig(AdminConfig):
    default_site = "redwheel.core.admin_site.SuperuserAdminSite"
