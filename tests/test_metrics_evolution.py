"""Volume over time: weekly or monthly periods, the GROUP BY behind them, the
stacked SVG chart and its table and exports (SQLite and PostgreSQL)."""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from app.accounts.models import Role
from app.metrics import charts, queries
from app.metrics.filters import MetricsFilter
from app.metrics.periods import period_spans, time_grain
from app.tickets.models import Channel, Status
from tests.factories import make_category, make_department, make_ticket
from tests.test_metrics_web import URL, login, two_departments  # noqa: F401 - fixture

SANTIAGO = ZoneInfo("America/Santiago")


def local(*args) -> datetime:
    return datetime(*args, tzinfo=SANTIAGO).astimezone(UTC)


def test_short_ranges_go_by_week_and_long_ones_by_month():
    assert time_grain(date(2026, 9, 1), date(2026, 11, 29)) == "semana"  # 90 days
    assert time_grain(date(2026, 1, 1), date(2026, 4, 30)) == "semana"  # 120 days
    assert time_grain(date(2026, 1, 1), date(2026, 5, 1)) == "mes"


def test_periods_are_monday_weeks_or_months_clipped_to_the_range():
    # Wed 4 Nov to Tue 17 Nov 2026: Wed-Sun, Mon-Sun, Mon-Tue.
    assert period_spans(date(2026, 11, 4), date(2026, 11, 17), "semana") == [
        (date(2026, 11, 4), date(2026, 11, 8)), (date(2026, 11, 9), date(2026, 11, 15)),
        (date(2026, 11, 16), date(2026, 11, 17))]
    assert period_spans(date(2025, 12, 15), date(2026, 2, 3), "mes") == [
        (date(2025, 12, 15), date(2025, 12, 31)), (date(2026, 1, 1), date(2026, 1, 31)),
        (date(2026, 2, 1), date(2026, 2, 3))]
    with pytest.raises(ValueError):
        period_spans(date(2026, 1, 1), date(2026, 1, 2), "día")


def test_volume_by_period_counts_local_weeks_by_channel_and_department(session):
    aseo, obras = make_department(session, name="Aseo"), make_department(session, name="Obras")
    basura, baches = make_category(session, aseo), make_category(session, obras)
    # Sunday 8 Nov 23:30 in Santiago is Monday 02:30 UTC: it belongs to the first week.
    make_ticket(session, basura, now=local(2026, 11, 8, 23, 30), notify=False)
    make_ticket(session, basura, now=local(2026, 11, 9, 0, 10), notify=False)
    make_ticket(session, baches, now=local(2026, 11, 10, 9), channel=Channel.PHONE,
                notify=False)
    merged = make_ticket(session, basura, now=local(2026, 11, 10, 10), notify=False)
    merged.status = Status.DUPLICATE  # never counted
    make_ticket(session, basura, now=local(2026, 11, 18, 9), notify=False)  # after the range
    session.flush()
    f = MetricsFilter(first_day=date(2026, 11, 4), last_day=date(2026, 11, 17))
    spans = period_spans(f.first_day, f.last_day, "semana")
    by_channel = sorted((r.period, r.key, r.count)
                        for r in queries.volume_by_period(session, f, "canal", spans))
    assert by_channel == [(0, "web", 1), (1, "phone", 1), (1, "web", 1)]
    by_department = sorted((r.period, r.label, r.count) for r in
                           queries.volume_by_period(session, f, "departamento", spans))
    assert by_department == [(0, "Aseo", 1), (1, "Aseo", 1), (1, "Obras", 1)]
    with pytest.raises(ValueError):
        queries.volume_by_period(session, f, "color", spans)


def test_stacked_chart_is_a_labelled_image_with_a_legend_and_merges_the_tail():
    series = [(f"Serie {i}", [i, 1]) for i in range(1, 10)]
    svg = str(charts.stacked_columns("evo", "Título & más", "Descripción", ["a", "b"],
                                     series, other_label="Otros"))
    assert svg.startswith('<svg') and 'role="img"' in svg
    assert 'aria-labelledby="evo-title evo-desc"' in svg
    assert "<title id=\"evo-title\">Título &amp; más</title>" in svg
    legend = re.findall(r'font-size="13" fill="#1b1f24">([^<]+)</text>', svg)
    assert legend == [*(f"Serie {i}" for i in range(1, 7)), "Otros"]
    assert "<script" not in svg and "style=" not in svg


def test_dashboard_shows_the_evolution_table_and_exports_it(client, two_departments):  # noqa: F811
    login(client, two_departments[Role.MANAGER])
    page = client.get(URL).get_data(as_text=True)
    assert 'id="evolucion"' in page
    assert "Solicitudes recibidas por semana y canal" in page
    response = client.get(URL + "evolucion.csv", query_string={"desglose": "departamento",
                                                               "periodo": "este-ano"})
    lines = response.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert lines[0].startswith("Mes;") and lines[0].endswith(";Total")
    assert lines[-1].split(";")[-1] == "4"
    sheet = load_workbook(io.BytesIO(client.get(URL + "evolucion.xlsx").data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][0] == "Semana"
    assert rows[-2][0] == "Total" and rows[-2][-1] == 4  # the last row is the note
    assert rows[-1][0].startswith("Por semana")


def test_unknown_breakdown_gets_the_spanish_error(client, two_departments):  # noqa: F811
    login(client, two_departments[Role.MANAGER])
    response = client.get(URL, query_string={"desglose": "color"})
    assert response.status_code == 422
    assert "Elige una opción de la lista." in response.get_data(as_text=True)
