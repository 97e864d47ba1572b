"""Row checks shared by validation and commit, so both apply exactly the same rules.

A `RowChecker` holds the few look-up tables for one job (platforms and units the importer may
use) and, for the whole file, only the blind indexes seen so far (to find duplicate rows). It
checks rows a chunk at a time: first each row on its own, then against the database with one
query per kind of look-up for the whole chunk.
"""

from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from redwheel.accounts.models import User
from redwheel.core import crypto
from redwheel.core.errors import ValidationFailed
from redwheel.core.permissions import scope
from redwheel.core.validators import (
    UNSAFE_TEXT_MESSAGE,
    clean_identity_number,
    clean_mobile,
    clean_plate,
    has_unsafe_text,
)
from redwheel.drivers.imports.parsing import CATEGORIES, parse_date, parse_yes_no
from redwheel.drivers.models import Driver, ImportJob, Vehicle
from redwheel.orgs.models import OrgUnit, Platform

MEMBER_BRANCH_KINDS = frozenset(
    {OrgUnit.Kind.BRANCH, OrgUnit.Kind.GENERAL_BRANCH, OrgUnit.Kind.ENTERPRISE_COMMITTEE}
)


@dataclass
class CheckedRow:
    number: int
    data: dict
    errors: list[tuple[str, str]] = field(default_factory=list)  # (column key, message)

    def error(self, key: str, message) -> None:
        self.errors.append((key, str(message)))


@dataclass(frozen=True)
class _Unit:
    id: int
    kind: str
    branch_type: str


