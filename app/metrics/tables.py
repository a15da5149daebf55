"""The dashboard's tables, built from ``queries``: the same rows for the page,
the SVG charts, and the CSV/XLSX exports.

``link`` turns queue filters (a dict of the staff queue's query parameters)
into a URL, or None when the figure has no list of requests behind it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask_babel import format_decimal
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy.orm import Session

from app.calendar import BusinessCalendar
from app.metrics import charts, queries
from app.metrics.filters import MetricsFilter
from app.metrics.periods import month_starts
from app.tickets.models import Channel

Link = Callable[[dict], str | None]
TABLE_KEYS = ("volumen-canal", "volumen-departamento", "volumen-categoria", "pendientes",
              "tiempos", "cumplimiento", "ley-20285", "satisfaccion", "ranking")
MONTH_NAMES = ["ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sep", "oct", "nov",
               "dic"]


@dataclass
class Cell:
    value: object  # what the exports write (a number, a text, or None)
    text: str  # what the page shows
    href: str | None = None


@dataclass
class Table:
    key: str
    caption: str
    headers: list[str]
    rows: list[list[Cell]]  # the first cell of each row is its header (th scope=row)
    chart: Markup | None = None
    notes: list[str] = field(default_factory=list)


def number(value: int | None, href: str | None = None) -> Cell:
    return Cell(value, "—" if value is None else format_decimal(value, "#,##0"), href)


def percent_cell(value: float | None) -> Cell:
    rounded = None if value is None else round(value, 1)
    return Cell(rounded, "—" if value is None else f"{format_decimal(value, '0.#')} %")


def hours_cell(seconds: float | None) -> Cell:
    hours = None if seconds is None else round(seconds / 3600, 1)
    return Cell(hours, "—" if hours is None else format_decimal(hours, "#,##0.0"))


def label(text: str) -> Cell:
    return Cell(text, text)


def month_label(month: date) -> str:
    return f"{MONTH_NAMES[month.month - 1]} {month.year}"


def _month_span(f: MetricsFilter, month: date) -> dict:
    """Queue filters for the filed-in days of ``month`` inside the filter's range."""
    after = (month + timedelta(days=32)).replace(day=1)
    first = max(month, f.first_day) if f.first_day else month
    last = min(after - timedelta(days=1), f.last_day) if f.last_day else after
    return {"desde": first.isoformat(), "hasta": last.isoformat()}


def _range(f: MetricsFilter) -> dict:
    return {"desde": f.first_day.isoformat() if f.first_day else None,
            "hasta": f.last_day.isoformat() if f.last_day else None}


def volume_table(session: Session, f: MetricsFilter, dimension: str, link: Link,
                 facts: queries.VolumeFacts | None = None) -> Table:
    rows = queries.volume_by_month(session, f, dimension, facts)
    months = month_starts(f.first_day, f.last_day)
    counts: dict[object, dict[date, int]] = defaultdict(dict)
    labels: dict[object, str] = {}
    for row in rows:
        counts[row.key][row.month] = row.count
        labels[row.key] = row.label
    if dimension == "canal":
        keys = [c.value for c in Channel if c.value in counts]
        param = "canal"
        caption, first = _("Solicitudes recibidas por mes y canal"), _("Canal")
    elif dimension == "departamento":
        keys = sorted(counts, key=lambda k: labels[k])
        param = "departamento"
        caption, first = _("Solicitudes recibidas por mes y departamento"), _("Departamento")
    else:
        keys = sorted(counts, key=lambda k: (-sum(counts[k].values()), labels[k]))
        param = "categoria"
        caption, first = _("Solicitudes recibidas por mes y categoría"), _("Categoría")
    body = []
    for key in keys:
        cells = [label(labels[key])]
        for month in months:
            n = counts[key].get(month, 0)
            cells.append(number(n, link({param: key, "estado": "todas",
                                         **_month_span(f, month)}) if n else None))
        total = sum(counts[key].values())
        cells.append(number(total, link({param: key, "estado": "todas", **_range(f)})))
        body.append(cells)
    totals = [label(_("Total"))] + [
        number(sum(counts[k].get(m, 0) for k in keys)) for m in months]
    totals.append(number(sum(sum(c.values()) for c in counts.values()),
                         link({"estado": "todas", **_range(f)})))
    body.append(totals)
    table = Table(f"volumen-{dimension}", caption,
                  [first, *(month_label(m) for m in months), _("Total")], body)
    items = [(labels[k], sum(counts[k].values()),
              format_decimal(sum(counts[k].values()), "#,##0")) for k in keys][:15]
    table.chart = charts.bar_chart(
        table.key, caption, _("Total del periodo por fila; los valores por mes están en la "
                              "tabla."), items)
    return table


