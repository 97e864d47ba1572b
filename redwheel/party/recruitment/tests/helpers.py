"""Shared set-up for the recruitment tests: PDFs, full members, a case moved along its steps."""

from datetime import date, timedelta

from django.core.files.uploadedfile import SimpleUploadedFile

from redwheel.party.recruitment import services

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

# Days after the application on which each step is done in `advance` (rules respected:
# step 7 a year after step 3, the branch meeting soon after 预审, approval within 3 months).
OFFSETS = {
    2: 20, 3: 40, 4: 50, 5: 55, 6: 60, 7: 420, 8: 425, 9: 430, 10: 435, 11: 440, 12: 445,
    13: 450, 14: 455, 15: 460, 16: 470, 17: 480, 18: 490, 19: 495, 20: 500, 21: 600,
    22: 800, 23: 826, 24: 840, 25: 850,
}  # fmt: skip
VALUES = {
    2: {"talker": "王书记"},
    3: {"method": "党员推荐"},
    10: {"conclusion": "合格"},
    11: {"days": 3},
    15: {"members_present": 9, "votes_for": 9},
}


def pdf(name: str = "letter.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def apply(city, driver=None, *, on: date | None = None, branch=None, actor=None):
    driver = driver or city.driver("申请人")
    return services.case_apply(
        actor=actor or city.admin,
        driver=driver,
        branch=branch or driver.branch,
        applied_on=on,
        letter=pdf(),
    )


def advance(city, case, to_step: int, *, outcome: str = "confirm", start: date | None = None):
    """Complete steps up to and including `to_step`, dated OFFSETS days after `start` (the
    application date), assigning mentors and sponsors on the way."""
    start = start or case.applied_on
    while case.current_step <= min(to_step, 25) and case.state != "cancelled":
        n = case.current_step
        if n == 5:
            services.case_people_set(
                actor=city.admin, case=case, role="mentor", members=[city.member("联系人")]
            )
        if n == 9:
            sponsors = [city.member("介绍人"), city.member("介绍人")]
            services.case_people_set(actor=city.admin, case=case, role="sponsor", members=sponsors)
        uploads = {"vetting": pdf("vetting.pdf")} if n == 10 else {}
        case = services.case_step_complete(
            actor=city.admin,
            case=case,
            done_on=start + timedelta(days=OFFSETS[n]),
            values=VALUES.get(n, {}),
            uploads=uploads,
            outcome=outcome if n == 24 else "",
            extend_months=6 if outcome == "extend" and n == 24 else 0,
        )
        if n == 24:
            break  # an outcome: confirmed, extended (back to step 21) or cancelled
    return case
