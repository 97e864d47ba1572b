"""Forms of the organisation-life pages. They parse input; the services decide."""

from datetime import datetime

from django import forms
from django.utils.translation import gettext_lazy as _

from redwheel.core.dates import LOCAL_TZ
from redwheel.core.forms import SafeTextMixin
from redwheel.party.meetings.models import Attendance, Frequency, Status
from redwheel.party.meetings.services import MAX_SESSIONS, SessionSpec

SESSION_FIELDS = ("date", "start", "end", "label")


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data, initial=None):
        if not data:
            return []
        items = data if isinstance(data, list | tuple) else [data]
        return [super(MultipleFileField, self).clean(item, initial) for item in items]


class SessionsMixin:
    """Up to MAX_SESSIONS sessions as date + start + end + label fields; the first is
    required. `cleaned_data["sessions"]` is a list of SessionSpec in local time."""

    def add_session_fields(self):
        for n in range(1, MAX_SESSIONS + 1):
            required = n == 1
            self.fields[f"session{n}_date"] = forms.DateField(
                label=_("Session %(n)s: date") % {"n": n},
                required=required,
                widget=forms.DateInput(attrs={"type": "date"}),
            )
            self.fields[f"session{n}_start"] = forms.TimeField(
                label=_("starts"), required=required, widget=forms.TimeInput(attrs={"type": "time"})
            )
            self.fields[f"session{n}_end"] = forms.TimeField(
                label=_("ends"), required=required, widget=forms.TimeInput(attrs={"type": "time"})
            )
            self.fields[f"session{n}_label"] = forms.CharField(
                label=_("label (e.g. noon, evening)"), required=False, max_length=40
            )

    def session_rows(self):
        return [
            [self[f"session{n}_{f}"] for f in SESSION_FIELDS] for n in range(1, MAX_SESSIONS + 1)
        ]

    def clean_sessions(self, data):
        sessions = []
        for n in range(1, MAX_SESSIONS + 1):
            day, start, end = (data.get(f"session{n}_{f}") for f in ("date", "start", "end"))
            if not any((day, start, end)):
                continue
            if not all((day, start, end)):
                self.add_error(f"session{n}_date", _("Give the date, start and end."))
                continue
            starts = datetime.combine(day, start, tzinfo=LOCAL_TZ)
            ends = datetime.combine(day, end, tzinfo=LOCAL_TZ)
            if ends <= starts:
                self.add_error(f"session{n}_end", _("A session must end after it starts."))
                continue
            sessions.append(SessionSpec(starts, ends, data.get(f"session{n}_label") or ""))
        data["sessions"] = sessions
        return data

    def initial_sessions(self, sessions):
        for n, s in enumerate(sessions, start=1):
            starts, ends = s.starts_at.astimezone(LOCAL_TZ), s.ends_at.astimezone(LOCAL_TZ)
            self.initial[f"session{n}_date"] = starts.date()
            self.initial[f"session{n}_start"] = starts.time().strftime("%H:%M")
            self.initial[f"session{n}_end"] = ends.time().strftime("%H:%M")
            self.initial[f"session{n}_label"] = s.label


class MeetingForm(SessionsMixin, SafeTextMixin, forms.Form):
    branch = forms.ModelChoiceField(label=_("Branch"), queryset=None)
    type_code = forms.ChoiceField(label=_("Type"))
    title = forms.CharField(label=_("Title"), max_length=120)
    agenda = forms.CharField(
        label=_("Agenda"), widget=forms.Textarea(attrs={"rows": 5}), required=False
    )
    place = forms.CharField(label=_("Place"), max_length=200, required=False)
    online_link = forms.URLField(label=_("Online link"), required=False, assume_scheme="https")

    def __init__(self, *args, branches=None, types=(), editing=False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["branch"]
            del self.fields["type_code"]
        else:
            self.fields["branch"].queryset = branches
            self.fields["type_code"].choices = [(t.code, t.name) for t in types]
        self.add_session_fields()

    def clean(self):
        return self.clean_sessions(super().clean())


class AdoptForm(SessionsMixin, SafeTextMixin, forms.Form):
    branch = forms.ModelChoiceField(label=_("Branch"), queryset=None)
    place = forms.CharField(label=_("Place"), max_length=200, required=False)
    online_link = forms.URLField(label=_("Online link"), required=False, assume_scheme="https")

    def __init__(self, *args, branches=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["branch"].queryset = branches
        self.add_session_fields()

    def clean(self):
        return self.clean_sessions(super().clean())


class FilterForm(forms.Form):
    branch = forms.ModelChoiceField(label=_("Branch"), queryset=None, required=False)
    status = forms.ChoiceField(
        label=_("Status"), choices=[("", _("All")), *list(Status.choices)], required=False
    )
    month = forms.DateField(
        label=_("Month"), required=False, input_formats=["%Y-%m"],
        widget=forms.DateInput(attrs={"type": "month"}, format="%Y-%m"),
    )  # fmt: skip

    def __init__(self, *args, branches=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["branch"].queryset = branches


class TextForm(SafeTextMixin, forms.Form):
    text = forms.CharField(
        label=_("Reason"), max_length=300, widget=forms.Textarea(attrs={"rows": 2})
    )


class MinutesForm(SafeTextMixin, forms.Form):
    minutes = forms.CharField(label=_("Minutes"), widget=forms.Textarea(attrs={"rows": 10}))


class AttendanceForm(forms.Form):
    driver = forms.IntegerField(min_value=1)
    state = forms.ChoiceField(choices=Attendance.State.choices)


class UploadForm(forms.Form):
    files = MultipleFileField(label=_("Files (JPEG, PNG, PDF, Word, PowerPoint, Excel; ≤ 10 MB)"))


class LeaveForm(SafeTextMixin, forms.Form):
    reason = forms.CharField(
        label=_("Why can you not come?"), max_length=300, widget=forms.Textarea(attrs={"rows": 3})
    )


class DecideForm(SafeTextMixin, forms.Form):
    decision = forms.ChoiceField(choices=[("approve", _("Approve")), ("decline", _("Decline"))])
    note = forms.CharField(label=_("Note to the member"), max_length=300, required=False)


class TypeForm(SafeTextMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=60)
    frequency = forms.ChoiceField(label=_("Frequency"), choices=Frequency.choices)
    is_active = forms.BooleanField(label=_("An obligation"), required=False)
    note = forms.CharField(label=_("Note"), max_length=200, required=False)


class ThemeForm(SafeTextMixin, forms.Form):
    month = forms.DateField(
        label=_("Month"), input_formats=["%Y-%m"],
        widget=forms.DateInput(attrs={"type": "month"}, format="%Y-%m"),
    )  # fmt: skip
    title = forms.CharField(label=_("Topic"), max_length=120)
    materials = forms.CharField(
        label=_("Materials"), required=False, widget=forms.Textarea(attrs={"rows": 8})
    )
    files = MultipleFileField(label=_("Attachments"), required=False)

    def __init__(self, *args, editing=False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["month"]
