import hashlib
import hmac
import secrets

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _

from redwheel.core import crypto
from redwheel.core.models import BaseModel


class UserManager(BaseUserManager):
    def get_by_natural_key(self, phone):
        return self.get(phone_index=crypto.blind_index(phone))

    def create_user(self, phone, password=None, **extra):
        user = self.model(**extra)
        user.set_phone(phone)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_superuser(self, phone, password=None, **extra):
        extra.update(is_staff=True, is_superuser=True, activated_at=timezone.now())
        return self.create_user(phone, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who logs in with a mobile number. The number is stored encrypted."""

    phone = crypto.EncryptedTextField(_("mobile number"))
    phone_index = crypto.BlindIndexField(_("mobile number index"), source="phone", unique=True)
    phone_masked = models.CharField(_("mobile number (masked)"), max_length=20)
    display_name = models.CharField(_("name"), max_length=60)
    is_active = models.BooleanField(_("active"), default=True)
    is_staff = models.BooleanField(_("may use the admin site"), default=False)
    activated_at = models.DateTimeField(_("activated at"), null=True, blank=True)
    failed_logins = models.PositiveSmallIntegerField(_("failed logins"), default=0)
    locked_until = models.DateTimeField(_("locked until"), null=True, blank=True)
    date_joined = models.DateTimeField(_("joined"), default=timezone.now)
    # Elderly mode (长辈模式, domain-rules §8): remembered per account, not per device.
    elderly_mode = models.BooleanField(_("elderly mode"), default=False)
    text_scale = models.PositiveSmallIntegerField(
        _("text size (%)"),
        default=100,
        validators=[MinValueValidator(100), MaxValueValidator(200)],
        help_text=_("How large the pages' text is, from 100 % to 200 %."),
    )

    USERNAME_FIELD = "phone_index"
    REQUIRED_FIELDS = ["display_name"]
    objects = UserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self):
        return f"{self.display_name} ({self.phone_masked})"

    def set_phone(self, phone: str) -> None:
        self.phone = phone
        self.phone_index = crypto.blind_index(phone)
        self.phone_masked = crypto.mask_phone(phone)

    def get_full_name(self):
        return self.display_name

    def get_short_name(self):
        return self.display_name

    @property
    def is_locked(self) -> bool:
        return self.locked_until is not None and self.locked_until > timezone.now()


class Role(models.TextChoices):
    SECRETARY = "secretary", _("Branch secretary")
    ORGANISER = "organiser", _("Organiser")
    STAFF = "staff", _("Staff")
    INSTRUCTOR = "instructor", _("Instructor")
    VIEWER = "viewer", _("Viewer")
    REGULATOR = "regulator", _("Regulator")


class Grant(BaseModel):
    """A role on one org unit; it applies to the unit's whole subtree."""

    user = models.ForeignKey(
        User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="grants"
    )
    unit = models.ForeignKey(
        "orgs.OrgUnit", verbose_name=_("unit"), on_delete=models.CASCADE, related_name="grants"
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    granted_by = models.ForeignKey(
        User,
        verbose_name=_("granted by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("role grant")
        verbose_name_plural = _("role grants")
        constraints = [
            models.UniqueConstraint(fields=["user", "unit", "role"], name="grant_unique_role"),
        ]

    def __str__(self):
        return f"{self.user} · {self.get_role_display()} · {self.unit}"


class OneTimeCode(BaseModel):
    """SMS codes for account activation. Only a keyed digest of the code is stored.

    A six-digit code has a million values, so a plain hash in a database dump is reversed at
    once; the digest is an HMAC under a key derived from SECRET_KEY for this one purpose, which
    the database never holds. Changing SECRET_KEY voids outstanding codes (they live minutes).
    """

    KEY_SALT = "redwheel.accounts.OneTimeCode"

    class Purpose(models.TextChoices):
        ACTIVATE = "activate", _("Account activation")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="one_time_codes")
    purpose = models.CharField(max_length=16, choices=Purpose.choices)
    code_hash = models.CharField(max_length=64)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("one-time code")
        verbose_name_plural = _("one-time codes")

    @classmethod
    def digest(cls, *, user_id: int, purpose: str, code: str) -> str:
        message = f"{user_id}:{purpose}:{code}"
        return salted_hmac(cls.KEY_SALT, message, algorithm="sha256").hexdigest()

    def matches(self, code: str) -> bool:
        expected = self.digest(user_id=self.user_id, purpose=self.purpose, code=code)
        return hmac.compare_digest(self.code_hash.encode(), expected.encode())


class TokenScope(models.TextChoices):
    EXCHANGE_WRITE = "exchange:write", _("Push exchange data")
    BADGES_READ = "badges:read", _("Read badges")
    SCORES_READ = "scores:read", _("Read scores")
    APPEALS_WRITE = "appeals:write", _("File appeals")
    PARTY_READ = "party:read", _("Read branch calendars and pipeline steps")


class PlatformToken(BaseModel):
    """A machine credential bound to a platform. The secret is shown once and stored hashed."""

    PREFIX = "rw_"

    platform = models.ForeignKey(
        "orgs.Platform",
        verbose_name=_("platform"),
        on_delete=models.CASCADE,
        related_name="tokens",
    )
    name = models.CharField(_("name"), max_length=80)
    key_prefix = models.CharField(_("key prefix"), max_length=16, db_index=True)
    key_hash = models.CharField(_("key hash"), max_length=64, unique=True)
    scopes = models.JSONField(_("scopes"), default=list)
    created_by = models.ForeignKey(
        User,
        verbose_name=_("created by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("platform API token")
        verbose_name_plural = _("platform API tokens")

    def __str__(self):
        return f"{self.platform} · {self.name} ({self.key_prefix}…)"

    @classmethod
    def new_secret(cls) -> str:
        return cls.PREFIX + secrets.token_urlsafe(32)

    @staticmethod
    def hash_secret(secret: str) -> str:
        return hashlib.sha256(secret.encode()).hexdigest()

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    @property
    def acts_for_platform(self) -> int | None:
        """Makes a token a platform principal (`core.permissions`); a revoked one acts for none."""
        return self.platform_id if self.revoked_at is None else None
