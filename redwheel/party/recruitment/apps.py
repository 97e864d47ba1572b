from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

# How often the worker's scheduler runs the digest job (seconds); it sends each secretary one
# digest per ISO week, so running it hourly only catches the first run of the week.
DIGEST_EVERY_SECONDS = 3600


class PartyRecruitmentConfig(AppConfig):
    name = "redwheel.party.recruitment"
    label = "party_recruitment"
    verbose_name = _("Recruitment (发展党员)")

    def ready(self):
        from redwheel.core import attention, menus, scheduler
        from redwheel.party.recruitment import attention as cards
        from redwheel.party.recruitment import permissions

        permissions.register()
        scheduler.register(
            "recruitment_weekly_digest",
            DIGEST_EVERY_SECONDS,
            "redwheel.party.recruitment.tasks.send_weekly_digests",
        )
        menus.staff(_("Recruitment (发展党员)"), "recruitment:list", group=menus.PARTY, order=10)
        menus.staff(
            _("Recruitment pipeline"),
            "recruitment:versions",
            group=menus.PARTY,
            order=11,
            action=None,
            allowed=_is_committee,
        )
        attention.register("recruitment", cards.cards)


def _is_committee(user) -> bool:
    """A grant on a city's root (committee staff edit, the committee's other roles read). From
    the grant paths the menu has already read for `view`, so the entry adds no query."""
    from redwheel.core.permissions import granted_paths, is_unscoped

    if is_unscoped(user):
        return True
    return any(path.count(".") == 1 for path in granted_paths(user, "view"))
