"""Demo 报到 ledger: the demo city's checked-in mobile members record their numbers (all but
one, who shows as "not recorded"); one has been away eight months and gets the six-month
reminder when the job runs; another, away seven months, has had the relationship transferred.

Through the services: members record their own entries, the mobile branch records the
transfer, the reminder job runs once at the present moment as the worker would.
"""

import random
from datetime import timedelta

from dateutil.relativedelta import relativedelta
from django.db import transaction
from django.utils.translation import gettext as _

from redwheel.accounts.models import Grant, Role
from redwheel.core.dates import local_date
from redwheel.drivers.models import Membership
from redwheel.party.mobile import services
from redwheel.party.mobile.models import LedgerEntry

DEMO_AFTER = ()

NOTES = ["在外地跑网约车，春节返乡。", "随家人在外地务工。", "长期在邻市机场蓄车池接单。", ""]


def _secretary(unit, fallback):
    grant = (
        Grant.objects.filter(
            unit__path__in=[*unit.ancestor_paths(), unit.path],
            role__in=[Role.SECRETARY, Role.ORGANISER, Role.STAFF],
        )
        .select_related("user")
        .order_by("-unit__depth", "id")
        .first()
    )
    return grant.user if grant else fallback


def build_demo(demo) -> bool:
    city = demo.city
    if LedgerEntry.objects.filter(mobile_branch__path__startswith=city.path).exists():
        demo.say(_("The demo 报到 ledger exists already; nothing to do."))
        return False
    memberships = list(
        Membership.objects.filter(
            mobile_branch__path__startswith=city.path,
            checked_in_at__isnull=False,
            driver__user__isnull=False,
        )
        .select_related("driver__user", "mobile_branch")
        .order_by("id")
    )
    if not memberships:
        demo.say(_("No mobile member is checked in; no demo ledger."))
        return False
    rng = random.Random(demo.seed)
    today = local_date()
    transferred = reminded = 0
    with transaction.atomic():
        for index, m in enumerate(memberships[:-1] if len(memberships) > 2 else memberships):
            months = {0: 8, 1: 7}.get(index, rng.randint(1, 5))
            away_since = today - relativedelta(months=months) - timedelta(days=rng.randint(0, 20))
            entry = services.ledger_entry_save(
                actor=m.driver.user,
                membership=m,
                national_ref=f"DY{away_since:%Y}{m.pk:08d}",
                activity_card_no=f"LD{rng.randint(0, 999999):06d}" if index % 3 else "",
                away_since=away_since,
                expected_return=today + timedelta(days=rng.randint(20, 200)),
                notes=rng.choice(NOTES),
            )
            if index == 1:
                services.transfer_record(
                    actor=_secretary(m.mobile_branch, demo.admin),
                    entry=entry,
                    to_organisation="深圳市宝安区新就业群体党委",
                    transferred_on=today - timedelta(days=10),
                    reference=f"ZJ{today:%Y}{m.pk:06d}",
                    note="已在全国党员管理信息系统办理转出。",
                )
                transferred += 1
        reminded = services.remind_due()
    demo.say(
        _("报到 ledger: %(n)s mobile members, %(t)s transfer recorded, %(r)s six-month reminders.")
        % {"n": len(memberships), "t": transferred, "r": reminded}
    )
    return True
