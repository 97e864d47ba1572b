"""The media volume full or read-only during an upload: a clear error on the page, no row, and
no partial file.

Simulated for real. Where we may mount (root, CI): MEDIA_ROOT is a 256 KiB tmpfs, filled up
(ENOSPC), then remounted read-only (EROFS), and the pages are called in this process. Where
mounting is refused (or FAULTS_NO_TMPFS=1): the app is served by gunicorn against this test
database, once with RLIMIT_FSIZE (writes past 64 KiB fail with EFBIG: "full"), once without
the capability to override file permissions (setpriv; root otherwise ignores them) and MEDIA_ROOT
mode 0555 ("read-only"). `runuser -u nobody` would do too where nobody may run the venv's python.
"""

import os
import re
import resource
import subprocess
import uuid
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.urls import reverse

from redwheel import testing
from redwheel.appeals.models import Attachment, Case
from redwheel.drivers.imports.parsing import DRIVER_COLUMNS
from redwheel.drivers.models import ImportJob
from redwheel.tests.faults.processes import BIN, ROOT, free_port, terminate, wait_for
from redwheel.tests.faults.workers import worker_env

FILLER = "filler.bin"
LIMIT = 64 * 1024  # RLIMIT_FSIZE of the served fallback


def _mount_tmpfs(mount: Path) -> bool:
    if os.environ.get("FAULTS_NO_TMPFS"):
        return False
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)], capture_output=True
    )
    return done.returncode == 0


def _tmpfs_possible() -> bool:
    import tempfile

    probe = Path(tempfile.mkdtemp(prefix="rw-faults-probe-"))
    try:
        if not _mount_tmpfs(probe):
            return False
        subprocess.run(["umount", str(probe)], check=False)
        return True
    finally:
        probe.rmdir()


TMPFS = _tmpfs_possible()
pytestmark = [
    pytest.mark.faults,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL"),
    # The served fallback is another process: it must see committed rows.
    pytest.mark.django_db(transaction=not TMPFS),
]


def _fill(mount: Path, leave: int) -> None:
    filler = mount / FILLER
    with open(filler, "wb", buffering=0) as out:
        try:
            while True:
                out.write(b"\0" * 4096)
        except OSError:
            pass  # ENOSPC: full
    os.truncate(filler, filler.stat().st_size - leave)


class InProcess:
    """The Django test client against a tmpfs MEDIA_ROOT."""

    def __init__(self, mount: Path):
        self.mount = mount

    def post(self, user, url, data):
        client = Client(HTTP_ACCEPT_LANGUAGE="en")
        client.force_login(user)
        response = client.post(url, data)
        return response.status_code, response.content.decode()


class Served:
    """gunicorn against this test database, with a file-size limit or unable to write MEDIA_ROOT."""

    def __init__(self, mount: Path, fault: str | None):
        import tempfile

        self.mount = mount
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # DEBUG on: gunicorn has no --skip-checks, and the data was written with the
        # development keys of this process (the session too).
        env = worker_env(MEDIA_ROOT=str(mount), DEBUG="1")
        command = [
            str(BIN / "python"),
            str(BIN / "gunicorn"),
            "config.wsgi:application",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            "1",
            "--threads",
            "2",
        ]
        limit = None
        if fault == "read-only":
            os.chmod(mount, 0o555)  # owned by root, and the server may not override that
            command = [
                "setpriv",
                "--bounding-set",
                "-dac_override,-dac_read_search",
                "--",
                *command,
            ]
        elif fault == "full":
            limit = LIMIT
        self.log = Path(tempfile.mkstemp(prefix="rw-faults-media-", suffix=".log")[1])

        def preexec():
            if limit:
                resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

        with open(self.log, "w") as out:
            self.proc = subprocess.Popen(
                command,
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                preexec_fn=preexec,
            )
        wait_for(self._answers, 60, "gunicorn")

    def _answers(self) -> bool:
        import requests

        if self.proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited:\n{self.log.read_text()}")
        try:
            requests.get(f"{self.url}/healthz", timeout=5)
            return True
        except requests.RequestException:
            return False

    def post(self, user, url, data):
        import requests

        client = Client()
        client.force_login(user)  # a session row in the shared database
        session = requests.Session()
        session.headers["Accept-Language"] = "en"
        session.cookies.set("sessionid", client.cookies["sessionid"].value)
        form = session.get(self.url + url, timeout=30)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
        files = {
            key: (value.name, value.read())
            for key, value in data.items()
            if isinstance(value, SimpleUploadedFile)
        }
        if isinstance(data.get("attachments"), list):
            files = [("attachments", (f.name, f.read())) for f in data["attachments"]]
        fields = {
            k: v
            for k, v in data.items()
            if not isinstance(v, SimpleUploadedFile) and not isinstance(v, list)
        }
        response = session.post(
            self.url + url,
            data={**fields, "csrfmiddlewaretoken": token},
            files=files,
            headers={"Referer": self.url + url},
            allow_redirects=False,
            timeout=30,
        )
        return response.status_code, response.text

    def close(self) -> None:
        terminate(self.proc)


