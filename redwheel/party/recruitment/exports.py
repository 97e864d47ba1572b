"""The branch registers (花名册) as a workbook: applicants, activists, development candidates
and probationary members, with their dates, mentors and sponsors (formula-safe cells)."""

from django.utils.translation import gettext as _

from redwheel.core.exports import Column, Sheet, xlsx_bytes
from redwheel.party.recruitment.services.common import done_dates, steps_of

TITLES = {
    "applicants": "入党申请人",
    "activists": "入党积极分子",
    "candidates": "发展对象",
    "probationary": "预备党员",
}


def _row(case) -> list:
    done = done_dates(case)
    step = steps_of(case.version).get(case.current_step)
    people = list(case.people.all())
    return [
        case.driver.name,
        case.driver.license_masked,
        case.branch.name,
        case.applied_on,
        done.get(3),
        done.get(7),
        case.joined_party_on,
        case.probation_ends_on,
        f"{case.current_step} {step.name}" if step else "",
        case.due_on,
        "、".join(p.member.name for p in people if p.role == "mentor"),
        "、".join(p.member.name for p in people if p.role == "sponsor"),
        case.get_state_display(),
    ]


def registers_xlsx(registers: dict) -> bytes:
    columns = [
        _("Name"),
        Column(_("Licence (masked)"), text=True),
        _("Branch"),
        _("Applied on"),
        _("Activist since"),
        _("Candidate since"),
        _("Joined the party on"),
        _("Probation ends on"),
        _("Current step"),
        _("Due on"),
        _("Mentors"),
        _("Sponsors"),
        _("State"),
    ]
    return xlsx_bytes(
        Sheet(TITLES[name], columns, [_row(case) for case in cases])
        for name, cases in registers.items()
    )
