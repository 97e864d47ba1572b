"""Interval rules and typed fields of pipeline steps: pure functions, no database.

A step's `rules` is a list of dicts; the kinds are:

- `{"kind": "within", "after_step": N, "months"|"years"|"days": k}` — due k after step N's date;
  with `"limit_months": m` it may not be done later than m months after step N (`"over_limit":
  "restart"`: the case must restart the procedure then);
- `{"kind": "at_least", "after_step": N, "years": k}` — not before k after step N;
- `{"kind": "valid_for", "years": k, "until_step": M}` — this step's result is valid for k: every
  later step up to M must be done within k of it;
- `{"kind": "training", "min_days": 3, "min_hours": 24}` — the `days` or `hours` field reaches
  one of the minimums;
- `{"kind": "mentors", "min": 1, "max": 2}`, `{"kind": "sponsors", "count": 2}` — people assigned;
- `{"kind": "probation", "years": 1}` — this step's date is the 入党时间; probation ends k later;
- `{"kind": "before_probation_end", "months": k}`, `{"kind": "at_probation_end"}` — due then;
- `{"kind": "outcomes", "extend_min_months": 6, "extend_max_months": 12}` — the step decides
  按期转正 / 延长预备期 / 取消预备党员资格;
- `{"kind": "every", "months": 6, "what": "..."}` — a recurring duty, shown as guidance.

Due dates fall on working days: a due date computed on a weekend or a public holidays day (the
mainland calendar of `core.dates.is_working_day`, 调休 included) moves to the next working day.
"Not before" and hard limits are calendar dates and do not move.
"""

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

from redwheel.core.dates import is_working_day
from redwheel.core.errors import ValidationFailed
from redwheel.core.validators import has_unsafe_text

FIELD_TYPES = ("date", "text", "number", "bool", "hours")
RULE_KINDS = (
    "within",
    "at_least",
    "valid_for",
    "training",
    "mentors",
    "sponsors",
    "probation",
    "before_probation_end",
    "at_probation_end",
    "outcomes",
    "every",
)


