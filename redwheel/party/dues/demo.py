"""Demo party dues: every verified member of the demo city assessed for the previous and the
current quarter, most months paid (cash, transfer, WeChat/Alipay recorded, a few by relatives
and a few voluntary extras), some members in arrears, one approved exemption and one request
waiting for the committee. Through the services, as the people who would do it: members with
an account confirm their own income (shown what the platforms recorded), the branch records
the others' declarations and the payments.
"""

import random
from decimal import Decimal

from django.db import transaction

from redwheel.accounts.models import Grant, Role
from redwheel.core.dates import local_date, month_start, previous_month
from redwheel.drivers.models import PARTY_MEMBER_CATEGORIES, Driver, Membership
from redwheel.party.dues import rules as dues_rules
from redwheel.party.dues import selectors, services
from redwheel.party.dues.models import Assessment, Method

# Members' income suggestions read the month of operating data.
DEMO_AFTER = ("operations",)
NET_SHARE = Decimal("0.62")  # what a driver keeps of the turnover after commission and costs


def build_demo(demo) -> bool:
    """The demo app's hook (docs/demo.md); `demo` is its DemoContext."""
    city = demo.city
    if Assessment.objects.filter(branch__path__startswith=city.path).exists():
        return False
    rng = random.Random(demo.seed)
    members = list(
        Driver.objects.filter(
            membership__state=Membership.State.VERIFIED,
            membership__category__in=PARTY_MEMBER_CATEGORIES,
            membership__branch__path__startswith=city.path,
        )
        .select_related("membership__branch", "user")
        .order_by("id")
    )
    if not members:
        demo.say("no verified members: no dues")
        return False
    today = local_date()
    month = month_start(today)
    current = dues_rules.quarter_start(month)
    previous = dues_rules.previous_quarter(current)
    months = dues_rules.months_between(previous, previous_month(month))
    secretary = demo.account("secretary")
    secretary_paths = list(
        Grant.objects.filter(user=secretary, role=Role.SECRETARY).values_list(
            "unit__path", flat=True
        )
    )

    def recorder(member):
        branch = member.membership.branch.path
        return secretary if any(branch.startswith(p) for p in secretary_paths) else demo.committee

    in_arrears, relieved = 0, None
    with transaction.atomic():
        for index, member in enumerate(members):
            staff = recorder(member)
            _assess(member, staff, previous, current, rng)
            behind = 0 if index % 6 else rng.choice((2, 3, 4))  # every sixth member lags
            paid_months = months[: max(0, len(months) - behind)]
            for period in paid_months:
                amount = selectors.member_dues(member).line(period).due
                if amount is None or amount <= 0:
                    continue
                services.payment_record(
                    actor=staff,
                    member=member,
                    period=period,
                    amount=amount,
                    method=rng.choice(Method.values[:4]),
                    receipt_no=f"DF{period:%Y%m}{member.pk:05d}",
                    paid_by_name=rng.choice(["", "", "", "", "妻子", "儿子"]),
                )
            if index % 10 == 3:  # a few pay more than they owe, of their own accord
                services.payment_record(
                    actor=staff, member=member, period=months[-1], amount=Decimal("50.00"),
                    method=Method.WECHAT, voluntary=True, note="自愿多交",
                )  # fmt: skip
            if behind:
                in_arrears += 1
                if relieved is None and staff == secretary and behind >= 2:
                    relieved = _exemption(demo, member, secretary, months[-behind:][:2])
        waiting = next((m for m in members if recorder(m) == secretary and m != relieved), None)
        if waiting is not None:
            services.hardship_request(
                actor=secretary, member=waiting, kind="reduce", months_from=month,
                months_to=dues_rules.next_quarter(current), reduced_amount=Decimal("5.00"),
                reason="家人住院，本季度收入明显减少。",
            )  # fmt: skip
            request = waiting.dues_hardship_requests.get()
            services.hardship_agree(actor=secretary, request=request, note="支委会已同意")
    demo.say(
        f"{len(members)} members assessed, {in_arrears} in arrears, "
        f"one exemption approved ({relieved.name if relieved else 'none'})"
    )
    return True


def _assess(member, staff, previous, current, rng) -> None:
    incomes = [Decimal(rng.randrange(3500, 11000)) for _month in range(3)]
    if rng.random() < 0.15:
        incomes[rng.randrange(3)] = Decimal(0)  # a month off the road
    services.assessment_save(
        actor=staff, member=member, basis="no_wage", month_incomes=incomes, quarter=previous,
        note="支部登记（党员口头申报）",
    )  # fmt: skip
    if member.user_id is not None:  # the member confirms this quarter on their phone
        shown = selectors.suggestion_for(member.user, member, current)
        if shown is not None and shown.has_data:
            figures = [dues_rules.to_fen(t * NET_SHARE) for t in shown.month_incomes]
        else:
            figures = [m + rng.randrange(-500, 500) for m in incomes]
        services.assessment_save(
            actor=member.user, member=member, basis="no_wage",
            month_incomes=[max(Decimal(0), f) for f in figures],
        )  # fmt: skip
    else:
        basis = rng.choice(["no_wage"] * 8 + ["wage", "retired"])
        services.assessment_save(
            actor=staff, member=member, basis=basis, quarter=current,
            month_incomes=incomes if basis == "no_wage" else None,
            income=None if basis == "no_wage" else Decimal(rng.randrange(3000, 9000)),
            note="支部登记（党员书面申报）",
        )  # fmt: skip


def _exemption(demo, member, secretary, months):
    request = services.hardship_request(
        actor=secretary, member=member, kind="exempt", months_from=months[0],
        months_to=months[-1], reason="车辆事故停运两个月，无收入。",
    )  # fmt: skip
    services.hardship_agree(actor=secretary, request=request, note="支委会讨论同意")
    services.hardship_approve(actor=demo.committee, request=request, note="同意免交")
    return member
