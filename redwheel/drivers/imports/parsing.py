"""Reading roster files: column layouts, templates, and a streaming reader for .xlsx and .csv.

Nothing here touches the database. Rows are yielded one at a time as
`(row_number, {column_key: text})`, where `row_number` is the row as the spreadsheet shows it
(the header is row 1), so error messages point at the cell people see.
"""

import codecs
import csv
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from redwheel.core import exports
from redwheel.core.errors import ValidationFailed
from redwheel.core.validators import strip_unsafe_text


class MalformedFile(ValidationFailed):
    code = "malformed_file"


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    required: bool
    example: str
    aliases: tuple[str, ...] = ()


DRIVER_COLUMNS = (
    Column("name", "姓名", True, "张三"),
    Column(
        "license_no",
        "身份证号/驾驶证号",
        True,
        "510107199001010018",
        ("身份证号", "驾驶证号", "身份证号码", "驾驶证号码"),
    ),
    Column("phone", "手机号", True, "13912345678", ("手机号码", "手机")),
    Column("platform", "平台", True, "PA001", ("平台CompanyId", "CompanyId", "平台名称")),
    Column("plate", "车牌号", False, "川A12345", ("车牌", "车牌号码")),
    Column("unit", "所属党组织", False, "甲出行第一支部", ("党组织",)),
    Column(
        "certificate_no",
        "网约车驾驶员证号",
        False,
        "510107199001010018",
        ("驾驶员证号", "网约车驾驶员证"),
    ),
)

MEMBER_COLUMNS = (
    Column("name", "姓名", True, "张三"),
    Column(
        "license_no",
        "身份证号",
        True,
        "510107199001010018",
        ("身份证号/驾驶证号", "身份证号码", "驾驶证号"),
    ),
    Column("phone", "手机号", True, "13912345678", ("手机号码", "手机")),
    Column("category", "党员类别", True, "正式党员", ("类别",)),
    Column("branch", "所属支部", True, "甲出行第一支部", ("支部",)),
    Column("joined_on", "入党日期", False, "2015-07-01", ("入党时间",)),
    Column("is_mobile", "是否流动党员", False, "否", ("流动党员",)),
    Column("mobile_branch", "流动党员报到支部", False, "", ("报到支部",)),
    Column("home_organisation", "党籍所在组织", False, "", ("组织关系所在党组织",)),
)

COLUMNS = {"drivers": DRIVER_COLUMNS, "members": MEMBER_COLUMNS}
KIND_LABELS = {
    "drivers": gettext_lazy("Drivers roster"),
    "members": gettext_lazy("Party members roster"),
}

CATEGORIES = {
    "正式党员": "full",
    "预备党员": "probationary",
    "入党积极分子": "activist",
    "发展对象": "candidate",
    "入党申请人": "applicant",
    "full": "full",
    "probationary": "probationary",
    "activist": "activist",
    "candidate": "candidate",
    "applicant": "applicant",
}
YES = {"是", "y", "yes", "true", "1", "√"}
NO = {"否", "n", "no", "false", "0", ""}


def header_of(kind: str, key: str) -> str:
    return next(column.header for column in COLUMNS[kind] if column.key == key)


def _normalise_header(text) -> str:
    text = str(text or "").strip().replace("（", "(").replace("）", ")")
    text = re.sub(r"[\s*＊]", "", text)
    return re.sub(r"\(.*?\)$", "", text) or text


def map_headers(kind: str, headers: list) -> dict[int, str]:
    """Map column positions to keys; raise MalformedFile when a required column is missing."""
    lookup = {}
    for column in COLUMNS[kind]:
        for name in (column.header, *column.aliases):
            lookup[_normalise_header(name).lower()] = column.key
    positions: dict[int, str] = {}
    for index, header in enumerate(headers):
        key = lookup.get(_normalise_header(header).lower())
        if key and key not in positions.values():
            positions[index] = key
    missing = [c.header for c in COLUMNS[kind] if c.required and c.key not in positions.values()]
    if missing:
        raise MalformedFile(
            _(
                "The first row must hold the column headers; missing: %(columns)s. "
                "Download the template to see the expected columns."
            )
            % {"columns": "、".join(missing)},
            code="missing_columns",
            details={"missing": missing},
        )
    return positions