def add_months(day: date, months: int) -> date:
    """`day` plus whole months, clamped to the month's end (31 Jan + 1 month = 28/29 Feb)."""
    total = day.year * 12 + day.month - 1 + months
    year, month = divmod(total, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def after(day: date, rule: dict) -> date:
    """`day` plus the rule's span: years, months and days (any combination)."""
    day = add_months(day, 12 * int(rule.get("years", 0)) + int(rule.get("months", 0)))
    return day + timedelta(days=int(rule.get("days", 0)))


def next_working_day(day: date) -> date:
    """`day` itself when it is a working day, else the next working day."""
    for _i in range(60):
        if is_working_day(day):
            return day
        day += timedelta(days=1)
    return day


@dataclass(frozen=True)
class StepDates:
    due_on: date | None = None  # done by then, moved to a working day
    limit_on: date | None = None  # not later than this (calendar)
    not_before: date | None = None  # not earlier than this (calendar)
    over_limit: str = ""  # what the case must do after the limit ("restart")


def step_dates(rules: list, done: dict[int, date], probation_ends: date | None) -> StepDates:
    """The dates of one step from its rules, the dates of the steps done and the probation end."""
    due = limit = not_before = None
    over = ""
    for rule in rules or []:
        kind = rule.get("kind")
        base = done.get(rule.get("after_step"))
        candidate = None
        if kind == "within" and base is not None:
            candidate = after(base, rule)
            if rule.get("limit_months"):
                limit = add_months(base, int(rule["limit_months"]))
                over = rule.get("over_limit", "")
        elif kind == "at_least" and base is not None:
            earliest = after(base, rule)
            not_before = max(not_before, earliest) if not_before else earliest
        elif kind == "before_probation_end" and probation_ends is not None:
            candidate = add_months(probation_ends, -int(rule.get("months", 0)))
        elif kind == "at_probation_end" and probation_ends is not None:
            candidate = probation_ends
        if candidate is not None:
            candidate = next_working_day(candidate)
            due = min(due, candidate) if due else candidate
    if due is not None and not_before is not None and due < not_before:
        due = next_working_day(not_before)
    return StepDates(due, limit, not_before, over)


def rule_of(rules: list, kind: str) -> dict | None:
    return next((r for r in rules or [] if r.get("kind") == kind), None)


def check_timing(
    *, number: int, rules: list, on: date, dates: StepDates, done: dict, validity: list
) -> None:
    """Refuse a completion on `on` that breaks a rule: too early, past a hard limit, or after
    an earlier result expired. `validity`: (step number, years, until_step) of valid_for rules."""
    if dates.not_before and on < dates.not_before:
        raise ValidationFailed(
            _("This step can be done on %(date)s at the earliest.") % {"date": dates.not_before},
            code="too_early",
            details={"done_on": [_("Too early for this step's rule.")]},
        )
    if dates.limit_on and on > dates.limit_on:
        raise ValidationFailed(
            _("The time limit for this step ended on %(date)s; the procedure must restart.")
            % {"date": dates.limit_on},
            code="over_limit",
        )
    for source, years, until in validity:
        if (
            source in done
            and source < number <= until
            and on > after(done[source], {"years": years})
        ):
            raise ValidationFailed(
                _("The result of step %(step)s is no longer valid (%(years)s year); do it again.")
                % {"step": source, "years": years},
                code="expired",
            )


def check_values(rules: list, values: dict) -> None:
    training = rule_of(rules, "training")
    if training:
        days = float(values.get("days") or 0)
        hours = float(values.get("hours") or 0)
        if days < training.get("min_days", 0) and hours < training.get("min_hours", 0):
            raise ValidationFailed(
                _("Training needs at least %(days)s days or %(hours)s class hours (学时).")
                % {"days": training.get("min_days"), "hours": training.get("min_hours")},
                code="training_too_short",
                details={"hours": [_("Too short.")]},
            )


def clean_values(fields: list, raw: dict) -> dict:
    """The typed field values of a step as JSON-safe values, or ValidationFailed naming the
    field. Dates are ISO strings; numbers and hours non-negative; text at most 500 characters."""
    clean, errors = {}, {}
    for spec in fields or []:
        code, kind = spec["code"], spec.get("type", "text")
        value = raw.get(code)
        if value in (None, "") or (kind == "bool" and value is False and spec.get("required")):
            if spec.get("required"):
                errors[code] = [_("%(label)s is required.") % {"label": spec.get("label", code)}]
            continue
        try:
            clean[code] = _typed(kind, value)
        except (ValueError, TypeError, InvalidOperation):
            errors[code] = [_("%(label)s is not valid.") % {"label": spec.get("label", code)}]
    unknown = set(raw) - {spec["code"] for spec in fields or []}
    if unknown:
        errors["__all__"] = [_("Unknown fields: %(names)s") % {"names": ", ".join(sorted(unknown))}]
    if errors:
        first = next(iter(errors.values()))[0]
        raise ValidationFailed(first, code="invalid_values", details=errors)
    return clean


def _typed(kind: str, value):
    if kind == "date":
        return (value if isinstance(value, date) else date.fromisoformat(str(value))).isoformat()
    if kind in ("number", "hours"):
        number = Decimal(str(value))
        if not number.is_finite() or number < 0 or number > 100_000:
            raise ValueError(value)
        return int(number) if number == number.to_integral_value() else float(number)
    if kind == "bool":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("1", "true", "yes", "on", "是"):
            return True
        if text in ("0", "false", "no", "off", "否"):
            return False
        raise ValueError(value)
    text = str(value).strip()
    if len(text) > 500 or has_unsafe_text(text):
        raise ValueError(value)
    return text


def check_definition(*, materials: list, fields: list, rules: list) -> None:
    """Refuse a step definition that the services could not run (edited by committee staff)."""
    problems = []
    if not isinstance(materials, list) or not isinstance(fields, list):
        problems.append(_("Materials and fields must be lists."))
    if not isinstance(rules, list):
        problems.append(_("Rules must be a list."))
    for m in materials if isinstance(materials, list) else []:
        if not isinstance(m, dict) or not m.get("code") or not isinstance(m.get("types"), list):
            problems.append(_("Each material needs a code and a list of file types."))
        elif set(m["types"]) - set(FILE_TYPES):
            problems.append(_("Allowed file types are: %(t)s.") % {"t": ", ".join(FILE_TYPES)})
    for f in fields if isinstance(fields, list) else []:
        if not isinstance(f, dict) or not f.get("code") or f.get("type") not in FIELD_TYPES:
            problems.append(
                _("Each field needs a code and a type (%(t)s).") % {"t": ", ".join(FIELD_TYPES)}
            )
    for r in rules if isinstance(rules, list) else []:
        if not isinstance(r, dict) or r.get("kind") not in RULE_KINDS:
            problems.append(_("Unknown rule kind; known: %(k)s.") % {"k": ", ".join(RULE_KINDS)})
            continue
        for key in ("months", "years", "days", "limit_months", "after_step", "until_step"):
            if key in r and (not isinstance(r[key], int) or isinstance(r[key], bool) or r[key] < 0):
                problems.append(_("%(key)s must be a whole number.") % {"key": key})
        if "after_step" in r and not 1 <= r["after_step"] <= 25:
            problems.append(_("after_step must name a step from 1 to 25."))
    if problems:
        raise ValidationFailed(problems[0], code="invalid_definition", details={"rules": problems})


# Material file types (kinds of core.uploads, recognised by their first bytes).
FILE_TYPES = ("pdf", "jpg", "png")
