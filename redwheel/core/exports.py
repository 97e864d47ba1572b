"""Spreadsheet (.xlsx), CSV and JSON exports, and the HTTP download that carries them.

Every export goes through this module so that user-controlled text (driver and unit names,
titles, feed data) can never run as a spreadsheet formula (CSV/formula injection, OWASP): a
text cell starting with `=`, `+`, `-`, `@`, a tab or a line break gets a leading `'`, and in a
workbook it is stored as a string cell, never a formula. Numbers, dates and booleans keep
their type, so a negative number stays a number.
"""

import csv
import io
import json
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from urllib.parse import quote

from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.workbook.child import INVALID_TITLE_REGEX

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv; charset=utf-8"
JSON = "application/json; charset=utf-8"

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")
_TYPED = (bool, int, float, Decimal, date, time, timedelta)
_BOLD = Font(bold=True)
_HIGHLIGHT = Font(bold=True, color="C8161D")
_HEADER_FILL = PatternFill("solid", fgColor="F3F3F3")


@dataclass(frozen=True)
class Column:
    """A column header with optional layout: `text` keeps long digit strings as text in Excel
    (18-digit ID numbers would otherwise become 5.10107E+17); `highlight` marks the header in
    red (the required columns of an import template)."""

    header: str
    width: float | None = None
    text: bool = False
    highlight: bool = False


@dataclass
class Sheet:
    title: str
    columns: Sequence[str | Column]
    rows: Iterable[Sequence] = ()


def safe_value(value):
    """The value as a spreadsheet should hold it: typed values unchanged (aware datetimes in
    local time, as Excel has no time zones), anything else as formula-safe text."""
    if value is None or isinstance(value, _TYPED):
        if isinstance(value, datetime) and timezone.is_aware(value):
            return timezone.localtime(value).replace(tzinfo=None)
        return value
    # Control characters make openpyxl refuse the whole workbook; drop them before the check
    # so that "\x01=cmd" cannot slip through.
    text = ILLEGAL_CHARACTERS_RE.sub("", str(value))
    if text.startswith(FORMULA_TRIGGERS):
        return "'" + text
    return text


def _column(spec: str | Column) -> Column:
    return spec if isinstance(spec, Column) else Column(str(spec))


def _display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _sheet_title(title: str, used: set[str]) -> str:
    base = INVALID_TITLE_REGEX.sub(" ", str(title)).strip()[:31] or "Sheet"
    candidate, n = base, 1
    while candidate.lower() in used:
        n += 1
        candidate = f"{base[: 31 - len(str(n)) - 1]} {n}"
    used.add(candidate.lower())
    return candidate


def _cell(sheet, value, *, text_format: bool = False):
    cell = WriteOnlyCell(sheet, value=safe_value(value))
    if isinstance(cell.value, str):
        cell.data_type = "s"  # never "f", whatever openpyxl would infer
    if text_format:
        cell.number_format = "@"
    return cell


def xlsx_bytes(sheets: Iterable[Sheet]) -> bytes:
    """A workbook with one worksheet per `Sheet`: bold, frozen header row, sized columns.

    Written in openpyxl's write-only mode, so rows stream through instead of being held as
    cell objects (the exchange driver list can be long)."""
    book = Workbook(write_only=True)
    used: set[str] = set()
    for spec in sheets:
        sheet = book.create_sheet(_sheet_title(spec.title, used))
        columns = [_column(c) for c in spec.columns]
        for index, column in enumerate(columns, start=1):
            width = column.width or min(60, max(10, _display_width(str(column.header)) + 4))
            sheet.column_dimensions[get_column_letter(index)].width = width
        sheet.freeze_panes = "A2"
        header = []
        for column in columns:
            cell = _cell(sheet, column.header)
            cell.font = _HIGHLIGHT if column.highlight else _BOLD
            cell.fill = _HEADER_FILL
            header.append(cell)
        sheet.append(header)
        text_columns = {i for i, c in enumerate(columns) if c.text}
        for row in spec.rows:
            sheet.append(
                [_cell(sheet, v, text_format=i in text_columns) for i, v in enumerate(row)]
            )
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def csv_bytes(columns: Sequence[str | Column], rows: Iterable[Sequence]) -> bytes:
    """UTF-8 CSV with a byte-order mark (so Excel opens it as UTF-8) and a header row."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([safe_value(_column(c).header) for c in columns])
    for row in rows:
        writer.writerow(["" if v is None else safe_value(v) for v in row])
    return buffer.getvalue().encode("utf-8-sig")


def content_disposition(filename: str) -> str:
    """RFC 6266: an ASCII `filename` for old clients and `filename*` for the real name."""
    fallback = "".join(ch if ch.isascii() and ch.isprintable() else "_" for ch in filename)
    fallback = fallback.replace("\\", "_").replace('"', "_")
    header = f'attachment; filename="{fallback}"'
    if fallback != filename:
        header += f"; filename*=UTF-8''{quote(filename, safe='')}"
    return header


def download(content: bytes, filename: str, content_type: str = XLSX) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = content_disposition(filename)
    return response


def xlsx_response(filename: str, sheets: Iterable[Sheet]) -> HttpResponse:
    return download(xlsx_bytes(sheets), filename, XLSX)


def csv_response(
    filename: str, columns: Sequence[str | Column], rows: Iterable[Sequence]
) -> HttpResponse:
    return download(csv_bytes(columns, rows), filename, CSV)


def json_response(filename: str, data) -> HttpResponse:
    """`data` as an indented UTF-8 JSON file (Chinese text as itself, not \\u escapes)."""
    text = json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2)
    return download(text.encode(), filename, JSON)
