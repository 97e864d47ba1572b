import csv
import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from redwheel import testing
from redwheel.accounts.models import User
from redwheel.core import crypto
from redwheel.core.models import AuditEntry
from redwheel.drivers.imports import services
from redwheel.drivers.imports.parsing import DRIVER_COLUMNS, MEMBER_COLUMNS
from redwheel.drivers.models import (
    Affiliation,
    Driver,
    ImportJob,
    Membership,
    MembershipActivity,
    Vehicle,
)

pytestmark = pytest.mark.django_db

DRIVER_HEADERS = [c.header for c in DRIVER_COLUMNS]
MEMBER_HEADERS = [c.header for c in MEMBER_COLUMNS]
ID_COL, PHONE_COL = "身份证号/驾驶证号", "手机号"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def staff(city):
    return testing.staff(city.root, "staff")


@pytest.fixture
def client_as(client):
    def login(user):
        client.force_login(user)
        return client

    return login


def bad_checksum(seq: int) -> str:
    number = testing.id_number(seq)
    return number[:17] + ("0" if number[17] != "0" else "1")


def roster(rows, headers=DRIVER_HEADERS, fmt="csv", name=None):
    """Build an upload in the given format: csv (UTF-8 with BOM), csv-plain, csv-gbk, xlsx."""
    if fmt == "xlsx":
        workbook = openpyxl.Workbook()
        sheet = workbook.active
        sheet.append(headers)
        for row in rows:
            sheet.append(row)
        buffer = io.BytesIO()
        workbook.save(buffer)
        body, suffix = buffer.getvalue(), "xlsx"
    else:
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter="\t" if fmt == "csv-tab" else ",")
        writer.writerow(headers)
        writer.writerows(rows)
        encoding = {
            "csv": "utf-8-sig",
            "csv-plain": "utf-8",
            "csv-gbk": "gb18030",
            "csv-tab": "utf-8-sig",
        }[fmt]
        body, suffix = buffer.getvalue().encode(encoding), "csv"
    return SimpleUploadedFile(name or f"roster.{suffix}", body)


