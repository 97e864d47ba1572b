"""Forms of the dues pages. They check the shape of the input; the rules are the services'."""

from datetime import date
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from redwheel.core.forms import SafeTextMixin
from redwheel.party.dues import rules as dues_rules
from redwheel.party.dues.models import FLAT_BASES, Basis, HardshipRequest, Method

MONEY = {"max_digits": 12, "decimal_places": 2, "min_value": Decimal("0")}


class MonthField(forms.Field):
    """A month as `YYYY-MM` (an `<input type="month">`), cleaned to its first day."""

    widget = forms.DateInput(attrs={"type": "month"}, format="%Y-%m")
    default_error_messages = {"invalid": _("Enter a month as YYYY-MM.")}

    def to_python(self, value):
        if value in (None, ""):
            return None
        if isinstance(value, date):
            return date(value.year, value.month, 1)
        try:
            year, month = str(value).strip()[:7].split("-")
            return date(int(year), int(month), 1)
        except (TypeError, ValueError):
            raise ValidationError(self.error_messages["invalid"], code="invalid") from None


def _month_label(month: date) -> str:
    return f"{month:%Y-%m}"


class IncomeForm(SafeTextMixin, forms.Form):
    """The member's basis and figures. For no monthly wage, the three months of the previous
    quarter (labelled with their months), 0 for a month without income."""

    basis = forms.ChoiceField(label=_("What your dues are based on"), choices=Basis.choices)
    income = forms.DecimalField(
        label=_("Monthly income after tax (yuan)"),
        required=False,
        help_text=_("For a monthly wage or retirement pay."),
        **MONEY,
    )
    month_1 = forms.DecimalField(required=False, **MONEY)
    month_2 = forms.DecimalField(required=False, **MONEY)
    month_3 = forms.DecimalField(required=False, **MONEY)

    def __init__(self, *args, quarter: date, **kwargs):
        super().__init__(*args, **kwargs)
        self.months = dues_rules.quarter_months(dues_rules.previous_quarter(quarter))
        for i, month in enumerate(self.months, start=1):
            self.fields[f"month_{i}"].label = _("Net income in %(month)s (yuan)") % {
                "month": _month_label(month)
            }

    def clean(self):
        data = super().clean()
        basis = data.get("basis")
        if basis == Basis.NO_WAGE:
            for i in (1, 2, 3):
                if data.get(f"month_{i}") is None and f"month_{i}" not in self.errors:
                    self.add_error(f"month_{i}", _("Enter 0 for a month without income."))
        elif basis and basis not in FLAT_BASES and data.get("income") is None:
            self.add_error("income", _("Enter the monthly income after tax."))
        return data

    @property
    def month_fields(self):
        return [self[f"month_{i}"] for i in (1, 2, 3)]

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "basis": data["basis"],
            "income": data.get("income"),
            "month_incomes": [data.get(f"month_{i}") for i in (1, 2, 3)]
            if data["basis"] == Basis.NO_WAGE
            else None,
        }


class StaffAssessmentForm(IncomeForm):
    quarter = forms.TypedChoiceField(label=_("Quarter"), coerce=date.fromisoformat)
    note = forms.CharField(
        label=_("Note (how the member declared it)"), required=False, max_length=300
    )

    def __init__(self, *args, current: date, **kwargs):
        super().__init__(*args, quarter=current, **kwargs)
        quarters, q = [], current
        for _i in range(5):
            quarters.append((q.isoformat(), dues_rules.quarter_label(q)))
            q = dues_rules.previous_quarter(q)
        self.fields["quarter"].choices = quarters
        self.fields["quarter"].initial = current.isoformat()
        # The chosen quarter decides which months these are: the three before it.
        for i, label in enumerate((_("1st month"), _("2nd month"), _("3rd month")), start=1):
            self.fields[f"month_{i}"].label = _(
                "Net income, %(which)s of the previous quarter (yuan)"
            ) % {"which": label}

    def service_kwargs(self) -> dict:
        kwargs = super().service_kwargs()
        kwargs["quarter"] = self.cleaned_data["quarter"]
        kwargs["note"] = self.cleaned_data.get("note", "")
        return kwargs