def backlog_table(session: Session, f: MetricsFilter, calendar: BusinessCalendar,
                  now: datetime, link: Link) -> Table:
    rows = queries.backlog_ageing(session, f, calendar, now)
    caption = _("Solicitudes abiertas hoy según su antigüedad en días hábiles")
    body = [[label(r.label), number(r.count, link({
        "estado": "abiertas",
        "desde": r.first_day.isoformat() if r.first_day else None,
        "hasta": r.last_day.isoformat() if r.last_day else None}) if r.count else None)]
        for r in rows]
    body.append([label(_("Total")), number(sum(r.count for r in rows),
                                           link({"estado": "abiertas"}))])
    table = Table("pendientes", caption, [_("Días hábiles desde el ingreso"),
                                          _("Solicitudes abiertas")], body)
    table.notes.append(_("Cuenta todas las solicitudes abiertas ahora, sin importar el "
                         "periodo elegido."))
    table.chart = charts.bar_chart(table.key, caption, _("Una barra por tramo de antigüedad."),
                                   [(r.label, r.count, str(r.count)) for r in rows])
    return table


def times_table(session: Session, f: MetricsFilter) -> Table:
    rows = queries.response_times(session, f)
    names = {"first_response": _("Primera respuesta"), "resolution": _("Resolución")}
    body = [[label(names[r.measure]), number(r.count), hours_cell(r.median_business),
             hours_cell(r.p90_business), hours_cell(r.median_calendar),
             hours_cell(r.p90_calendar)] for r in rows]
    caption = _("Tiempos de respuesta y de resolución, en horas")
    table = Table("tiempos", caption, [
        _("Medida"), _("Solicitudes"), _("Mediana (horas hábiles)"),
        _("Percentil 90 (horas hábiles)"), _("Mediana (horas corridas)"),
        _("Percentil 90 (horas corridas)")], body)
    table.notes.append(_("Horas hábiles: dentro del horario de atención, sin feriados ni "
                         "pausas. Horas corridas: desde el ingreso, de reloj."))
    items = [(f"{names[r.measure]} · {_('mediana')}", r.median_business or 0,
              hours_cell(r.median_business).text) for r in rows]
    items += [(f"{names[r.measure]} · {_('p90')}", r.p90_business or 0,
               hours_cell(r.p90_business).text) for r in rows]
    table.chart = charts.bar_chart(table.key, caption, _("Horas hábiles, mediana y percentil "
                                                         "90."), items)
    return table


def compliance_table(session: Session, f: MetricsFilter, now: datetime, link: Link) -> Table:
    c = queries.sla_compliance(session, f, now)

    def share(n: int) -> float | None:
        return 100.0 * n / c.total if c.total else None

    states = [(_("Resueltas a tiempo"), c.on_time), (_("Resueltas con atraso"), c.late),
              (_("Abiertas, dentro del plazo"), c.open_on_time),
              (_("Abiertas y ya vencidas"), c.open_late)]
    body = [[label(name), number(n), percent_cell(share(n))] for name, n in states]
    body.append([label(_("Total con plazo")), number(c.total, link({"estado": "todas",
                                                                     **_range(f)})),
                 percent_cell(100.0 if c.total else None)])
    caption = _("Cumplimiento de plazos de resolución")
    table = Table("cumplimiento", caption, [_("Situación"), _("Solicitudes"), _("% del total")],
                  body)
    table.notes.append(_("Cumplimiento: %(p)s de las solicitudes terminadas se resolvieron a "
                         "tiempo.", p=percent_cell(c.on_time_percent).text))
    table.chart = charts.bar_chart(table.key, caption, _("Una barra por situación."),
                                   [(name, n, str(n)) for name, n in states])
    return table


