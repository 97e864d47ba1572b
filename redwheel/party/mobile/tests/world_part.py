"""One object of each ledger model in the tenancy world (redwheel/tests/world.py): a member
checked in to mobile_branch_a eight months ago, reminded, with a transfer recorded."""

from datetime import timedelta

from dateutil.relativedelta import relativedelta
from django.utils import timezone

from redwheel.core.dates import local_date
from redwheel.drivers import services as drivers
from redwheel.party.mobile import services


def build(world, operator) -> None:
    city = world.city
    member = city.member(f"{world.marker}流动党员")
    membership = drivers.membership_check_in(
        actor=member.user,
        membership=member.membership,
        mobile_branch=city.mobile_branch_a,
        home_organisation=f"{world.marker}老家党支部",
    )
    away_since = local_date() - relativedelta(months=8)
    entry = services.ledger_entry_save(
        actor=member.user,
        membership=membership,
        national_ref="DY-2025-000123",
        activity_card_no="LD0001",
        away_since=away_since,
        expected_return=local_date() + timedelta(days=60),
        notes=f"{world.marker}在外跑车",
    )
    services.remind_due(now=timezone.now())
    transfer = services.transfer_record(
        actor=operator,
        entry=entry,
        to_organisation=f"{world.marker}流入地党组织",
        transferred_on=local_date(),
        reference="ZJ-0001",
    )
    entry.refresh_from_db()
    world.add(member, member.membership, entry, entry.reminder, transfer)
