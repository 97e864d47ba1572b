from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DriversConfig(AppConfig):
    name = "redwheel.drivers"
    label = "drivers"
    verbose_name = _("Drivers and members")

    def ready(self):
        from redwheel.drivers import coverage, permissions
        from redwheel.orgs.selectors import register_unit_counter

        permissions.register()
        register_unit_counter(coverage.unit_member_counts)

        from redwheel.core import menus

        menus.staff(_("Drivers"), "drivers:list", group=menus.DRIVERS, order=10)
        menus.staff(_("Verification"), "drivers:verification_queue", group=menus.DRIVERS, order=20)
        menus.staff(_("Imports"), "imports:list", group=menus.DRIVERS, order=30)
        menus.driver(_("Me"), "me:home", order=10, group=menus.MY_MEMBERSHIP)
        menus.driver(_("Membership"), "me:membership", order=20, group=menus.MY_MEMBERSHIP)
        menus.driver(_("Badge"), "me:badge", order=30, group=menus.MY_MEMBERSHIP)
        menus.quick(_("My membership"), "me:membership", order=50, icon="党")

        from redwheel.drivers import attention

        attention.register()