def legal_table(session: Session, f: MetricsFilter, now: datetime) -> Table:
    c = queries.legal_clock(session, f, now)
    states = [(_("Respondidas a tiempo"), c.on_time), (_("Con prórroga"), c.extended),
              (_("Fuera de plazo"), c.late), (_("En curso, dentro del plazo"), c.in_progress)]
    caption = _("Solicitudes de acceso a la información (Ley 20.285)")
    body = [[label(name), number(n)] for name, n in states]
    body.append([label(_("Total")), number(c.total)])
    table = Table("ley-20285", caption, [_("Situación"), _("Solicitudes")], body)
    table.chart = charts.bar_chart(table.key, caption, _("Una barra por situación."),
                                   [(name, n, str(n)) for name, n in states])
    return table


def satisfaction_table(session: Session, f: MetricsFilter) -> Table:
    s = queries.satisfaction(session, f)
    body = [[label(_("Encuestas enviadas")), number(s.invited)],
            [label(_("Encuestas respondidas")), number(s.answered)],
            [label(_("Tasa de respuesta")), percent_cell(s.response_rate)],
            [label(_("Satisfacción promedio (1 a 5)")),
             Cell(None if s.average_rating is None else round(s.average_rating, 2),
                  "—" if s.average_rating is None else format_decimal(s.average_rating,
                                                                      "0.0"))],
            [label(_("Dice que se resolvió")), percent_cell(s.share(s.yes))],
            [label(_("Dice que se resolvió en parte")), percent_cell(s.share(s.partly))]]
    return Table("satisfaccion", _("Satisfacción de los vecinos/as después de la resolución"),
                 [_("Indicador"), _("Valor")], body)


def ranking_table(session: Session, f: MetricsFilter, min_n: int, link: Link) -> Table:
    ranking = queries.department_ranking(session, f, min_n=min_n)
    body = [[label(r.name), number(position),
             number(r.count, link({"departamento": r.department_id, "estado": "todas",
                                   **_range(f)})),
             number(r.finished), percent_cell(r.on_time_percent),
             hours_cell(r.median_resolution_business)]
            for position, r in enumerate(ranking.rows, start=1)]
    caption = _("Ranking de departamentos por cumplimiento de plazos")
    table = Table("ranking", caption, [
        _("Departamento"), _("Lugar"), _("Solicitudes"), _("Terminadas con plazo"),
        _("% a tiempo"), _("Mediana de resolución (horas hábiles)")], body)
    table.notes.append(_("Solo se ordenan departamentos con al menos %(n)d solicitudes en el "
                         "periodo.", n=min_n))
    if ranking.hidden:
        table.notes.append(_("%(n)d departamento(s) no aparecen por tener menos solicitudes.",
                             n=ranking.hidden))
    table.chart = charts.bar_chart(
        table.key, caption, _("Porcentaje resuelto a tiempo por departamento."),
        [(r.name, r.on_time_percent or 0, percent_cell(r.on_time_percent).text)
         for r in ranking.rows])
    return table


def build(session: Session, key: str, f: MetricsFilter, *, calendar: BusinessCalendar,
          now: datetime, min_n: int, link: Link, shared: dict | None = None) -> Table:
    """One table by its key (see ``TABLE_KEYS``).

    ``shared``: a dict kept across the tables of one page (same filter), where
    the three volume tables keep their one grouped query.

    :raise KeyError: for an unknown key.
    """
    if key.startswith("volumen-") and key in TABLE_KEYS:
        shared = {} if shared is None else shared
        if "volume" not in shared:
            shared["volume"] = queries.volume_facts(session, f)
        return volume_table(session, f, key.removeprefix("volumen-"), link, shared["volume"])
    builders = {
        "pendientes": lambda: backlog_table(session, f, calendar, now, link),
        "tiempos": lambda: times_table(session, f),
        "cumplimiento": lambda: compliance_table(session, f, now, link),
        "ley-20285": lambda: legal_table(session, f, now),
        "satisfaccion": lambda: satisfaction_table(session, f),
        "ranking": lambda: ranking_table(session, f, min_n, link),
    }
    return builders[key]()