@pytest.fixture
def volume(request, settings, tmp_path):
    """(`InProcess` or `Served`, its MEDIA_ROOT) for the test's `fault`: full, read-only or
    None (room enough)."""
    fault = getattr(request, "param", None)
    mount = tmp_path / "media"
    mount.mkdir()
    if TMPFS and _mount_tmpfs(mount):
        settings.MEDIA_ROOT = mount
        try:
            _fill(mount, leave=48 * 1024)
            if fault == "read-only":
                subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True)
            yield InProcess(mount)
        finally:
            subprocess.run(["umount", "-l", str(mount)], check=False)
        return
    if os.geteuid() != 0:
        pytest.skip("neither a tmpfs nor setpriv/RLIMIT_FSIZE without root")
    settings.MEDIA_ROOT = mount
    server = Served(mount, fault)
    try:
        yield server
    finally:
        server.close()
        os.chmod(mount, 0o755)


def files_in(mount: Path) -> list[str]:
    return sorted(
        str(p.relative_to(mount)) for p in mount.rglob("*") if p.is_file() and p.name != FILLER
    )


def jpeg(size: int) -> SimpleUploadedFile:
    return SimpleUploadedFile("photo.jpg", b"\xff\xd8\xff\xe0" + b"\x01" * (size - 4))


def roster_csv(city, rows: int) -> SimpleUploadedFile:
    lines = [",".join(c.header for c in DRIVER_COLUMNS)]
    for seq in range(980001, 980001 + rows):
        number, phone, company = (
            testing.id_number(seq),
            testing.mobile(seq),
            city.platform_a.company_id,
        )
        lines.append(f"司机{seq},{number},{phone},{company},,甲出行第一支部,")
    return SimpleUploadedFile("roster.csv", ("\n".join(lines) + "\n").encode("utf-8-sig"))


def file_appeal(volume, driver, upload):
    return volume.post(
        driver.user,
        reverse("appeals:my_file"),
        {
            "idempotency_key": uuid.uuid4().hex,
            "category": "income",
            "title": "抽成过高",
            "description": "本月抽成超过平台公布的上限。",
            "attachments": [upload],
        },
    )


def upload_roster(volume, staff, unit, upload):
    return volume.post(
        staff, reverse("imports:list"), {"kind": "drivers", "unit": str(unit.pk), "file": upload}
    )


@pytest.mark.parametrize("volume", ["full", "read-only"], indirect=True)
def test_appeal_attachment_on_a_full_or_read_only_volume(volume):
    city = testing.city()
    driver = city.driver()
    # 200 KiB: more than the room left, so on a full volume the write fails halfway.
    status, page = file_appeal(volume, driver, jpeg(200 * 1024))
    assert status == 503
    assert "The attachments could not be stored. Nothing was filed" in page
    assert not Case.objects.filter(driver=driver).exists()
    assert not Attachment.objects.exists()
    assert files_in(volume.mount) == []  # no partial file


@pytest.mark.parametrize("volume", ["full", "read-only"], indirect=True)
def test_roster_upload_on_a_full_or_read_only_volume(volume):
    city = testing.city()
    staff = testing.staff(city.root, "staff")
    upload = roster_csv(city, 1200)
    assert upload.size > 80 * 1024  # more than the room left (48 KiB) or the limit (64 KiB)
    status, page = upload_roster(volume, staff, city.root, upload)
    assert status == 400
    assert "The file could not be stored: the server&#x27;s storage is full or not writable" in page
    assert not ImportJob.objects.exists()
    assert files_in(volume.mount) == []


def test_uploads_that_fit_are_stored(volume):
    city = testing.city()
    driver, staff = city.driver(), testing.staff(city.root, "staff")
    status, _page = file_appeal(volume, driver, jpeg(8 * 1024))
    assert status == 302
    (attachment,) = Attachment.objects.filter(case__driver=driver)
    assert attachment.size == 8 * 1024
    status, _page = upload_roster(volume, staff, city.root, roster_csv(city, 3))
    assert status == 302
    job = ImportJob.objects.get()
    assert files_in(volume.mount) == sorted([attachment.file.name, job.file.name])
