from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from redwheel.accounts.permissions import home_kind


@login_required
def home(request):
    kind = home_kind(request.user)
    if kind == "staff":
        return redirect("orgs:dashboard")
    if kind == "driver":
        return redirect("me:home")
    return render(request, "core/no_role.html")
