"""Pages, isolation, attachments, durability of filing, accountability and the platform API."""

from datetime import datetime, timedelta
from io import BytesIO
from zoneinfo import ZoneInfo

import pytest
from django.core.files.storage import FileSystemStorage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from redwheel import testing
from redwheel.accounts.services import token_create
from redwheel.appeals import selectors, services
from redwheel.appeals.models import Attachment, Case, Mediation, Status
from redwheel.core.errors import ValidationFailed

SH = ZoneInfo("Asia/Shanghai")
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n%test\n"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def file(driver, **extra):
    case, _created = services.case_file(
        actor=driver.user,
        driver=driver,
        category="dispatch",
        title="派单不公",
        description="连续三天派远单。",
        channel=Case.Channel.APP,
        **extra,
    )
    return case


def post_file(client, key, *files, title="派单不公"):
    return client.post(
        reverse("appeals:my_file"),
        {
            "idempotency_key": key,
            "category": "dispatch",
            "title": title,
            "description": "连续三天派远单。",
            "attachments": list(files),
        },
    )


def test_driver_files_from_phone_with_attachments_and_double_submit(city, client):
    driver = city.driver()
    client.force_login(driver.user)
    assert client.get(reverse("appeals:my_file")).status_code == 200
    photo = SimpleUploadedFile("a.png", PNG, content_type="image/png")
    receipt = SimpleUploadedFile("b.pdf", PDF, content_type="application/pdf")
    response = post_file(client, "k-1", photo, receipt)
    case = Case.objects.get()
    assert response.status_code == 302 and response.url == reverse("appeals:detail", args=[case.pk])
    assert sorted(case.attachments.values_list("content_type", flat=True)) == [
        "application/pdf",
        "image/png",
    ]
    again = post_file(client, "k-1", SimpleUploadedFile("a.png", PNG))
    assert again.status_code == 302 and Case.objects.count() == 1
    assert Attachment.objects.count() == 2
    page = client.get(reverse("appeals:detail", args=[case.pk]))
    assert page.status_code == 200 and "派单不公" in page.content.decode()
    assert (
        client.get(reverse("appeals:attachment", args=[case.attachments.first().pk])).status_code
        == 200
    )
    assert client.get(reverse("appeals:my_list")).status_code == 200


def test_attachment_type_and_size_checks(city, client, monkeypatch):
    driver = city.driver()
    client.force_login(driver.user)
    exe = SimpleUploadedFile("photo.png", b"MZ\x90\x00 not an image", content_type="image/png")
    response = post_file(client, "k-2", exe)
    assert response.status_code == 400 and Case.objects.count() == 0
    monkeypatch.setattr(services.attachments, "MAX_ATTACHMENT_BYTES", 32)
    with pytest.raises(ValidationFailed) as err:
        file(driver, attachments=[SimpleUploadedFile("big.png", PNG)])
    assert err.value.code == "attachment_too_large"


def test_storage_failure_midway_leaves_nothing_and_retry_creates_one(city, monkeypatch, tmp_path):
    driver = city.driver()
    real_save = FileSystemStorage.save
    calls = {"n": 0}

    def flaky(self, name, content, max_length=None):
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError("disk full")
        return real_save(self, name, content, max_length=max_length)

    monkeypatch.setattr(FileSystemStorage, "save", flaky)
    uploads = [SimpleUploadedFile("a.png", PNG), SimpleUploadedFile("b.pdf", PDF)]
    with pytest.raises(services.StorageFailed) as err:
        file(driver, attachments=uploads, idempotency_key="retry-me")
    assert err.value.status == 503 and "Nothing was filed" in str(err.value.message)
    assert Case.objects.count() == 0 and Attachment.objects.count() == 0
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]  # the first file was removed
    for upload in uploads:
        upload.seek(0)
    case = file(driver, attachments=uploads, idempotency_key="retry-me")
    again = file(driver, attachments=uploads, idempotency_key="retry-me")
    assert again.pk == case.pk and Case.objects.count() == 1
    assert case.attachments.count() == 2


def test_isolation_between_branches_and_drivers(city, client):
    mine, theirs = city.driver(), city.driver(platform=city.platform_b)
    case_a, case_b = file(mine), file(theirs)
    staff_a = testing.staff(city.branch_a)
    client.force_login(staff_a)
    assert client.get(reverse("appeals:detail", args=[case_a.pk])).status_code == 200
    assert client.get(reverse("appeals:detail", args=[case_b.pk])).status_code == 404
    assert client.post(reverse("appeals:act", args=[case_b.pk, "accept"])).status_code == 404
    listing = client.get(reverse("appeals:list")).content.decode()
    assert case_a.number in listing and case_b.number not in listing
    client.force_login(theirs.user)
    assert client.get(reverse("appeals:detail", args=[case_a.pk])).status_code == 404
    assert client.get(reverse("appeals:attachment", args=[1])).status_code == 404
    assert list(selectors.visible_cases(theirs.user)) == [case_b]
    # The committee above both sees both, and the case stays visible to branch A after it
    # went up to the platform's organisation.
    committee = testing.staff(city.root, role="viewer")
    assert set(selectors.visible_cases(committee)) == {case_a, case_b}
    services.case_escalate(actor=city.admin, case=case_a, reason="上报")
    assert case_a in selectors.visible_cases(staff_a)


