import logging
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Max
from django.utils import timezone
from django.utils.translation import gettext as _

from redwheel.accounts.models import Grant, OneTimeCode, PlatformToken, Role, TokenScope, User
from redwheel.core import audit, crypto
from redwheel.core.errors import (
    DomainError,
    NotFound,
    PermissionDenied,
    Unauthorized,
    ValidationFailed,
)
from redwheel.core.permissions import can, is_unscoped
from redwheel.core.sms import SmsDeliveryError, send_sms
from redwheel.core.validators import clean_mobile

logger = logging.getLogger(__name__)


class AccountLocked(DomainError):
    code = "account_locked"
    status = 423


def user_create(*, actor, phone: str, display_name: str, password: str | None = None) -> User:
    """A bare account, tied to no unit: operators and superusers only (staff grant roles with
    an account through the grant services, inside their own subtree)."""
    if not is_unscoped(actor):
        raise NotFound()
    phone = clean_mobile(phone)
    with transaction.atomic():
        if User.objects.filter(phone_index=crypto.blind_index(phone)).exists():
            raise ValidationFailed(_("An account with this mobile number already exists."))
        user = User.objects.create_user(phone, password, display_name=display_name)
        if password:
            user.activated_at = timezone.now()
            user.save(update_fields=["activated_at"])
        audit.record(actor=actor, action="user.create", obj=user, summary=user.phone_masked)
    return user


USER_EDITABLE_FIELDS = ("display_name", "is_active", "is_staff", "is_superuser")


def user_update(*, actor, user: User, **changes) -> User:
    """Change a user's name or flags (admin). Only superusers may change staff/superuser flags."""
    if not can(actor, "grant", user):
        raise NotFound()
    unknown = set(changes) - set(USER_EDITABLE_FIELDS)
    if unknown:
        raise ValidationFailed(details={"unknown": sorted(unknown)})
    changed = sorted(f for f, value in changes.items() if getattr(user, f) != value)
    if {"is_staff", "is_superuser"} & set(changed) and not getattr(actor, "is_superuser", False):
        raise NotFound()
    if not changed:
        return user
    with transaction.atomic():
        for field_name in changed:
            setattr(user, field_name, changes[field_name])
        user.save(update_fields=changed)
        audit.record(
            actor=actor,
            action="user.update",
            obj=user,
            summary=user.phone_masked,
            data={"fields": changed},
        )
    return user


def check_login(*, phone: str, password: str) -> User | None:
    """Return the user when the password is right; count failures and lock after too many."""
    try:
        phone = clean_mobile(phone)
    except ValidationFailed:
        return None
    with transaction.atomic():
        user = (
            User.objects.select_for_update()
            .filter(phone_index=crypto.blind_index(phone), is_active=True)
            .first()
        )
        if user is None:
            User().set_password(password)  # same work as a real check, so timing leaks nothing
            return None
        if user.is_locked:
            raise AccountLocked(
                _("Too many failed attempts. Try again after %(time)s.")
                % {"time": timezone.localtime(user.locked_until).strftime("%H:%M")}
            )
        if user.check_password(password):
            if user.failed_logins:
                user.failed_logins = 0
                user.locked_until = None
                user.save(update_fields=["failed_logins", "locked_until"])
            return user
        user.failed_logins += 1
        if user.failed_logins >= settings.LOGIN_MAX_FAILURES:
            user.locked_until = timezone.now() + timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES)
            user.failed_logins = 0
            audit.record(actor=None, action="user.locked", obj=user, summary=user.phone_masked)
        user.save(update_fields=["failed_logins", "locked_until"])
    return None


def password_change(*, actor: User, old_password: str, new_password: str) -> None:
    if not actor.check_password(old_password):
        raise ValidationFailed(_("The current password is wrong."), code="wrong_password")
    _set_password(actor, new_password)
    audit.record(actor=actor, action="user.password_change", obj=actor)


def _set_password(user: User, password: str) -> None:
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ValidationFailed(" ".join(exc.messages), code="weak_password") from exc
    user.set_password(password)
    user.save(update_fields=["password"])


def _activatable_user(phone: str) -> User | None:
    """The account an SMS code may activate, locked: an active driver account that has never
    been activated and has no password.

    Anything else (staff, superusers, accounts with a password or already activated) gets
    exactly the answer an unknown number gets, so the form can neither reset an account's
    password from a phone nor tell which numbers belong to which kind of account.
    """
    user = (
        User.objects.select_for_update(of=("self",))
        .filter(
            phone_index=crypto.blind_index(phone),
            is_active=True,
            is_staff=False,
            is_superuser=False,
            activated_at__isnull=True,
            driver__isnull=False,
        )
        .first()
    )
    if user is None or user.has_usable_password():
        return None
    return user


