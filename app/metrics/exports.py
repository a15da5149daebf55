"""CSV and XLSX of a dashboard table: the same rows as the page, numbers as numbers.

CSV follows the survey exports (semicolon, UTF-8 with BOM, formula-looking
cells defused); XLSX is written with openpyxl, text cells defused the same
way because openpyxl stores a string starting with ``=`` as a formula.
"""

from __future__ import annotations

import csv
import io

from openpyxl import Workbook
from openpyxl.styles import Font

from app.metrics.tables import Table
from app.surveys.exports import DELIMITER, safe_cell


def _values(table: Table) -> list[list]:
    return [[cell.value for cell in row] for row in table.rows]


def table_csv(table: Table) -> str:
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, delimiter=DELIMITER, lineterminator="\r\n")
    writer.writerow([safe_cell(h) for h in table.headers])
    for row in _values(table):
        writer.writerow([safe_cell(v) for v in row])
    return buffer.getvalue()


def table_xlsx(table: Table) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = table.key[:31]
    sheet.append([table.caption])
    sheet["A1"].font = Font(bold=True)
    sheet.append([safe_cell(h) for h in table.headers])
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for row in _values(table):
        sheet.append([v if isinstance(v, int | float) or v is None else safe_cell(v)
                      for v in row])
    for note in table.notes:
        sheet.append([safe_cell(note)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
