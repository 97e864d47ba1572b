from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from redwheel.accounts import services
from redwheel.accounts.decorators import driver_required
from redwheel.accounts.forms import (
    ActivationCodeForm,
    ActivationPhoneForm,
    ElderlyToggleForm,
    LoginForm,
    PasswordChangeForm,
    PreferencesForm,
)
from redwheel.accounts.permissions import home_kind
from redwheel.core import crypto, menus
from redwheel.core.errors import ValidationFailed
from redwheel.core.forms import domain_errors, require_valid

ACTIVATION_SESSION_KEY = "activation_phone"  # stored encrypted, like every phone at rest
BACKEND = "redwheel.accounts.backends.PhoneBackend"


@login_required
@require_safe
def home(request):
    """The site root sends each audience to its home (by URL name: no import of the apps above)."""
    kind = home_kind(request.user)
    if kind == "staff":
        return redirect("insights:dashboard")
    if kind == "driver":
        return redirect("me:home")
    return render(request, "core/no_role.html")


class LoginView(auth_views.LoginView):
    form_class = LoginForm
    template_name = "accounts/login.html"
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    http_method_names = ["post", "options"]


@sensitive_post_parameters()
@login_required
@require_http_methods(["GET", "POST"])
def password_change(request):
    form = PasswordChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.password_change(
                actor=request.user,
                old_password=form.cleaned_data["old_password"],
                new_password=form.cleaned_data["new_password1"],
            )
        except ValidationFailed as exc:
            field = "old_password" if exc.code == "wrong_password" else "new_password1"
            form.add_error(field, str(exc.message))
        else:
            update_session_auth_hash(request, request.user)
            messages.success(request, _("Your password has been changed."))
            return redirect("home")
    return render(request, "accounts/password_change.html", {"form": form})


@require_http_methods(["GET", "POST"])
def activate(request):
    """Step 1: the driver types their mobile number and gets a code if an account exists."""
    form = ActivationPhoneForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        phone = form.cleaned_data["phone"]
        services.activation_code_send(phone=phone)
        # Same answer whether or not the number has an account, so nothing leaks.
        request.session[ACTIVATION_SESSION_KEY] = crypto.encrypt(phone)
        return redirect("accounts:activate_confirm")
    return render(request, "accounts/activate.html", {"form": form})


@sensitive_post_parameters()
@require_http_methods(["GET", "POST"])
def activate_confirm(request):
    """Step 2: the code from the SMS and a new password; success logs the driver in."""
    token = request.session.get(ACTIVATION_SESSION_KEY)
    if not token:
        return redirect("accounts:activate")
    phone = crypto.decrypt(token)
    form = ActivationCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.account_activate(
                phone=phone,
                code=form.cleaned_data["code"],
                new_password=form.cleaned_data["new_password1"],
            )
        except ValidationFailed as exc:
            field = "new_password1" if exc.code == "weak_password" else "code"
            form.add_error(field, str(exc.message))
        else:
            request.session.pop(ACTIVATION_SESSION_KEY, None)
            login(request, user, backend=BACKEND)
            messages.success(request, _("Your account is active. Welcome!"))
            return redirect("home")
    return render(
        request,
        "accounts/activate_confirm.html",
        {
            "form": form,
            "phone_masked": crypto.mask_phone(phone),
            "resend_seconds": settings.ACTIVATION_CODE_RESEND_SECONDS,
            "codes_per_day": settings.ACTIVATION_CODES_PER_DAY,
        },
    )


# The page frame (docs/frontend.md): the driver's services and settings pages and the elderly
# mode switch.


@driver_required
@require_safe
def services_page(request):
    """Every page of the driver menu, grouped, one tap away (the "services" tab)."""
    sections = menus.menu(menus.DRIVER, request.user)
    for section in sections:
        section.label = section.label or _("More")
    return render(request, "accounts/services.html", {"sections": sections})


@driver_required
@require_http_methods(["GET", "POST"])
def settings_page(request):
    """The "me" tab: profile, elderly mode and text size, language, password, log out."""
    user = request.user
    form = PreferencesForm(
        request.POST or None,
        initial={"elderly_mode": user.elderly_mode, "text_scale": _nearest_scale(user.text_scale)},
    )
    if request.method == "POST":
        with domain_errors(form=form) as caught:
            data = require_valid(form)
            services.user_preferences_set(
                actor=user,
                user=user,
                elderly_mode=data["elderly_mode"],
                text_scale=data["text_scale"],
            )
            messages.success(request, _("Your settings have been saved."))
            return redirect("accounts:settings")
        return render(request, "accounts/settings.html", {"form": form}, status=caught.status)
    return render(request, "accounts/settings.html", {"form": form})


@login_required
@require_POST
def elderly_toggle(request):
    """The "长辈版" switch: a plain form post, so it works without JavaScript; back to `next`
    when that is a page of this site, else home."""
    form = ElderlyToggleForm(request.POST)
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = "home"
    with domain_errors(request):
        data = require_valid(form)
        on = data["elderly_mode"] == "on"
        services.user_preferences_set(actor=request.user, user=request.user, elderly_mode=on)
        messages.success(request, _("Elderly mode is on.") if on else _("Elderly mode is off."))
    return redirect(target)


def _nearest_scale(scale: int) -> int:
    return min(services.TEXT_SCALES, key=lambda step: abs(step - scale))
