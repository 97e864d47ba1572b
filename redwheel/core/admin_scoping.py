"""Admin classes that answer with the same permission function as pages and the API."""

from django.contrib import admin, messages
from django.db import transaction
from django.http import HttpResponseRedirect

from redwheel.core.errors import DomainError
from redwheel.core.permissions import can, scope


class ScopedAdmin(admin.ModelAdmin):
    """Lists only what the user may view; edits only what they may change."""

    scope_model = None  # the model `permissions.scope` knows, when the admin's model is a child
    scope_path = ""  # lookup from the admin's model to that model, e.g. "driver"

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if self.scope_model is None:
            return scope(request.user, "view", queryset)
        visible = scope(request.user, "view", self.scope_model.objects.all())
        return queryset.filter(**{f"{self.scope_path}__in": visible})

    def has_change_permission(self, request, obj=None):
        if obj is None:
            return super().has_change_permission(request)
        target = getattr(obj, self.scope_path) if self.scope_path else obj
        return super().has_change_permission(request, obj) and can(request.user, "change", target)

    def has_delete_permission(self, request, obj=None):
        return False  # deletions go through services that keep the history

    def changeform_view(self, request, *args, **kwargs):
        # save_model calls a service; a rule it enforces becomes a message, not a server error.
        try:
            with transaction.atomic():
                return super().changeform_view(request, *args, **kwargs)
        except DomainError as exc:
            messages.error(request, f"{exc.message} {exc.details or ''}".strip())
            return HttpResponseRedirect(request.get_full_path())


def run_service(request, call) -> bool:
    """Run a service from an admin action; show domain errors as messages."""
    try:
        call()
    except DomainError as exc:
        messages.error(request, str(exc.message))
        return False
    return True
