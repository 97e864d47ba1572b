"""The one export helper: formula-safe cells in .xlsx and .csv, typed values kept, downloads."""

import csv
import io
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from redwheel.core import exports

ATTACKS = [
    '=HYPERLINK("http://x","y")',
    "+1+1",
    "-2",
    "@SUM(A1)",
    "\t=1+2",
    "\r=1+2",
    "=cmd|' /C calc'!A0",
]


def _read_xlsx(content: bytes):
    return load_workbook(io.BytesIO(content))


def _read_csv(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


@pytest.mark.parametrize("attack", ATTACKS)
def test_xlsx_stores_formula_like_text_as_quoted_strings(attack):
    content = exports.xlsx_bytes([exports.Sheet("Names", ["Name"], [[attack]])])
    cell = _read_xlsx(content)["Names"]["A2"]
    assert cell.data_type == "s"
    # XML reading turns a stored carriage return into a line feed.
    assert cell.value == "'" + attack.replace("\r", "\n")


@pytest.mark.parametrize("attack", ATTACKS)
def test_csv_quotes_formula_like_text(attack):
    rows = _read_csv(exports.csv_bytes(["Name"], [[attack]]))
    assert rows[1] == ["'" + attack]


def test_header_and_sheet_title_are_neutralised_too():
    content = exports.xlsx_bytes([exports.Sheet("=Sheet", ["=Header", "Total"], [])])
    book = _read_xlsx(content)
    sheet = book.worksheets[0]
    assert sheet["A1"].value == "'=Header" and sheet["A1"].data_type == "s"
    assert sheet["A1"].font.bold
    assert _read_csv(exports.csv_bytes(["=Header"], []))[0] == ["'=Header"]


def test_numbers_dates_and_booleans_keep_their_type():
    moment = datetime(2026, 3, 2, 1, 30, tzinfo=ZoneInfo("UTC"))
    row = [-2, -3.5, Decimal("-12.50"), 0, True, date(2026, 3, 1), moment, None, "plain 名字"]
    sheet = _read_xlsx(exports.xlsx_bytes([exports.Sheet("T", ["c"] * len(row), [row])]))["T"]
    values = [c.value for c in sheet[2]]
    assert values[:5] == [-2, -3.5, -12.5, 0, True]
    assert all(c.data_type == "n" for c in sheet[2][:4])
    assert sheet["E2"].data_type == "b"
    assert values[5] == datetime(2026, 3, 1, 0, 0)
    assert values[6] == datetime(2026, 3, 2, 9, 30)  # shown in Asia/Shanghai
    assert values[7] is None and values[8] == "plain 名字"
    csv_row = _read_csv(exports.csv_bytes(["a", "b", "c"], [[-2, -3.5, None]]))[1]
    assert csv_row == ["-2", "-3.5", ""]


def test_control_characters_do_not_break_the_workbook_or_hide_a_formula():
    content = exports.xlsx_bytes([exports.Sheet("T", ["c"], [["\x01=1+1"], ["a\x02b"]])])
    sheet = _read_xlsx(content)["T"]
    assert sheet["A2"].value == "'=1+1" and sheet["A3"].value == "ab"


def test_text_columns_widths_and_unique_titles():
    column = exports.Column("身份证号", width=30, text=True)
    content = exports.xlsx_bytes(
        [
            exports.Sheet("Drivers", [column, "姓名"], [["510107199001010012", "王"]]),
            exports.Sheet("drivers", ["x"], []),
            exports.Sheet("a/b:c" * 10, ["x"], []),
        ]
    )
    book = _read_xlsx(content)
    assert book.sheetnames[:2] == ["Drivers", "drivers 2"]
    assert len(book.sheetnames[2]) <= 31 and "/" not in book.sheetnames[2]
    sheet = book["Drivers"]
    assert sheet["A2"].value == "510107199001010012" and sheet["A2"].number_format == "@"
    assert sheet.column_dimensions["A"].width == 30
    assert sheet.column_dimensions["B"].width >= 8
    assert sheet.freeze_panes == "A2"


def test_download_names_ascii_and_non_ascii_files():
    response = exports.xlsx_response("report-2026-03.xlsx", [exports.Sheet("T", ["c"], [])])
    assert response["Content-Type"] == exports.XLSX
    assert response["Content-Disposition"] == 'attachment; filename="report-2026-03.xlsx"'
    response = exports.csv_response('党员 "名单".csv', ["c"], [["x"]])
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    disposition = response["Content-Disposition"]
    assert disposition.startswith('attachment; filename="__ ____.csv"; ')
    assert "filename*=UTF-8''%E5%85%9A%E5%91%98%20%22%E5%90%8D%E5%8D%95%22.csv" in disposition
    assert response.content.startswith("\ufeff".encode())
