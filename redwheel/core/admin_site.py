"""The Django admin is the operators' back office: superusers only.

Staff work happens on staff pages, which go through the one permission mechanism; the admin
is not a second permission system. Everyone else gets 404 from every admin URL (the admin
does not exist for them); signed-out visitors are sent to the normal login.
"""

from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpResponseRedirect


class SuperuserAdminSite(admin.AdminSite):
    def has_permission(self, request):
        user = request.user
        return bool(user.is_active and user.is_superuser)

    def admin_view(self, view, cacheable=False):
        inner = super().admin_view(view, cacheable)

        def guarded(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not self.has_permission(request):
                raise Http404
            return inner(request, *args, **kwargs)

        guarded.__wrapped__ = inner
        for attr in ("csrf_exempt", "login_required"):
            if hasattr(inner, attr):
                setattr(guarded, attr, getattr(inner, attr))
        return guarded

    def login(self, request, extra_context=None):
        """One login for everyone: the site's own, which knows lock-outs and activation."""
        if self.has_permission(request):
            return HttpResponseRedirect(self.index_url())
        if request.user.is_authenticated:
            raise Http404
        return redirect_to_login(request.GET.get("next") or self.index_url())

    def index_url(self) -> str:
        from django.urls import reverse

        return reverse("admin:index", current_app=self.name)
