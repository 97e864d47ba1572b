"""The rotating QR code of a meeting's sign-in (扫码签到).

The organiser's page shows a QR code of a URL carrying a signed token: the meeting, the
session and the moment it was issued, signed with the project's SECRET_KEY under a salt of
its own (`django.core.signing.TimestampSigner`). The page fetches a fresh code every
`ROTATE_SECONDS`; a code is accepted for `CODE_LIFETIME` after it was issued (the code on
screen and the two before it, so a member who scanned just before a refresh still gets in),
and only while the session's window is open: from `WINDOW_MARGIN` before its start to
`WINDOW_MARGIN` after its end. A photo of the code taken earlier therefore stops working
within a minute and a half, and never works outside its session.

Pure functions of time and settings; the services decide what a valid code records.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core import signing
from django.utils.translation import gettext_lazy as _

from redwheel.core.errors import ValidationFailed

SALT = "redwheel.party.meetings.sign-in"
ROTATE_SECONDS = 30
CODE_LIFETIME = timedelta(seconds=3 * ROTATE_SECONDS)
WINDOW_MARGIN = timedelta(minutes=15)


class CodeRefused(ValidationFailed):
    """A sign-in code that cannot be used: bad, expired, of another meeting, out of window."""

    code = "sign_in_refused"


@dataclass(frozen=True)
class Code:
    meeting_id: int
    session_id: int


def window(session) -> tuple[datetime, datetime]:
    """When a session's codes are shown and accepted."""
    return session.starts_at - WINDOW_MARGIN, session.ends_at + WINDOW_MARGIN


def is_open(session, now: datetime) -> bool:
    opens, closes = window(session)
    return opens <= now <= closes


def issue(session) -> str:
    """A fresh code for `session` (the caller checks the window is open)."""
    signer = signing.TimestampSigner(salt=SALT)
    return signer.sign_object({"m": session.meeting_id, "s": session.pk}, compress=False)


def read(token: str) -> Code:
    """The meeting and session of a code still within its lifetime, or CodeRefused."""
    signer = signing.TimestampSigner(salt=SALT)
    try:
        data = signer.unsign_object(token or "", max_age=CODE_LIFETIME)
    except signing.SignatureExpired as exc:
        raise CodeRefused(
            _(
                "This sign-in code has expired: codes change every %(seconds)s seconds. "
                "Scan the code on the organiser's screen again."
            )
            % {"seconds": ROTATE_SECONDS},
            code="code_expired",
        ) from exc
    except (signing.BadSignature, ValueError, TypeError) as exc:
        raise CodeRefused(
            _("This is not a valid sign-in code. Scan the code on the organiser's screen."),
            code="bad_code",
        ) from exc
    try:
        return Code(meeting_id=int(data["m"]), session_id=int(data["s"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise CodeRefused(_("This is not a valid sign-in code."), code="bad_code") from exc