def activation_code_send(*, phone: str) -> None:
    """Send a one-time code to a driver account awaiting activation (`_activatable_user`).
    Says nothing about other numbers.

    An account gets at most one code per `ACTIVATION_CODE_RESEND_SECONDS` and
    `ACTIVATION_CODES_PER_DAY` codes in 24 hours; further requests send nothing, and answer
    exactly like the others, so the form can neither flood a phone with SMS nor buy endless
    guesses (each code allows `ACTIVATION_CODE_MAX_ATTEMPTS`). A gateway failure is logged
    and answered like a sent code too."""
    phone = clean_mobile(phone)
    code = f"{secrets.randbelow(10**6):06d}"
    now = timezone.now()
    with transaction.atomic():
        user = _activatable_user(phone)  # the row lock serialises requests for one account
        if user is None:
            return
        today = OneTimeCode.objects.filter(
            user=user,
            purpose=OneTimeCode.Purpose.ACTIVATE,
            created_at__gt=now - timedelta(days=1),
        ).aggregate(sent=Count("id"), last=Max("created_at"))
        resend_after = now - timedelta(seconds=settings.ACTIVATION_CODE_RESEND_SECONDS)
        if today["sent"] >= settings.ACTIVATION_CODES_PER_DAY or (
            today["last"] is not None and today["last"] > resend_after
        ):
            logger.info("activation code for user %s not sent: too many requests", user.pk)
            return
        OneTimeCode.objects.filter(user=user, used_at__isnull=True).update(used_at=now)
        purpose = OneTimeCode.Purpose.ACTIVATE
        OneTimeCode.objects.create(
            user=user,
            purpose=purpose,
            code_hash=OneTimeCode.digest(user_id=user.pk, purpose=purpose, code=code),
            expires_at=now + timedelta(minutes=settings.ACTIVATION_CODE_TTL_MINUTES),
        )
        audit.record(actor=None, action="user.activation_code_sent", obj=user)
    try:
        send_sms(
            phone,
            _("[RedWheel] Your activation code is %(code)s, valid for %(minutes)s minutes.")
            % {"code": code, "minutes": settings.ACTIVATION_CODE_TTL_MINUTES},
        )
    except SmsDeliveryError as exc:
        logger.error("activation code for user %s not delivered: %s", user.pk, exc)


def account_activate(*, phone: str, code: str, new_password: str) -> User:
    invalid = ValidationFailed(_("The code is wrong or has expired."), code="bad_code")
    phone = clean_mobile(phone)
    with transaction.atomic():
        user = _activatable_user(phone)
        otc = (
            OneTimeCode.objects.select_for_update()
            .filter(
                user=user,
                purpose=OneTimeCode.Purpose.ACTIVATE,
                used_at__isnull=True,
                expires_at__gt=timezone.now(),
            )
            .order_by("-created_at")
            .first()
            if user
            else None
        )
        if otc is None or otc.attempts >= settings.ACTIVATION_CODE_MAX_ATTEMPTS:
            raise invalid
        right_code = otc.matches(code.strip())
        if not right_code:
            # Count the attempt and commit it: raising inside this block would roll it back.
            otc.attempts += 1
            otc.save(update_fields=["attempts"])
        else:
            _set_password(user, new_password)
            otc.used_at = timezone.now()
            otc.save(update_fields=["used_at"])
            user.activated_at = timezone.now()
            user.save(update_fields=["activated_at"])
            audit.record(actor=user, action="user.activate", obj=user)
    if not right_code:
        raise invalid
    return user


def grant_create(*, actor, user: User, unit, role: str) -> Grant:
    if not can(actor, "grant", unit):
        raise NotFound()
    if role not in Role.values:
        raise ValidationFailed(_("Unknown role."))
    with transaction.atomic():
        grant, created = Grant.objects.get_or_create(
            user=user, unit=unit, role=role, defaults={"granted_by": actor}
        )
        if created:
            audit.record(
                actor=actor, action="grant.create", obj=grant, summary=f"{role} @ {unit.name}"
            )
    return grant


def grant_revoke(*, actor, grant: Grant) -> None:
    if not can(actor, "grant", grant.unit):
        raise NotFound()
    with transaction.atomic():
        audit.record(
            actor=actor,
            action="grant.revoke",
            obj=grant,
            summary=f"{grant.role} @ {grant.unit.name}",
        )
        grant.delete()


