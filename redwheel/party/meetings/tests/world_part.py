"""Organisation life's part of the tenancy world (redwheel/tests/world.py): one object of
each of its models, built through the services."""

from datetime import timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def build(world, operator) -> None:
    from redwheel.party.meetings import services

    city, marker = world.city, world.marker
    types = services.meeting_types_seed(actor=operator, city=city.root)
    start = timezone.now() + timedelta(days=1)
    theme = services.themed_day_publish(
        actor=operator,
        city=city.root,
        month=start.date(),
        title=f"{marker}主题党日",
        materials="学习材料",
        uploads=[SimpleUploadedFile("slides.png", PNG, content_type="image/png")],
    )
    meeting = services.themed_day_adopt(
        actor=operator,
        theme=theme,
        branch=city.branch_a,
        sessions=[
            services.SessionSpec(start, start + timedelta(hours=1), "午间场"),
            services.SessionSpec(start + timedelta(hours=8), start + timedelta(hours=9), "晚间场"),
        ],
        place=f"{marker}司机之家",
    )
    attendance = services.attendance_mark(
        actor=operator, meeting=meeting, driver=world.member, state="present"
    )
    leave = services.leave_request(actor=world.member.user, meeting=meeting, reason="出车")
    files = services.meeting_file_add(
        actor=operator,
        meeting=meeting,
        uploads=[SimpleUploadedFile("sign.png", PNG, content_type="image/png")],
    )
    world.add(*types, theme, *theme.files.all(), meeting, *meeting.sessions.all())
    world.add(*meeting.activities.all(), attendance, leave, *leave.activities.all(), *files)