def cell_text(value) -> str:
    """Spreadsheet cells arrive as str, int, float or datetime; make them plain text."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else str(value)
    return str(value).strip().replace("\u3000", " ").strip()


def parse_date(text: str) -> date:
    match = re.fullmatch(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?", text)
    if not match:
        raise ValidationFailed(_("Write dates as 2015-07-01."), code="bad_date")
    try:
        value = date(*(int(part) for part in match.groups()))
    except ValueError as exc:
        raise ValidationFailed(_("This date does not exist."), code="bad_date") from exc
    if value > date.today() or value.year < 1921:
        raise ValidationFailed(_("This date is not plausible."), code="bad_date")
    return value


def parse_yes_no(text: str) -> bool:
    value = text.strip().lower()
    if value in YES:
        return True
    if value in NO:
        return False
    raise ValidationFailed(_("Write 是 or 否."), code="bad_yes_no")


# Reading files -------------------------------------------------------------------------------

XLSX, CSV = "xlsx", "csv"


def file_format(name: str, head: bytes) -> str:
    """Decide the format from the name and the first bytes; refuse anything else."""
    suffix = Path(name).suffix.lower()
    if suffix == ".xlsx":
        if not head.startswith(b"PK\x03\x04"):
            raise MalformedFile(_("This file is not a valid .xlsx workbook."), code="bad_format")
        return XLSX
    if suffix == ".csv":
        if b"\x00" in head or head.startswith(b"PK\x03\x04"):
            raise MalformedFile(_("This file is not a text .csv file."), code="bad_format")
        return CSV
    raise MalformedFile(
        _("Upload an .xlsx or .csv file (old .xls workbooks: save as .xlsx first)."),
        code="bad_format",
    )


def _csv_encoding(path: Path) -> str:
    """UTF-8 (with or without BOM) if the whole file decodes as UTF-8, else GB18030."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    with open(path, "rb") as handle:
        try:
            while chunk := handle.read(1 << 20):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "gb18030"
    return "utf-8-sig"


class RosterReader:
    """Stream the rows of one roster file. Use as a context manager; iterate once."""

    def __init__(self, path, kind: str, name: str | None = None):
        self.path = Path(path)
        self.kind = kind
        with open(self.path, "rb") as handle:
            head = handle.read(8)
        self.format = file_format(name or self.path.name, head)
        self._workbook = None
        self._handle = None
        self.estimated_rows: int | None = None
        self._rows = self._open()
        try:
            header_row = next(self._rows, None) or []
            self.positions = map_headers(kind, header_row)
        except Exception:
            self.close()
            raise
        # Column key -> the header as written in this file, for error messages. Cells are
        # checked for unsafe characters row by row (checks.py); a header only labels errors.
        self.headers = {
            key: strip_unsafe_text(cell_text(header_row[index]))
            for index, key in self.positions.items()
        }

    def _open(self) -> Iterator[list]:
        if self.format == XLSX:
            import openpyxl

            try:
                self._workbook = openpyxl.load_workbook(self.path, read_only=True, data_only=True)
            except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
                raise MalformedFile(
                    _("This file is not a valid .xlsx workbook."), code="bad_format"
                ) from exc
            sheet = self._workbook.worksheets[0]
            if sheet.max_row:
                self.estimated_rows = max(sheet.max_row - 1, 0)
            return (list(row) for row in sheet.iter_rows(values_only=True))
        encoding = _csv_encoding(self.path)
        with open(self.path, "rb") as handle:
            self.estimated_rows = max(
                sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b"")) - 1, 0
            )
        self._handle = open(self.path, encoding=encoding, newline="")  # noqa: SIM115
        first_line = self._handle.readline()
        self._handle.seek(0)
        # Commas, or tabs (copied from a sheet), or semicolons (some European Excel locales).
        delimiter = max(",\t;", key=first_line.count)
        return csv.reader(self._handle, delimiter=delimiter)

    def __iter__(self) -> Iterator[tuple[int, dict[str, str]]]:
        positions = self.positions
        for number, values in enumerate(self._rows, start=2):
            row = {key: "" for key in positions.values()}
            blank = True
            for index, key in positions.items():
                if index < len(values):
                    text = cell_text(values[index])
                    row[key] = text
                    blank = blank and not text
            if not blank:
                yield number, row

    def close(self) -> None:
        if self._workbook is not None:
            self._workbook.close()
            self._workbook = None
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# Templates -----------------------------------------------------------------------------------


def _template_columns(kind: str) -> list[exports.Column]:
    return [
        exports.Column(
            c.header,
            width=max(14, len(c.header) * 2 + 4),
            # Long numbers must stay text, or Excel turns 18-digit IDs into 5.10107E+17.
            text=True,
            highlight=c.required,
        )
        for c in COLUMNS[kind]
    ]


def template_csv(kind: str) -> bytes:
    return exports.csv_bytes(_template_columns(kind), [[c.example for c in COLUMNS[kind]]])


def template_xlsx(kind: str) -> bytes:
    return exports.xlsx_bytes(
        [
            exports.Sheet(
                KIND_LABELS[kind],
                _template_columns(kind),
                [[c.example for c in COLUMNS[kind]]],
            )
        ]
    )