def test_staff_page_actions_and_driver_sees_timeline(city, client):
    driver = city.driver()
    case = file(driver)
    staff_a = testing.staff(city.branch_a, role="secretary")
    client.force_login(staff_a)
    assert client.get(reverse("appeals:list") + "?status=open&overdue=on").status_code == 200
    client.post(reverse("appeals:act", args=[case.pk, "accept"]))
    client.post(reverse("appeals:act", args=[case.pk, "request_info"]), {"text": "请补充订单号"})
    case.refresh_from_db()
    assert case.status == Status.WAITING
    client.force_login(driver.user)
    page = client.get(reverse("appeals:detail", args=[case.pk])).content.decode()
    assert "请补充订单号" in page
    client.post(reverse("appeals:act", args=[case.pk, "provide_info"]), {"text": "订单号123"})
    client.force_login(staff_a)
    client.post(reverse("appeals:act", args=[case.pk, "answer"]), {"text": "已协调平台调整"})
    client.force_login(driver.user)
    client.post(reverse("appeals:act", args=[case.pk, "rate"]), {"satisfied": "1"})
    case.refresh_from_db()
    assert case.status == Status.CLOSED and case.satisfied is True
    page = client.get(reverse("appeals:detail", args=[case.pk])).content.decode()
    assert "已协调平台调整" in page


def test_staff_intake_on_behalf_and_mediation(city, client):

    driver = city.driver()
    staff_a = testing.staff(city.branch_a)
    client.force_login(staff_a)
    assert client.get(reverse("appeals:intake")).status_code == 200
    response = client.post(
        reverse("appeals:intake"),
        {
            "driver_number": driver.phone,
            "idempotency_key": "intake-1",
            "category": "other",
            "title": "乘客投诉绕路",
            "description": "乘客称绕路，司机称按导航。",
            "mediation": "on",
            "passenger": "王女士",
            "facts": "行程多出3公里",
            "compensate_first": "on",
            "amount": "12.50",
        },
    )
    case = Case.objects.get()
    assert response.status_code == 302 and case.driver == driver
    assert case.channel == "intake" and case.kind == "mediation"
    mediation = Mediation.objects.get(case=case)
    assert mediation.compensate_first and mediation.payer == city.platform_a
    client.post(
        reverse("appeals:act", args=[case.pk, "mediation"]),
        {"outcome": "agreed", "outcome_note": "平台先行赔付", "compensate_first": "on"},
    )
    mediation.refresh_from_db()
    assert mediation.outcome == "agreed"
    other_branch = testing.staff(city.branch_b)
    client.force_login(other_branch)
    response = client.post(
        reverse("appeals:intake"),
        {
            "driver_number": driver.phone,
            "idempotency_key": "intake-2",
            "category": "other",
            "title": "x",
            "description": "y",
        },
    )
    assert response.status_code == 400 and Case.objects.count() == 1


def test_accountability_ranks_units_and_exports_xlsx(city, client):
    monday = datetime(2026, 3, 2, 9, 0, tzinfo=SH)
    fast = file(city.driver(), now=monday)
    services.case_answer(
        actor=city.admin, case=fast, answer="已处理", now=monday + timedelta(hours=1)
    )
    services.case_rate(actor=fast.driver.user, case=fast, satisfied=True, now=monday)
    slow = file(city.driver(platform=city.platform_b), now=monday)
    services.escalate_due(now=monday + timedelta(days=5))
    committee = testing.staff(city.root)
    rows = selectors.accountability(committee, monday.date())
    by_unit = {r.unit: r for r in rows}
    assert by_unit[city.branch_a].resolution_on_time == 100.0
    assert by_unit[city.branch_a].satisfaction == 100.0
    assert by_unit[city.branch_a].median_hours == 1.0
    assert by_unit[city.branch_b].resolution_on_time == 0.0
    assert by_unit[city.branch_b].escalations == 1
    assert rows[0].unit == city.branch_a
    assert slow.pk
    assert [
        r.unit for r in selectors.accountability(testing.staff(city.branch_b), monday.date())
    ] == [city.branch_b]
    client.force_login(committee)
    page = client.get(reverse("appeals:accountability") + "?month=2026-03")
    assert page.status_code == 200 and city.branch_b.name in page.content.decode()
    export = client.get(reverse("appeals:accountability_xlsx") + "?month=2026-03")
    sheet = load_workbook(BytesIO(export.content)).active
    assert sheet.max_row == 1 + len(rows) and sheet["B2"].value == city.branch_a.name


def api_token(city, platform, scopes=("appeals:write",)):
    _token, secret = token_create(
        actor=city.admin, platform=platform, name="t", scopes=list(scopes)
    )
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


def test_platform_api_files_with_idempotency_and_reads_status(city, client):

    driver = city.driver()
    headers = api_token(city, city.platform_a)
    license_id = driver.license_no
    body = {
        "license_id": license_id,
        "category": "income",
        "title": "抽成",
        "description": "过高",
        "external_ref": "T-1",
    }
    url = "/api/v1/appeals"
    first = client.post(
        url, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="abc", **headers
    )
    assert first.status_code == 201, first.content
    second = client.post(
        url, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="abc", **headers
    )
    assert second.status_code == 200 and second.json()["number"] == first.json()["number"]
    assert Case.objects.filter(driver=driver).count() == 1
    number = first.json()["number"]
    status = client.get(f"{url}/{number}", **headers)
    assert status.status_code == 200 and status.json()["timeline"][0]["action"] == "file"
    other = api_token(city, city.platform_b)
    assert client.get(f"{url}/{number}", **other).status_code == 404
    assert client.post(url, body, content_type="application/json", **other).status_code == 404
    wrong_scope = api_token(city, city.platform_a, scopes=("badges:read",))
    assert client.post(url, body, content_type="application/json", **wrong_scope).status_code == 403
    assert client.get(f"{url}/{number}").status_code == 401