class RowChecker:
    def __init__(self, job: ImportJob, actor):
        self.job = job
        self.kind = job.kind
        self.actor = actor
        self.platforms: dict[str, int] = {}
        for pk, company_id, name in scope(actor, "import", Platform.objects.all()).values_list(
            "id", "company_id", "name"
        ):
            self.platforms[company_id.upper()] = pk
            self.platforms.setdefault(name.strip().upper(), pk)
        self.units: dict[str, list[_Unit]] = {}
        units = scope(
            actor, "import", OrgUnit.objects.filter(path__startswith=job.unit.path, is_active=True)
        )
        for pk, name, kind, branch_type in units.values_list("id", "name", "kind", "branch_type"):
            self.units.setdefault(name.strip(), []).append(_Unit(pk, kind, branch_type))
        # Whole-file state: blind index / plate -> first row number it appeared on.
        self.seen_license: dict[str, int] = {}
        self.seen_phone: dict[str, int] = {}
        self.seen_plate: dict[str, int] = {}

    # Single rows -----------------------------------------------------------------------------

    def _common(self, number: int, row: dict) -> CheckedRow:
        checked = CheckedRow(number, {})
        data = checked.data
        name = row.get("name", "").strip()
        if not name:
            checked.error("name", _("A name is required."))
        elif len(name) > 60:
            checked.error("name", _("A name has at most 60 characters."))
        data["name"] = name
        try:
            data["license_no"] = clean_identity_number(row.get("license_no", ""))
            data["license_index"] = crypto.blind_index(data["license_no"])
        except ValidationFailed as exc:
            checked.error("license_no", exc.message)
        try:
            data["phone"] = clean_mobile(row.get("phone", ""))
            data["phone_index"] = crypto.blind_index(data["phone"])
        except ValidationFailed as exc:
            checked.error("phone", exc.message)
        index = data.get("license_index")
        if index is not None:
            earlier = self.seen_license.get(index)
            if earlier is not None:
                checked.error("license_no", _("Same ID number as row %(row)s.") % {"row": earlier})
            else:
                self.seen_license[index] = number
        phone_index = data.get("phone_index")
        if phone_index is not None:
            earlier = self.seen_phone.get(phone_index)
            if earlier is not None:
                checked.error("phone", _("Same mobile number as row %(row)s.") % {"row": earlier})
            else:
                self.seen_phone[phone_index] = number
        return checked

    def _unit(self, checked: CheckedRow, key: str, name: str, kinds=None, mobile=False):
        candidates = self.units.get(name.strip(), [])
        if kinds is not None:
            candidates = [u for u in candidates if u.kind in kinds]
        if mobile:
            candidates = [
                u
                for u in candidates
                if u.kind == OrgUnit.Kind.BRANCH and u.branch_type == OrgUnit.BranchType.MOBILE
            ]
        if len(candidates) == 1:
            return candidates[0].id
        if len(candidates) > 1:
            checked.error(
                key,
                _("Several units are called “%(name)s”; rename one of them first.")
                % {"name": name},
            )
        elif self.units.get(name.strip()):
            checked.error(
                key,
                _("“%(name)s” is not a mobile-member branch.") % {"name": name}
                if mobile
                else _("“%(name)s” is not a branch members can belong to.") % {"name": name},
            )
        else:
            checked.error(
                key, _("No party organisation called “%(name)s” among your units.") % {"name": name}
            )
        return None

    def _driver_row(self, number: int, row: dict) -> CheckedRow:
        checked = self._common(number, row)
        data = checked.data
        platform = row.get("platform", "").strip()
        if not platform:
            checked.error("platform", _("A platform is required."))
        elif (pk := self.platforms.get(platform.upper())) is None:
            checked.error(
                "platform",
                _("Unknown platform “%(value)s”: use its CompanyId or name.")
                % {"value": platform[:40]},
            )
        else:
            data["platform_id"] = pk
        if row.get("plate"):
            try:
                data["plate"], data["new_energy"] = clean_plate(row["plate"])
            except ValidationFailed as exc:
                checked.error("plate", exc.message)
            else:
                earlier = self.seen_plate.get(data["plate"])
                if earlier is not None:
                    checked.error("plate", _("Same plate as row %(row)s.") % {"row": earlier})
                else:
                    self.seen_plate[data["plate"]] = number
        data["branch_id"] = self._unit(checked, "unit", row["unit"]) if row.get("unit") else None
        certificate = row.get("certificate_no", "").strip()
        if len(certificate) > 32:
            checked.error("certificate_no", _("A certificate number has at most 32 characters."))
        data["certificate_no"] = certificate
        return checked

    def _member_row(self, number: int, row: dict) -> CheckedRow:
        checked = self._common(number, row)
        data = checked.data
        category = row.get("category", "").strip()
        data["category"] = CATEGORIES.get(category.lower())
        if data["category"] is None:
            checked.error(
                "category",
                _("The category must be one of 正式党员, 预备党员, 入党积极分子, 入党申请人."),
            )
        if not row.get("branch"):
            checked.error("branch", _("The branch is required."))
        else:
            data["branch_id"] = self._unit(checked, "branch", row["branch"], MEMBER_BRANCH_KINDS)
        data["joined_on"] = None
        if row.get("joined_on"):
            try:
                data["joined_on"] = parse_date(row["joined_on"])
            except ValidationFailed as exc:
                checked.error("joined_on", exc.message)
        mobile_branch = row.get("mobile_branch", "").strip()
        try:
            is_mobile = parse_yes_no(row.get("is_mobile", "")) if row.get("is_mobile") else None
        except ValidationFailed as exc:
            checked.error("is_mobile", exc.message)
            is_mobile = None
        data["mobile_branch_id"] = None
        if is_mobile is False and mobile_branch:
            checked.error(
                "mobile_branch",
                _(
                    "Only mobile members check in to a branch; "
                    "set 是否流动党员 to 是 or leave this empty."
                ),
            )
        elif is_mobile and not mobile_branch:
            checked.error(
                "mobile_branch", _("A mobile member needs the branch they checked in to.")
            )
        elif mobile_branch:
            data["mobile_branch_id"] = self._unit(
                checked, "mobile_branch", mobile_branch, mobile=True
            )
        home = row.get("home_organisation", "").strip()
        if len(home) > 150:
            checked.error("home_organisation", _("At most 150 characters."))
        data["home_organisation"] = home
        return checked

    @staticmethod
    def _unsafe_cells(number: int, row: dict) -> CheckedRow | None:
        """A row with NUL, control characters or lone surrogates in a cell is refused with
        those cells' errors and checked no further (its text must not reach the database)."""
        unsafe = [key for key, text in row.items() if has_unsafe_text(text)]
        if not unsafe:
            return None
        checked = CheckedRow(number, {})
        for key in unsafe:
            checked.error(key, UNSAFE_TEXT_MESSAGE)
        return checked

    # Chunks ----------------------------------------------------------------------------------

    def check(self, chunk: list[tuple[int, dict]]) -> list[CheckedRow]:
        """Check a chunk of rows; each result lists its problems (empty when the row is fine)."""
        one = self._driver_row if self.kind == ImportJob.Kind.DRIVERS else self._member_row
        rows = [self._unsafe_cells(number, row) or one(number, row) for number, row in chunk]
        licenses = {r.data["license_index"] for r in rows if "license_index" in r.data}
        phones = {r.data["phone_index"] for r in rows if "phone_index" in r.data}
        known = {
            d["license_index"]: d
            for d in Driver.objects.filter(license_index__in=licenses).values(
                "id", "license_index", "phone_index", "name"
            )
        }
        visible = set(
            scope(
                self.actor,
                "import",
                Driver.objects.filter(id__in=[d["id"] for d in known.values()]),
            ).values_list("id", flat=True)
        )
        phone_owners: dict[str, set[str]] = {}
        for phone_index, license_index in Driver.objects.filter(phone_index__in=phones).values_list(
            "phone_index", "license_index"
        ):
            phone_owners.setdefault(phone_index, set()).add(license_index)
        for phone_index, license_index in User.objects.filter(
            phone_index__in=phones, driver__isnull=False
        ).values_list("phone_index", "driver__license_index"):
            phone_owners.setdefault(phone_index, set()).add(license_index)
        plates = {}
        if self.kind == ImportJob.Kind.DRIVERS:
            plates = dict(
                Vehicle.objects.filter(
                    plate__in={r.data["plate"] for r in rows if "plate" in r.data}
                ).values_list("plate", "driver__license_index")
            )
        for checked in rows:
            data = checked.data
            index = data.get("license_index")
            if index is None:
                continue
            driver = known.get(index)
            if driver is not None and driver["id"] not in visible:
                checked.error(
                    "license_no",
                    _(
                        "This ID number belongs to a driver outside your "
                        "units; ask the industry committee to import it."
                    ),
                )
                continue
            if self.kind == ImportJob.Kind.MEMBERS:
                if driver is None:
                    checked.error(
                        "license_no",
                        _(
                            "No driver with this ID number among your "
                            "units; import the drivers roster first."
                        ),
                    )
                    continue
                if data.get("name") and data["name"] != driver["name"]:
                    checked.error(
                        "name",
                        _("The name does not match the driver on record (%(name)s).")
                        % {"name": driver["name"]},
                    )
            owners = phone_owners.get(data.get("phone_index"), set()) - {index}
            if owners:
                checked.error("phone", _("This mobile number already belongs to another driver."))
            owner = plates.get(data.get("plate"))
            if owner is not None and owner != index:
                checked.error("plate", _("This plate is registered to another driver."))
            if driver is not None:
                data["driver_id"] = driver["id"]
        return rows
