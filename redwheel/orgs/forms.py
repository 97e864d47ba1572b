from django import forms
from django.utils.translation import gettext_lazy as _

from redwheel.core.forms import SafeTextMixin
from redwheel.orgs.models import OrgUnit


class ChildUnitForm(SafeTextMixin, forms.Form):
    """Shape of the "create a child unit" form; the rules live in `services.unit_create`."""

    name = forms.CharField(label=_("Name"), max_length=120)
    kind = forms.ChoiceField(
        label=_("Kind"), choices=[(k, v) for k, v in OrgUnit.Kind.choices if k != "committee"]
    )
    branch_type = forms.ChoiceField(
        label=_("Branch type"),
        required=False,
        choices=[("", _("(not a branch)")), *OrgUnit.BranchType.choices],
    )
    region_code = forms.CharField(label=_("Region code (GB/T 2260)"), max_length=6)
