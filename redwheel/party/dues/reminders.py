"""Dues reminders, sent by a periodic job (`tasks.send_dues_reminders`, hourly).

Two kinds, each at most once per member per month (a unique constraint on the delivery log,
`Reminder`, so two workers running the job at once still send one):

- **month end** (`month_end`): from `remind_days_before_month_end` days before the month's last
  day (default 3: from the 28th of a 31-day month), to each member whose current month is due
  and not fully recorded as paid;
- **arrears** (`arrears`): once a month to each member with at least `lapse_reminder_months`
  (default 3) past months outstanding.

Both settings belong to the city's rules version in force (`RuleSet`), so the committee changes
them with a new version. Reminders go to the member's in-app inbox (and by SMS when the rules
say so); a member without an account gets none. The log keeps which reminder went to whom and
when, and links the outbox rows whose delivery status the staff page shows.
"""

import calendar
from datetime import date, datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from redwheel.core.dates import local_date, month_start
from redwheel.core.models import Notification
from redwheel.core.notifications import notify_user
from redwheel.party.dues import balances
from redwheel.party.dues.models import Reminder
from redwheel.party.dues.rules import Rules
from redwheel.party.dues.selectors import dues_for
from redwheel.party.dues.services.common import members, rules_for

Kind = Reminder.Kind
BATCH = 500


def month_end_window_opens(month: date, rules: Rules) -> date:
    """The first local day on which the month-end reminder for `month` may go."""
    last = calendar.monthrange(month.year, month.month)[1]
    return date(month.year, month.month, max(1, last - rules.remind_days_before_month_end))


def due_kinds(dues: balances.MemberDues, rules: Rules, today: date) -> list[str]:
    """The kinds of reminder `dues` calls for today."""
    kinds = []
    if today >= month_end_window_opens(dues.month, rules) and dues.outstanding_this_month > 0:
        kinds.append(Kind.MONTH_END)
    if dues.months_in_arrears >= rules.lapse_reminder_months:
        kinds.append(Kind.ARREARS)
    return kinds


def send_due(now: datetime | None = None) -> int:
    """Send every reminder that is due now and was not sent yet. Returns how many were sent."""
    now = now or timezone.now()
    today = local_date(now)
    month = month_start(today)
    sent = 0
    queryset = members().filter(user__isnull=False, user__is_active=True).order_by("pk")
    last_pk = 0
    rules_cache: dict[str, Rules] = {}
    while True:
        chunk = list(queryset.filter(pk__gt=last_pk)[:BATCH])
        if not chunk:
            return sent
        last_pk = chunk[-1].pk
        already = set(
            Reminder.objects.filter(member__in=chunk, period=month).values_list("member_id", "kind")
        )
        for member_pk, dues in dues_for(chunk, month).items():
            member = dues.member
            branch = member.membership.branch
            city = branch.path.split(".", 1)[0]
            if city not in rules_cache:
                rules_cache[city] = rules_for(branch, today)
            for kind in due_kinds(dues, rules_cache[city], today):
                if (member_pk, kind) in already:
                    continue
                if remind(member=member, kind=kind, period=month, dues=dues, now=now,
                          sms=rules_cache[city].reminder_sms) is not None:  # fmt: skip
                    sent += 1


def remind(*, member, kind: str, period: date, dues, now=None, sms: bool = False):
    """Send one reminder and log it, unless it was already sent for `period`. Returns the log
    row, or None when another worker (or an earlier run) sent it."""
    now = now or timezone.now()
    amount = dues.outstanding_this_month if kind == Kind.MONTH_END else dues.arrears
    try:
        with transaction.atomic():
            row = Reminder.objects.create(
                member=member,
                branch=member.membership.branch,
                kind=kind,
                period=period,
                amount=amount,
                months_in_arrears=dues.months_in_arrears,
                sent_at=now,
            )
            title, body = _texts(kind, period, amount, dues.months_in_arrears)
            rows = notify_user(
                user=member.user,
                event=f"dues.reminder.{kind}",
                title=title,
                body=body,
                payload={"kind": kind, "period": period.isoformat(), "amount": str(amount)},
                sms=sms,
            )
            by_channel = {n.channel: n for n in rows}
            row.notification = by_channel.get(Notification.Channel.INBOX)
            row.sms_notification = by_channel.get(Notification.Channel.SMS)
            row.save(update_fields=["notification", "sms_notification", "updated_at"])
    except IntegrityError:
        return None  # the unique constraint: this reminder exists already
    return row


def _texts(kind: str, period: date, amount, months: int) -> tuple[str, str]:
    how = _("RedWheel only records dues: pay your branch as usual (cash, transfer, WeChat/Alipay).")
    if kind == Kind.MONTH_END:
        return (
            _("Party dues for %(month)s: ¥%(amount)s not yet recorded")
            % {"month": f"{period:%Y-%m}", "amount": amount},
            how,
        )
    return (
        ngettext(
            "Party dues: %(months)s month in arrears (¥%(amount)s)",
            "Party dues: %(months)s months in arrears (¥%(amount)s)",
            months,
        )
        % {"months": months, "amount": amount},
        _("If paying is hard for you now, you can ask your branch for a reduction or exemption.")
        + " "
        + how,
    )
