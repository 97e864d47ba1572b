from django import forms
from django.utils.translation import gettext_lazy as _

from redwheel.core.forms import SafeTextMixin
from redwheel.mobilization.models import (
    PHOTO_EXTENSIONS,
    Alert,
    Fleet,
    FleetMember,
    Hub,
    Opportunity,
    QueueEntry,
    ResponseStatus,
)

DT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
DT_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]
PHOTO_MAX_MB = 5


def _dt(label):
    return forms.DateTimeField(label=label, widget=DT, input_formats=DT_FORMATS)


class FleetForm(SafeTextMixin, forms.Form):
    unit = forms.ModelChoiceField(label=_("Organised by"), queryset=None)
    name = forms.CharField(label=_("Name"), max_length=120)
    kind = forms.ChoiceField(label=_("Kind"), choices=Fleet.Kind.choices)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    pledge_title = forms.CharField(label=_("Pledge title"), max_length=120, required=False)
    pledge_text = forms.CharField(
        label=_("Service pledge"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    flag_presented_on = forms.DateField(
        label=_("Fleet flag presented on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def __init__(self, *args, units, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units


class DriverLookupForm(SafeTextMixin, forms.Form):
    driver = forms.CharField(
        label=_("Driver"),
        max_length=40,
        help_text=_("Name, full mobile number or licence number; must match one driver."),
    )
    role = forms.ChoiceField(
        label=_("Role"), choices=FleetMember.Role.choices, initial=FleetMember.Role.MEMBER
    )


class MarkersForm(SafeTextMixin, forms.Form):
    vehicle_sign = forms.BooleanField(label=_("Vehicle sign"), required=False)
    identity_shown = forms.BooleanField(label=_("Identity shown"), required=False)


class HubForm(SafeTextMixin, forms.Form):
    unit = forms.ModelChoiceField(label=_("Managed by"), queryset=None)
    name = forms.CharField(label=_("Name"), max_length=120)
    kind = forms.ChoiceField(label=_("Kind"), choices=Hub.Kind.choices)
    region_code = forms.CharField(label=_("Region code"), max_length=6, required=False)
    address = forms.CharField(label=_("Address"), max_length=200, required=False)
    lng = forms.FloatField(label=_("Longitude (WGS-84)"), min_value=-180, max_value=180)
    lat = forms.FloatField(label=_("Latitude (WGS-84)"), min_value=-90, max_value=90)

    def __init__(self, *args, units, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units


class PickupPointForm(SafeTextMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    note = forms.CharField(label=_("Note"), max_length=200, required=False)
    lng = forms.FloatField(label=_("Longitude (WGS-84)"), min_value=-180, max_value=180)
    lat = forms.FloatField(label=_("Latitude (WGS-84)"), min_value=-90, max_value=90)


class MobilizationForm(SafeTextMixin, forms.Form):
    unit = forms.ModelChoiceField(label=_("Organised by"), queryset=None)
    hub = forms.ModelChoiceField(label=_("Hub"), queryset=None)
    title = forms.CharField(label=_("Title"), max_length=150)
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}))
    expected_passengers = forms.IntegerField(label=_("Expected passengers"), min_value=0, initial=0)
    drivers_needed = forms.IntegerField(label=_("Drivers needed"), min_value=0, initial=0)
    starts_at = _dt(_("Starts at"))
    ends_at = _dt(_("Ends at"))

    def __init__(self, *args, units, hubs, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units
        self.fields["hub"].queryset = hubs


class CallForm(SafeTextMixin, forms.Form):
    fleets = forms.ModelMultipleChoiceField(
        label=_("Fleets"), queryset=None, required=False, widget=forms.CheckboxSelectMultiple
    )
    radius_km = forms.FloatField(
        label=_("And drivers within (km)"), required=False, min_value=0.1, max_value=50
    )
    max_age_minutes = forms.IntegerField(
        label=_("Positions no older than (minutes)"),
        required=False,
        min_value=1,
        help_text=_("Leave empty to use every last known position."),
    )

    def __init__(self, *args, fleets, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["fleets"].queryset = fleets


class QueueForm(SafeTextMixin, forms.Form):
    party_size = forms.IntegerField(label=_("Passengers"), min_value=1, max_value=8, initial=1)
    need = forms.ChoiceField(
        label=_("Priority need"), choices=QueueEntry.Need.choices, initial=QueueEntry.Need.NONE
    )
    pickup_point = forms.ModelChoiceField(label=_("Pick-up point"), queryset=None, required=False)
    destination_district = forms.CharField(
        label=_("Destination district"), max_length=60, required=False
    )
    note = forms.CharField(label=_("Note"), max_length=200, required=False)

    def __init__(self, *args, points, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["pickup_point"].queryset = points


class RideForm(SafeTextMixin, forms.Form):
    driver = forms.TypedChoiceField(label=_("Driver"), coerce=int)
    destination_district = forms.CharField(
        label=_("Destination district"),
        max_length=60,
        required=False,
        help_text=_("Taken from the queue entry when empty."),
    )
    passengers = forms.IntegerField(
        label=_("Passengers (only when nobody is queued)"),
        min_value=1,
        max_value=8,
        required=False,
    )

    def __init__(self, *args, drivers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["driver"].choices = [(d.pk, d.name) for d in drivers]


class NoteForm(SafeTextMixin, forms.Form):
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class ReasonForm(SafeTextMixin, forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=300)


class RespondForm(SafeTextMixin, forms.Form):
    status = forms.ChoiceField(choices=ResponseStatus.choices)


class OpportunityForm(SafeTextMixin, forms.Form):
    unit = forms.ModelChoiceField(label=_("Organised by"), queryset=None)
    fleet = forms.ModelChoiceField(label=_("Fleet"), queryset=None, required=False)
    title = forms.CharField(label=_("Title"), max_length=150)
    kind = forms.ChoiceField(label=_("Kind"), choices=Opportunity.Kind.choices)
    role = forms.CharField(label=_("Role"), max_length=120)
    place = forms.CharField(label=_("Place"), max_length=200)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    starts_at = _dt(_("Starts at"))
    ends_at = _dt(_("Ends at"))
    places = forms.IntegerField(label=_("Places"), min_value=1)

    def __init__(self, *args, units, fleets, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units
        self.fields["fleet"].queryset = fleets


class ConfirmForm(SafeTextMixin, forms.Form):
    hours = forms.DecimalField(
        label=_("Hours"),
        min_value=0,
        max_value=24,
        decimal_places=1,
        required=False,
        help_text=_("Empty: the time between check-in and check-out."),
    )


class AlertForm(SafeTextMixin, forms.Form):
    unit = forms.ModelChoiceField(label=_("Sent by unit"), queryset=None)
    kind = forms.ChoiceField(label=_("Kind"), choices=Alert.Kind.choices)
    title = forms.CharField(label=_("Title"), max_length=150)
    description = forms.CharField(label=_("Description"), widget=forms.Textarea(attrs={"rows": 4}))
    photo = forms.FileField(
        label=_("Photo"), required=False, help_text=_("JPEG, PNG or WebP, up to 5 MB.")
    )
    lng = forms.FloatField(label=_("Centre longitude (WGS-84)"), min_value=-180, max_value=180)
    lat = forms.FloatField(label=_("Centre latitude (WGS-84)"), min_value=-90, max_value=90)
    radius_km = forms.FloatField(label=_("Radius (km)"), min_value=0.1, max_value=50)
    expires_at = _dt(_("Expires at"))

    def __init__(self, *args, units, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units

    def clean_photo(self):
        photo = self.cleaned_data.get("photo")
        if photo:
            extension = photo.name.rsplit(".", 1)[-1].lower() if "." in photo.name else ""
            if extension not in PHOTO_EXTENSIONS:
                raise forms.ValidationError(_("Upload a JPEG, PNG or WebP photo."))
            if photo.size > PHOTO_MAX_MB * 1024 * 1024:
                raise forms.ValidationError(_("The photo is larger than 5 MB."))
        return photo


class SightingForm(SafeTextMixin, forms.Form):
    lng = forms.FloatField(label=_("Longitude (WGS-84)"), min_value=-180, max_value=180)
    lat = forms.FloatField(label=_("Latitude (WGS-84)"), min_value=-90, max_value=90)
    note = forms.CharField(
        label=_("What did you see?"), max_length=500, widget=forms.Textarea(attrs={"rows": 3})
    )
