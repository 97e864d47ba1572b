from django.contrib.auth.backends import ModelBackend

from redwheel.accounts import services


class PhoneBackend(ModelBackend):
    """Mobile number + password, with lockout after repeated failures (see services.login)."""

    def authenticate(self, request, username=None, password=None, phone=None, **kwargs):
        phone = phone or username
        if not phone or not password:
            return None
        return services.check_login(phone=phone, password=password)
