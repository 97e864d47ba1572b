"""One `ReadOnlyAdmin`: every admin built on it refuses writes, even to a superuser."""

import pytest
from django.contrib import admin
from django.test import RequestFactory

from redwheel import testing
from redwheel.core.admin import ReadOnlyAdmin

EXPECTED = {  # the read-only back-office lists; a copy of the class elsewhere would drop one
    "core.auditentry",
    "dispatch.ruleset",
    "dispatch.simulationrun",
    "scoring.pointsentry",
    "appeals.case",
    "drivers.importjob",
    "exchange.trip",
}


@pytest.mark.django_db
def test_read_only_admins_refuse_every_write_even_to_a_superuser():
    request = RequestFactory().get("/")
    request.user = testing.superuser()
    read_only = {
        model._meta.label_lower: model_admin
        for model, model_admin in admin.site._registry.items()
        if isinstance(model_admin, ReadOnlyAdmin)
    }
    assert read_only.keys() >= EXPECTED
    for model_admin in read_only.values():
        assert not model_admin.has_add_permission(request)
        assert not model_admin.has_change_permission(request, None)
        assert not model_admin.has_delete_permission(request, None)