class PaymentForm(SafeTextMixin, forms.Form):
    period = MonthField(label=_("First month paid for"))
    months = forms.IntegerField(label=_("Number of months"), min_value=1, max_value=12, initial=1)
    amount = forms.DecimalField(label=_("Amount per month (yuan)"), **MONEY)
    method = forms.ChoiceField(label=_("Method"), choices=Method.choices)
    receipt_no = forms.CharField(label=_("Receipt number"), required=False, max_length=40)
    paid_by_name = forms.CharField(
        label=_("Paid by someone else (name)"), required=False, max_length=60
    )
    paid_on = forms.DateField(
        label=_("Paid on"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    voluntary = forms.BooleanField(
        label=_("Voluntary extra payment (does not count against dues)"), required=False
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=300)


class ReasonForm(SafeTextMixin, forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=300)


class NoteForm(SafeTextMixin, forms.Form):
    note = forms.CharField(label=_("Note"), required=False, max_length=300)


class HardshipForm(SafeTextMixin, forms.Form):
    kind = forms.ChoiceField(label=_("What is asked for"), choices=HardshipRequest.Kind.choices)
    months_from = MonthField(label=_("From month"))
    months_to = MonthField(label=_("To month (inclusive)"))
    reduced_amount = forms.DecimalField(
        label=_("Monthly amount instead (yuan), for paying less"), required=False, **MONEY
    )
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}))

    def clean(self):
        data = super().clean()
        if data.get("kind") == HardshipRequest.Kind.REDUCE and data.get("reduced_amount") is None:
            self.add_error("reduced_amount", _("Enter the monthly amount that can be paid."))
        if data.get("kind") == HardshipRequest.Kind.EXEMPT:
            data["reduced_amount"] = None
        return data


def parse_bands(text: str) -> list[dict]:
    """`3000:0.5, 5000:1, *:2` (upper edge in yuan : rate in %) → stored bands."""
    rows = []
    for part in str(text).replace("，", ",").split(","):
        if not part.strip():
            continue
        try:
            edge, rate = (p.strip() for p in part.replace("：", ":").split(":"))
            rows.append(
                {
                    "up_to": None if edge == "*" else str(Decimal(edge)),
                    "rate": str(Decimal(rate) / 100),
                }
            )
        except Exception:
            raise ValidationError(_("Write bands as 3000:0.5, 5000:1, *:2.")) from None
    try:
        dues_rules.bands_from_json(rows)
    except dues_rules.BadBands:
        raise ValidationError(
            _("Upper edges must increase, the last band is *, rates from 0 to 100 %.")
        ) from None
    return rows


class RulesForm(SafeTextMixin, forms.Form):
    effective_from = forms.TypedChoiceField(label=_("In force from"), coerce=date.fromisoformat)
    wage_bands = forms.CharField(
        label=_("Bands for wages and net income"),
        help_text=_("Upper edge in yuan (inclusive) : rate in %, … ; * is the open last band."),
        max_length=300,
    )
    retired_bands = forms.CharField(label=_("Bands for retirement pay"), max_length=300)
    flat_amount = forms.DecimalField(label=_("Flat monthly amount (yuan)"), **MONEY)
    remind_days_before_month_end = forms.IntegerField(
        label=_("Remind this many days before the month ends"), min_value=0, max_value=27
    )
    lapse_reminder_months = forms.IntegerField(
        label=_("Remind after this many months in arrears"), min_value=1, max_value=12
    )
    reminder_sms = forms.BooleanField(label=_("Also send reminders by SMS"), required=False)
    note = forms.CharField(label=_("Note"), required=False, max_length=300)

    def __init__(self, *args, current_quarter: date, **kwargs):
        super().__init__(*args, **kwargs)
        quarters, q = [], current_quarter
        for _i in range(5):
            quarters.append((q.isoformat(), f"{q:%Y-%m-%d} ({dues_rules.quarter_label(q)})"))
            q = dues_rules.next_quarter(q)
        self.fields["effective_from"].choices = quarters

    def clean_wage_bands(self):
        return parse_bands(self.cleaned_data["wage_bands"])

    def clean_retired_bands(self):
        return parse_bands(self.cleaned_data["retired_bands"])


class FilterForm(SafeTextMixin, forms.Form):
    branch = forms.ModelChoiceField(label=_("Branch"), queryset=None, required=False)
    q = forms.CharField(label=_("Name"), required=False, max_length=60)

    def __init__(self, *args, branches, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["branch"].queryset = branches
