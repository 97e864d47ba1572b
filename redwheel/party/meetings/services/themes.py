"""主题党日: the city committee publishes each month's topic with materials; a branch adopts
it in one step as a meeting of type 主题党日, prefilled from the topic."""

from datetime import date

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from redwheel.core import audit
from redwheel.core.dates import month_start
from redwheel.core.errors import Conflict, NotFound, ValidationFailed
from redwheel.core.permissions import get_or_404, require
from redwheel.orgs.models import OrgUnit
from redwheel.party.meetings.models import Meeting, MeetingType, ThemedDay, ThemeFile
from redwheel.party.meetings.services import files
from redwheel.party.meetings.services.common import SessionSpec, _person, city_of
from redwheel.party.meetings.services.meetings import meeting_create
from redwheel.party.meetings.services.types import THEMED_DAY, ensure_types


def _check(title: str, materials: str) -> tuple[str, str]:
    title = (title or "").strip()
    if not title or len(title) > 120:
        raise ValidationFailed(
            _("A topic of 1 to 120 characters is required."), code="bad_title",
            details={"title": [_("A topic of 1 to 120 characters is required.")]},
        )  # fmt: skip
    return title, (materials or "").strip()


def _attach(theme: ThemedDay, uploads, now) -> None:
    checked = files.check_all(uploads)
    if not checked:
        return
    saved = files.store(ThemeFile, checked, "meetings/themes", now)
    try:
        ThemeFile.objects.bulk_create(
            [
                ThemeFile(
                    theme=theme,
                    file=name,
                    original_name=upload.name[:200],
                    content_type=content_type,
                    size=upload.size,
                )
                for name, upload, content_type in saved
            ]
        )
    except BaseException:
        files.remove(ThemeFile, [name for name, *_rest in saved])
        raise


def themed_day_publish(
    *, actor, city: OrgUnit, month: date, title: str, materials: str = "", uploads=()
) -> ThemedDay:
    """Publish the topic of one month for every branch of the city (the city committee)."""
    require(actor, "change", city)
    if city.parent_id is not None:
        raise NotFound()
    title, materials = _check(title, materials)
    files.check_all(uploads)  # refuse bad files before anything is written
    month = month_start(month)
    now = timezone.now()
    try:
        with transaction.atomic():
            ensure_types(city)
            theme = ThemedDay.objects.create(
                city=city,
                month=month,
                title=title,
                materials=materials,
                published_by=_person(actor),
                published_at=now,
            )
            _attach(theme, uploads, now)
            audit.record(
                actor=actor,
                action="themed_day.publish",
                obj=theme,
                summary=f"{month:%Y-%m} {title}",
            )
    except IntegrityError as exc:
        raise Conflict(
            _("A themed party day is already published for %(month)s.")
            % {"month": f"{month:%Y-%m}"},
            code="theme_exists",
        ) from exc
    return theme


def themed_day_update(
    *, actor, theme: ThemedDay, title: str, materials: str = "", uploads=()
) -> ThemedDay:
    """Correct the topic or add materials; adopted meetings keep what they were given."""
    require(actor, "change", theme)
    title, materials = _check(title, materials)
    files.check_all(uploads)
    with transaction.atomic():
        theme = ThemedDay.objects.select_for_update().get(pk=theme.pk)
        theme.title, theme.materials = title, materials
        theme.save()
        _attach(theme, uploads, timezone.now())
        audit.record(actor=actor, action="themed_day.update", obj=theme, summary=title)
    return theme


def themed_day_adopt(
    *,
    actor,
    theme: ThemedDay,
    branch: OrgUnit,
    sessions: list[SessionSpec],
    place: str = "",
    online_link: str = "",
) -> Meeting:
    """A branch adopts the month's topic as a 主题党日 meeting: title and agenda come from
    the topic; the secretary picks the sessions and the place."""
    require(actor, "change", branch)
    theme = get_or_404(actor, "view", ThemedDay.objects.all(), pk=getattr(theme, "pk", None))
    if city_of(branch).pk != theme.city_id:
        raise NotFound()
    ensure_types(theme.city)
    meeting_type = MeetingType.objects.get(city_id=theme.city_id, code=THEMED_DAY)
    agenda = theme.materials
    return meeting_create(
        actor=actor,
        branch=branch,
        meeting_type=meeting_type,
        title=theme.title,
        agenda=agenda,
        sessions=sessions,
        place=place,
        online_link=online_link,
        theme=theme,
    )
