"""主题党日: the committee publishes the month's topic; a branch adopts it in one step; the
adoption list shows every branch in tree order."""

from datetime import date, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from redwheel import testing
from redwheel.core.errors import Conflict, NotFound, ValidationFailed
from redwheel.party.meetings import selectors, services
from redwheel.party.meetings.models import ThemedDay, ThemeFile
from redwheel.party.meetings.tests.helpers import at, secretary

pytestmark = pytest.mark.django_db

START = at(2026, 6, 18, 12)
PDF = b"%PDF-1.4 demo"


def _sessions():
    return [services.SessionSpec(START, START + timedelta(hours=1), "午间场")]


@pytest.fixture
def theme(city):
    committee = testing.staff(city.root)
    return services.themed_day_publish(
        actor=committee, city=city.root, month=date(2026, 6, 9), title="学习安全生产法",
        materials="第一部分：……", uploads=[SimpleUploadedFile("讲义.pdf", PDF)],
    )  # fmt: skip


def test_publishing_is_for_the_city_committee_only(city, theme):
    assert theme.month == date(2026, 6, 1)
    assert [f.original_name for f in theme.files.all()] == ["讲义.pdf"]
    for actor in (secretary(city), testing.staff(city.committee_a)):
        with pytest.raises(NotFound):
            services.themed_day_publish(
                actor=actor, city=city.root, month=date(2026, 7, 1), title="x"
            )
    with pytest.raises(Conflict):
        services.themed_day_publish(
            actor=testing.staff(city.root), city=city.root, month=date(2026, 6, 1), title="又一个"
        )
    with pytest.raises(ValidationFailed):
        services.themed_day_publish(
            actor=testing.staff(city.root), city=city.root, month=date(2026, 8, 1), title="x",
            uploads=[SimpleUploadedFile("virus.exe", b"MZ...")],
        )  # fmt: skip
    assert ThemedDay.objects.count() == 1 and ThemeFile.objects.count() == 1


def test_a_secretary_adopts_it_in_one_step(city, theme):
    boss = secretary(city)
    meeting = services.themed_day_adopt(
        actor=boss, theme=theme, branch=city.branch_a, sessions=_sessions(), place="司机之家"
    )
    assert (meeting.type.code, meeting.title, meeting.agenda) == (
        "themed_day", "学习安全生产法", "第一部分：……",
    )  # fmt: skip
    assert meeting.theme == theme and meeting.status == "planned"
    with pytest.raises(Conflict):
        services.themed_day_adopt(
            actor=boss, theme=theme, branch=city.branch_a, sessions=_sessions(), place="x"
        )
    # Not for another branch's secretary to adopt for branch_a.
    with pytest.raises(NotFound):
        services.themed_day_adopt(
            actor=testing.staff(city.branch_b, "secretary"), theme=theme, branch=city.branch_a,
            sessions=_sessions(), place="x",
        )  # fmt: skip


def test_the_adoption_list_shows_every_branch_in_tree_order(city, theme):
    services.themed_day_adopt(
        actor=testing.staff(city.branch_b, "secretary"), theme=theme, branch=city.branch_b,
        sessions=_sessions(), place="x",
    )  # fmt: skip
    committee = testing.staff(city.root)
    rows = selectors.theme_adoption(committee, theme)
    assert [b.pk for b, _m in rows] == sorted(
        [city.branch_a.pk, city.branch_b.pk, city.mobile_branch_a.pk],
        key=lambda pk: next(
            b.path for b in (city.branch_a, city.branch_b, city.mobile_branch_a) if b.pk == pk
        ),
    )
    assert {b.pk: m is not None for b, m in rows} == {
        city.branch_a.pk: False, city.branch_b.pk: True, city.mobile_branch_a.pk: False,
    }  # fmt: skip
    # A branch secretary sees only their own branch in the list.
    own = selectors.theme_adoption(secretary(city), theme)
    assert [b.pk for b, _m in own] == [city.branch_a.pk]


def test_another_city_cannot_see_or_adopt_the_theme(city, theme):
    other = testing.city()
    boss = testing.staff(other.branch_a, "secretary")
    with pytest.raises(NotFound):
        services.themed_day_adopt(
            actor=boss, theme=theme, branch=other.branch_a, sessions=_sessions(), place="x"
        )
    assert not selectors.themes(boss).filter(pk=theme.pk).exists()