def upload(client, unit, upload_file, kind="drivers"):
    response = client.post(
        reverse("imports:list"), {"kind": kind, "unit": unit.pk, "file": upload_file}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    return ImportJob.objects.get(pk=int(response["Location"].rstrip("/").split("/")[-1]))


def errors_of(job):
    return list(job.row_errors.values_list("row", "column"))


def driver_row(city, seq, *, platform=None, unit="甲出行第一支部", plate="", name=None):
    return [
        name or f"司机{seq}",
        testing.id_number(seq),
        testing.mobile(seq),
        platform or city.platform_a.company_id,
        plate,
        unit,
        "",
    ]


@pytest.mark.parametrize("fmt", ["csv", "csv-plain", "csv-gbk", "csv-tab", "xlsx"])
def test_problems_are_listed_row_by_row_and_nothing_is_written(city, staff, client_as, fmt):
    client = client_as(staff)
    drivers_before, users_before = Driver.objects.count(), User.objects.count()
    rows = [
        driver_row(city, 900001),  # row 2: fine
        [*driver_row(city, 900002)[:1], bad_checksum(900002), *driver_row(city, 900002)[2:]],
        [*driver_row(city, 900003)[:2], "12345", *driver_row(city, 900003)[3:]],
        [*driver_row(city, 900001)[:2], testing.mobile(900004), *driver_row(city, 900004)[3:]],
        driver_row(city, 900005, platform="NOPE"),  # row 6
        driver_row(city, 900006, unit="不存在的支部"),  # row 7
        driver_row(city, 900007, plate="川A1234"),  # row 8: bad plate
        ["", "", "", "", "", "", ""],  # blank: skipped
    ]
    job = upload(client, city.root, roster(rows, fmt=fmt))
    assert job.status == ImportJob.Status.PREVIEWED
    assert errors_of(job) == [
        (3, ID_COL),
        (4, PHONE_COL),
        (5, ID_COL),
        (6, "平台"),
        (7, "所属党组织"),
        (8, "车牌号"),
    ]
    assert "row 2" in job.row_errors.get(row=5).message
    assert (job.total_rows, job.valid_rows, job.error_count) == (7, 1, 6)
    assert (Driver.objects.count(), User.objects.count()) == (drivers_before, users_before)
    assert not job.file, "a file with problems can never be imported, so it is not kept"

    page = client.get(reverse("imports:detail", args=[job.pk])).content.decode()
    assert "所属党组织" in page and "NOPE" in page
    assert testing.id_number(900001) not in page and testing.mobile(900001) not in page

    response = client.post(reverse("imports:commit", args=[job.pk]))
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == ImportJob.Status.PREVIEWED
    assert Driver.objects.count() == drivers_before


def test_corrected_files_import_and_reimport_changes_nothing(city, staff, client_as):
    client = client_as(staff)
    drivers = [
        driver_row(city, 910001, plate="川A91001"),
        driver_row(
            city, 910002, platform=city.platform_b.name, unit="乙约车第一支部", plate="川AD91002"
        ),
        driver_row(city, 910003, unit=""),
    ]
    job = upload(client, city.root, roster(drivers, fmt="xlsx"))
    assert (job.status, job.error_count) == (ImportJob.Status.PREVIEWED, 0)
    assert not Driver.objects.filter(
        license_index=crypto.blind_index(testing.id_number(910001))
    ).exists(), "nothing is written before the commit"
    audits = AuditEntry.objects.filter(action="import.drivers").count()
    client.post(reverse("imports:commit", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == ImportJob.Status.COMMITTED, job.message
    assert (job.created_count, job.updated_count, job.unchanged_count) == (3, 0, 0)
    assert AuditEntry.objects.filter(action="import.drivers").count() == audits + 1
    assert not job.file, "the plaintext roster is deleted once imported"

    first = Driver.objects.get(license_index=crypto.blind_index(testing.id_number(910001)))
    assert (first.name, first.branch, first.phone) == (
        "司机910001",
        city.branch_a,
        testing.mobile(910001),
    )
    assert first.user is not None and not first.user.has_usable_password()
    assert first.gender and first.region_code == "510107"
    assert Vehicle.objects.get(plate="川A91001").driver == first
    second = Driver.objects.get(license_index=crypto.blind_index(testing.id_number(910002)))
    assert list(second.affiliations.values_list("platform", flat=True)) == [city.platform_b.pk]
    assert Vehicle.objects.get(plate="川AD91002").energy == Vehicle.Energy.NEW_ENERGY
    third = Driver.objects.get(license_index=crypto.blind_index(testing.id_number(910003)))
    assert third.branch is None and third.affiliations.get().platform == city.platform_a

    members = [
        [
            "司机910001",
            testing.id_number(910001),
            testing.mobile(910001),
            "正式党员",
            "甲出行第一支部",
            "2010-07-01",
            "是",
            "甲出行流动党员支部",
            "四川省某县委组织部",
        ],
        [
            "司机910002",
            testing.id_number(910002),
            testing.mobile(910002),
            "预备党员",
            "乙约车第一支部",
            "",
            "否",
            "",
            "",
        ],
    ]
    job = upload(client, city.root, roster(members, MEMBER_HEADERS), kind="members")
    assert (job.status, job.error_count) == (ImportJob.Status.PREVIEWED, 0), errors_of(job)
    client.post(reverse("imports:commit", args=[job.pk]))
    job.refresh_from_db()
    assert (job.status, job.created_count) == (ImportJob.Status.COMMITTED, 2), job.message
    membership = Membership.objects.get(driver=first)
    assert (membership.state, membership.category, membership.mobile_branch) == (
        "verified",
        "full",
        city.mobile_branch_a,
    )
    assert str(membership.joined_party_on) == "2010-07-01"
    assert membership.home_organisation == "四川省某县委组织部"
    assert list(membership.activities.values_list("action", "from_state", "to_state")) == [
        ("declare", "", "declared"),
        ("verify", "declared", "verified"),
        ("check_in", "verified", "verified"),
    ]
    assert membership.activities.first().actor == staff
    probationary = Membership.objects.get(driver=second)
    assert (probationary.state, probationary.category) == ("verified", "probationary")
    assert probationary.activities.count() == 2

    # Re-importing the same files changes nothing and records nothing new.
    counts = (
        Driver.objects.count(),
        Affiliation.objects.count(),
        Vehicle.objects.count(),
        User.objects.count(),
        MembershipActivity.objects.count(),
    )
    for kind, upload_file in (
        ("drivers", roster(drivers, fmt="xlsx")),
        ("members", roster(members, MEMBER_HEADERS)),
    ):
        job = upload(client, city.root, upload_file, kind=kind)
        audits = AuditEntry.objects.count()
        client.post(reverse("imports:commit", args=[job.pk]))
        job.refresh_from_db()
        assert job.status == ImportJob.Status.COMMITTED
        assert (job.created_count, job.updated_count, job.unchanged_count) == (
            0,
            0,
            len(drivers if kind == "drivers" else members),
        )
        assert AuditEntry.objects.count() == audits
    assert counts == (
        Driver.objects.count(),
        Affiliation.objects.count(),
        Vehicle.objects.count(),
        User.objects.count(),
        MembershipActivity.objects.count(),
    )

    # A changed phone is an update, with one audit entry for the job.
    drivers[2][2] = testing.mobile(910099)
    job = upload(client, city.root, roster(drivers, fmt="csv"))
    client.post(reverse("imports:commit", args=[job.pk]))
    job.refresh_from_db()
    assert (job.created_count, job.updated_count, job.unchanged_count) == (0, 1, 2)
    third.refresh_from_db()
    assert third.phone_index == crypto.blind_index(testing.mobile(910099))
    entry = AuditEntry.objects.filter(action="import.drivers").first()
    assert entry.data["updated"] == 1 and testing.mobile(910099) not in str(entry.data)


def test_member_roster_problems(city, staff, client_as):
    client = client_as(staff)
    first, second = city.driver("老司机"), city.driver("新司机")
    rows = [
        [
            "无此人",
            testing.id_number(920001),
            testing.mobile(920001),
            "正式党员",
            "甲出行第一支部",
            "",
            "",
            "",
            "",
        ],  # 2: unknown driver
        [
            first.name,
            first.license_no,
            first.phone,
            "党员",
            "甲出行第一支部",
            "",
            "",
            "",
            "",
        ],  # 3: category
        [
            second.name + "x",
            second.license_no,
            second.phone,
            "正式党员",
            "甲出行第一支部",
            "2010-13-01",
            "是",
            "",
            "",
        ],  # 4: several
        [
            first.name,
            first.license_no,
            first.phone,
            "正式党员",
            "甲出行第一支部",
            "",
            "是",
            "甲出行第一支部",
            "",
        ],  # 5: dup, not mobile
        [
            second.name,
            second.license_no + "",
            testing.mobile(920002),
            "预备党员",
            "乙约车第一支部",
            "",
            "",
            "",
            "",
        ],  # 6: dup again
    ]
    job = upload(client, city.root, roster(rows, MEMBER_HEADERS), kind="members")
    assert errors_of(job) == [
        (2, "身份证号"),
        (3, "党员类别"),
        (4, "入党日期"),
        (4, "流动党员报到支部"),
        (4, "姓名"),
        (5, "身份证号"),
        (5, "手机号"),
        (5, "流动党员报到支部"),
        (6, "身份证号"),
    ]
    assert "row 4" in job.row_errors.get(row=6).message
    assert not Membership.objects.filter(driver__in=[first, second]).exists()


def test_failure_halfway_leaves_nothing(city, staff, client_as, monkeypatch):
    client = client_as(staff)
    rows = [driver_row(city, 930000 + n) for n in range(1, 6)]  # spreadsheet rows 2..6
    job = upload(client, city.root, roster(rows))
    assert job.error_count == 0
    monkeypatch.setattr(services, "CHUNK", 2)
    original = services._apply_drivers

    def explode_on_row_5(rows, **kwargs):
        if any(row.number == 5 for row in rows):
            raise RuntimeError("disk full")
        return original(rows, **kwargs)

    monkeypatch.setattr(services, "_apply_drivers", explode_on_row_5)
    drivers, users = Driver.objects.count(), User.objects.count()
    client.post(reverse("imports:commit", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED
    assert "disk full" in job.message
    assert (Driver.objects.count(), User.objects.count()) == (drivers, users)
    assert not AuditEntry.objects.filter(action="import.drivers").exists()
    page = client.get(reverse("imports:detail", args=[job.pk])).content.decode()
    assert "disk full" in page


def test_recheck_at_commit_refuses_rows_that_became_invalid(city, staff, client_as):
    client = client_as(staff)
    job = upload(client, city.root, roster([driver_row(city, 935001), driver_row(city, 935002)]))
    assert job.error_count == 0
    # Between preview and commit, someone registers the second phone for another driver.
    services_driver = city.driver("抢先")
    services_driver.set_phone(testing.mobile(935002))
    services_driver.save()
    client.post(reverse("imports:commit", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED
    assert "3" in job.message and PHONE_COL in job.message
    assert not Driver.objects.filter(
        license_index=crypto.blind_index(testing.id_number(935001))
    ).exists()


def test_other_platforms_jobs_are_not_found(city, client_as):
    staff_a = testing.staff(city.committee_a, "staff")
    client = client_as(staff_a)
    job = upload(
        client,
        city.committee_a,
        roster(
            [
                driver_row(city, 940001),
                driver_row(city, 940002, platform=city.platform_b.company_id, unit=""),
                driver_row(city, 940003, unit="乙约车第一支部"),
            ]
        ),
    )
    # Platform B and its units are outside platform A's scope, so they are "unknown".
    assert errors_of(job) == [(3, "平台"), (4, "所属党组织")]

    for outsider in (
        testing.staff(city.branch_b, "secretary"),
        testing.staff(city.committee_b, "staff"),
    ):
        client = client_as(outsider)
        assert client.get(reverse("imports:detail", args=[job.pk])).status_code == 404
        assert client.get(reverse("imports:progress", args=[job.pk])).status_code == 404
        assert client.post(reverse("imports:commit", args=[job.pk])).status_code == 404
        assert job.original_name not in client.get(reverse("imports:list")).content.decode()
    secretary_page = (
        client_as(testing.staff(city.branch_b, "secretary"))
        .get(reverse("imports:list"))
        .content.decode()
    )
    assert 'type="file"' not in secretary_page
    # Staff of platform B cannot upload for platform A's unit either.
    response = client_as(testing.staff(city.committee_b, "staff")).post(
        reverse("imports:list"),
        {"kind": "drivers", "unit": city.committee_a.pk, "file": roster([])},
    )
    assert response.status_code == 400
    assert ImportJob.objects.count() == 1


@pytest.mark.parametrize("kind,columns", [("drivers", DRIVER_COLUMNS), ("members", MEMBER_COLUMNS)])
def test_templates_download_with_chinese_headers(city, staff, client_as, kind, columns):
    client = client_as(staff)
    response = client.get(reverse("imports:template", args=[kind, "xlsx"]))
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == [c.header for c in columns]
    assert rows[0][0] == "姓名" and len(rows) == 2
    response = client.get(reverse("imports:template", args=[kind, "csv"]))
    lines = response.content.decode("utf-8-sig").splitlines()
    assert lines[0].split(",") == [c.header for c in columns] and len(lines) == 2
    assert client.get(reverse("imports:template", args=[kind, "pdf"])).status_code == 404


def test_template_example_row_is_valid(city, staff, client_as):
    client = client_as(staff)
    body = client.get(reverse("imports:template", args=["drivers", "xlsx"])).content
    job = upload(client, city.root, SimpleUploadedFile("t.xlsx", body))
    # Only the placeholder platform is unknown in a fresh city; ID and phone are valid.
    assert errors_of(job) == [(2, "平台")]


@pytest.mark.parametrize(
    "upload_file,needle",
    [
        (SimpleUploadedFile("roster.xls", b"\xd0\xcf\x11\xe0 old excel"), ".xlsx"),
        (SimpleUploadedFile("roster.txt", b"a,b"), ".csv"),
        (SimpleUploadedFile("roster.xlsx", b"not a zip at all"), "xlsx"),
        (SimpleUploadedFile("roster.csv", "姓名,身份证号/驾驶证号,平台\n".encode()), "手机号"),
    ],
)
def test_malformed_files_are_refused_with_a_clear_error(
    city, staff, client_as, upload_file, needle
):
    response = client_as(staff).post(
        reverse("imports:list"), {"kind": "drivers", "unit": city.root.pk, "file": upload_file}
    )
    assert response.status_code == 400
    assert needle in response.content.decode()
    assert not ImportJob.objects.exists()


def test_progress_poll_refreshes_when_done(city, staff, client_as):
    client = client_as(staff)
    job = upload(client, city.root, roster([driver_row(city, 950001)]))
    response = client.get(reverse("imports:progress", args=[job.pk]))
    assert response.status_code == 200 and response["HX-Refresh"] == "true"
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.VALIDATING, progress=40)
    response = client.get(reverse("imports:progress", args=[job.pk]))
    assert "HX-Refresh" not in response and 'hx-trigger="every 1s"' in response.content.decode()


def test_management_command_checks_and_commits(city, tmp_path):
    staff = testing.staff(city.root, "staff")
    path = tmp_path / "drivers.csv"
    bad = tmp_path / "bad.csv"
    good_rows = [driver_row(city, 960001), driver_row(city, 960002)]
    path.write_bytes(roster(good_rows).read())
    bad.write_bytes(roster([driver_row(city, 960003, platform="NOPE")]).read())
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_roster", str(bad), kind="drivers", phone=staff.phone, stdout=out)
    assert "row 2 · 平台" in out.getvalue()

    out = io.StringIO()
    call_command("import_roster", str(path), kind="drivers", phone=staff.phone, stdout=out)
    assert (
        "checked only" in out.getvalue()
        and Driver.objects.filter(
            license_index=crypto.blind_index(testing.id_number(960001))
        ).count()
        == 0
    )
    out = io.StringIO()
    call_command(
        "import_roster", str(path), kind="drivers", phone=staff.phone, commit=True, stdout=out
    )
    assert "2 created" in out.getvalue()
    assert Driver.objects.filter(license_index=crypto.blind_index(testing.id_number(960002)))


def test_member_roster_verifies_declared_and_transfers_verified(city, staff, client_as):
    from redwheel.drivers import services as driver_services
    from redwheel.orgs import services as org_services

    client = client_as(staff)
    declared = city.driver("自报")
    driver_services.membership_declare(
        actor=declared.user, driver=declared, category="full", branch=city.branch_a
    )
    moving = city.member("转出")
    other_branch = org_services.unit_create(
        actor=city.admin,
        name="甲出行第二支部",
        kind="branch",
        parent=city.committee_a,
        region_code="510107",
    )
    rows = [
        [
            declared.name,
            declared.license_no,
            declared.phone,
            "正式党员",
            "甲出行第一支部",
            "",
            "",
            "",
            "",
        ],
        [
            moving.name,
            moving.license_no,
            moving.phone,
            "正式党员",
            other_branch.name,
            "",
            "",
            "",
            "",
        ],
    ]
    job = upload(client, city.root, roster(rows, MEMBER_HEADERS), kind="members")
    assert job.error_count == 0, errors_of(job)
    client.post(reverse("imports:commit", args=[job.pk]))
    job.refresh_from_db()
    assert (job.created_count, job.updated_count) == (0, 2), job.message
    assert list(
        Membership.objects.get(driver=declared).activities.values_list("action", flat=True)
    ) == ["declare", "verify"]
    membership = Membership.objects.get(driver=moving)
    assert membership.branch == other_branch and membership.state == "verified"
    assert membership.activities.last().action == "transfer"
    moving.refresh_from_db()
    assert moving.branch == other_branch