def staff_account_grant(
    *,
    actor,
    phone: str,
    display_name: str,
    unit,
    role: str,
    password: str | None = None,
) -> Grant:
    """Give the person with this mobile number `role` on `unit`, creating their account when
    the number has none (with `display_name` and, if given, an initial `password`).

    Staff may not create bare accounts (`user_create`); this is how they bring people in, and
    only inside a subtree where they may grant. An existing account keeps its name and its
    password, and the answer is the same either way, so the form tells nobody whether a
    number already had an account.
    """
    if not can(actor, "grant", unit):
        raise NotFound()
    errors: dict[str, list[str]] = {}
    if role not in Role.values:
        errors["role"] = [str(_("Unknown role."))]
    try:
        phone = clean_mobile(phone)
    except ValidationFailed as exc:
        errors["phone"] = [str(exc.message)]
    display_name = (display_name or "").strip()
    if not display_name:
        errors["display_name"] = [str(_("Enter the person's name."))]
    if password:
        try:
            validate_password(password)
        except ValidationError as exc:
            errors["password"] = list(exc.messages)
    if errors:
        first = next(iter(errors.values()))[0]
        raise ValidationFailed(first, details=errors)
    with transaction.atomic():
        user = User.objects.filter(phone_index=crypto.blind_index(phone)).first()
        created = False
        if user is None:
            try:
                with transaction.atomic():  # a concurrent request may create the same number
                    user = User.objects.create_user(phone, password, display_name=display_name)
                    created = True
            except IntegrityError:
                user = User.objects.get(phone_index=crypto.blind_index(phone))
        if created and password:
            user.activated_at = timezone.now()
            user.save(update_fields=["activated_at"])
        grant = grant_create(actor=actor, user=user, unit=unit, role=role)
        if created:  # after the grant, so the entry is filed under the unit's audit scope
            audit.record(actor=actor, action="user.create", obj=user, summary=user.phone_masked)
    return grant


def token_create(*, actor, platform, name: str, scopes: list[str]) -> tuple[PlatformToken, str]:
    """Create a token and return it with its secret, which is never shown again."""
    if not can(actor, "grant", platform):
        raise NotFound()
    unknown = set(scopes) - set(TokenScope.values)
    if not scopes or unknown:
        raise ValidationFailed(
            _("Choose at least one valid scope."), details={"unknown": sorted(unknown)}
        )
    secret = PlatformToken.new_secret()
    with transaction.atomic():
        token = PlatformToken.objects.create(
            platform=platform,
            name=name,
            key_prefix=secret[:10],
            key_hash=PlatformToken.hash_secret(secret),
            scopes=sorted(set(scopes)),
            created_by=actor if getattr(actor, "pk", None) else None,
        )
        audit.record(actor=actor, action="token.create", obj=token, summary=name)
    return token, secret


def token_revoke(*, actor, token: PlatformToken) -> None:
    if not can(actor, "grant", token.platform):
        raise NotFound()
    with transaction.atomic():
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit.record(actor=actor, action="token.revoke", obj=token, summary=token.name)


def token_authenticate(secret: str, scope: str) -> PlatformToken:
    token = (
        PlatformToken.objects.select_related("platform")
        .filter(key_hash=PlatformToken.hash_secret(secret or ""), revoked_at__isnull=True)
        .first()
    )
    if token is None:
        raise Unauthorized(_("The API token is missing, wrong or revoked."))
    if scope not in token.scopes:
        raise PermissionDenied(
            _("This token lacks the scope %(scope)s.") % {"scope": scope}, code="missing_scope"
        )
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        PlatformToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token


# The text sizes the settings page offers (User.text_scale accepts any 100-200 %).
TEXT_SCALES = (100, 125, 150, 175, 200)


def user_preferences_set(
    *, actor, user: User, elderly_mode: bool | None = None, text_scale: int | None = None
) -> User:
    """Elderly mode (长辈模式, domain-rules §8) and text size, remembered on the account.
    Each user sets their own (superusers anyone's); None leaves a setting as it is."""
    if not (getattr(actor, "pk", None) == user.pk or is_unscoped(actor)):
        raise NotFound()
    changes = {}
    if elderly_mode is not None:
        changes["elderly_mode"] = bool(elderly_mode)
    if text_scale is not None:
        if isinstance(text_scale, bool) or not isinstance(text_scale, int):
            raise ValidationFailed(_("Choose a text size."), code="text_scale")
        if not 100 <= text_scale <= 200:
            raise ValidationFailed(
                _("The text size must be between 100 % and 200 %."), code="text_scale"
            )
        changes["text_scale"] = text_scale
    changed = sorted(f for f, value in changes.items() if getattr(user, f) != value)
    if not changed:
        return user
    with transaction.atomic():
        for field_name in changed:
            setattr(user, field_name, changes[field_name])
        user.save(update_fields=changed)
        audit.record(
            actor=actor,
            action="user.preferences",
            obj=user,
            data={field_name: changes[field_name] for field_name in changed},
        )
    return user
