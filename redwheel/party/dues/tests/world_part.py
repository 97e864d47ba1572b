"""Party dues' part of the tenancy world (redwheel/tests/world.py): one object of each model,
built through the services."""

from redwheel.core.dates import local_date, month_start
from redwheel.party.dues import reminders, selectors, services
from redwheel.party.dues import rules as dues_rules
from redwheel.party.dues.models import RuleSet


def build(world, operator) -> None:
    city, member = world.city, world.member
    today = local_date()
    next_quarter = dues_rules.next_quarter(dues_rules.quarter_start(today))
    rule_set = services.rules_publish(
        actor=operator,
        city=city.root,
        effective_from=next_quarter,
        wage_bands=dues_rules.bands_to_json(dues_rules.DEFAULT.wage_bands),
        retired_bands=dues_rules.bands_to_json(dues_rules.DEFAULT.retired_bands),
        flat_amount=dues_rules.DEFAULT.flat_amount,
        note=f"{world.marker}党费规则",
    )
    assessment = services.assessment_save(
        actor=member.user, member=member, basis="wage", income="4000", note=world.marker
    )
    payment, extra = services.payment_record(
        actor=operator, member=member, period=month_start(today), amount="40.00",
        method="cash", receipt_no=f"{world.marker}-001", months=2, note=world.marker,
    )  # fmt: skip
    reversal = services.payment_reverse(actor=operator, payment=extra, reason=world.marker)
    hardship = services.hardship_request(
        actor=member.user, member=member, kind="exempt", months_from=month_start(today),
        months_to=month_start(today), reason=f"{world.marker}生病住院",
    )  # fmt: skip
    reminder = reminders.remind(
        member=member,
        kind="month_end",
        period=month_start(today),
        dues=selectors.member_dues(member),
    )
    world.add(*RuleSet.objects.filter(city=city.root), rule_set, assessment)
    world.add(payment, extra, reversal, hardship, *hardship.activities.all(), reminder)
