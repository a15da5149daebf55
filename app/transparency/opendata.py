"""Open data: anonymised per-request records and monthly aggregates, streamed.

What is published is the list in ``FIELDS`` and nothing else: the query
selects only those columns (never a whole ``Ticket``), so a personal field
cannot leak by accident. Requests in a private category are published with
the category replaced by "Categoría reservada" and no macrosector, because
the category itself can say something sensitive about the person
("Denuncia contra funcionario"). Coordinates, addresses, descriptions,
contacts, tracking codes and attachments are never published.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from app.catalog.models import Category, Department, Macrosector, Visibility
from app.metrics.public import month_bucket, next_month
from app.surveys.models import ResolutionSurvey
from app.tickets.models import Status, Ticket

RESERVED_SLUG = "reservada"
RESERVED_NAME = "Categoría reservada"
BATCH = 500


@dataclass(frozen=True)
class Field:
    name: str
    type: object  # a lazy Spanish string
    meaning: object  # a lazy Spanish string


FIELDS = [
    Field("public_number", _l("texto"), _l("Número público de la solicitud (año-correlativo).")),
    Field("category_slug", _l("texto"), _l("Identificador de la categoría; «reservada» para las "
                                       "categorías privadas.")),
    Field("category_name", _l("texto"), _l("Nombre de la categoría; «Categoría reservada» para las "
                                       "categorías privadas.")),
    Field("department_slug", _l("texto"), _l("Identificador del departamento que la atiende.")),
    Field("department_name", _l("texto"), _l("Nombre del departamento que la atiende.")),
    Field("channel", _l("texto"),
          _l("Canal de ingreso: web, email, phone, counter, api, open311.")),
    Field("macrosector", _l("texto o vacío"), _l("Macrosector de la comuna; vacío si no se indicó "
                                             "o si la categoría es reservada.")),
    Field("created_at", _l("fecha y hora ISO 8601"), _l("Ingreso, hora de Chile con su desfase.")),
    Field("first_response_at", _l("fecha y hora ISO 8601 o vacío"), _l("Primera respuesta.")),
    Field("resolved_at", _l("fecha y hora ISO 8601 o vacío"), _l("Resolución.")),
    Field("closed_at", _l("fecha y hora ISO 8601 o vacío"), _l("Cierre.")),
    Field("status", _l("texto"), _l("Estado actual: received, in_review, in_progress, "
                                "waiting_resident, resolved, closed, referred, duplicate.")),
    Field("first_response_business_hours", _l("número o vacío"),
          _l("Horas hábiles (horario de atención municipal) hasta la primera respuesta.")),
    Field("resolution_business_hours", _l("número o vacío"),
          _l("Horas hábiles hasta la resolución, sin los períodos en pausa.")),
    Field("on_time", _l("verdadero/falso o vacío"),
          _l("Si se resolvió dentro del plazo comprometido; vacío si no está resuelta "
             "o no tenía plazo.")),
    Field("survey_score", _l("entero 1–5 o vacío"),
          _l("Nota de la encuesta de satisfacción; vacío si no se respondió.")),
]
FIELD_NAMES = [f.name for f in FIELDS]

AGGREGATE_FIELDS = ["month", "department_slug", "department_name", "received", "resolved"]

NEVER_PUBLISHED = [
    _l("Nombres, correos, teléfonos, RUT y direcciones de los vecinos y vecinas: son datos "
       "personales (Ley 19.628)."),
    _l("Descripciones y mensajes de las solicitudes: pueden contener datos personales."),
    _l("Coordenadas: con ellas se puede ubicar un domicilio; se publica solo el macrosector."),
    _l("Códigos de seguimiento: dan acceso a la página de la solicitud."),
    _l("Archivos adjuntos y comentarios de la encuesta."),
    _l("El nombre de las categorías privadas (por ejemplo, denuncias): se publican como "
       "«Categoría reservada», sin macrosector."),
]


def year_range(*, now: datetime, tz: ZoneInfo, year: int | None,
               years: int) -> tuple[datetime, datetime]:
    """UTC bounds of ``year``, or of the last ``years`` calendar years up to now."""
    local_year = now.astimezone(tz).year
    first, last = (year, year) if year is not None else (local_year - years + 1, local_year)
    start = datetime.combine(date(first, 1, 1), time(0), tz).astimezone(UTC)
    end = datetime.combine(date(last + 1, 1, 1), time(0), tz).astimezone(UTC)
    return start, end


def _records_query(start: datetime, end: datetime):
    private = Category.visibility == Visibility.PRIVATE
    return (
        sa.select(
            Ticket.public_number,
            sa.case((private, RESERVED_SLUG), else_=Category.slug),
            sa.case((private, RESERVED_NAME), else_=Category.name),
            Department.slug, Department.name, Ticket.channel,
            sa.case((private, None), else_=Macrosector.name),
            Ticket.created_at, Ticket.first_response_at, Ticket.resolved_at, Ticket.closed_at,
            Ticket.status, Ticket.first_response_business_seconds,
            Ticket.resolution_business_seconds, Ticket.resolution_due_at,
            ResolutionSurvey.rating)
        .select_from(Ticket)
        .join(Category, Category.id == Ticket.category_id)
        .join(Department, Department.id == Ticket.department_id)
        .outerjoin(Macrosector, Macrosector.id == Ticket.macrosector_id)
        .outerjoin(ResolutionSurvey, ResolutionSurvey.ticket_id == Ticket.id)
        .where(Ticket.created_at >= start, Ticket.created_at < end)
        .order_by(Ticket.created_at, Ticket.id)
    )


def _hours(seconds: int | None) -> float | None:
    return None if seconds is None else round(seconds / 3600, 2)


def records(session: Session, *, start: datetime, end: datetime,
            tz: ZoneInfo) -> Iterator[dict]:
    """One dict per request created in [start, end), keys ``FIELD_NAMES``, streamed."""
    def iso(value: datetime | None) -> str | None:
        return None if value is None else value.astimezone(tz).isoformat(timespec="seconds")

    result = session.execute(_records_query(start, end).execution_options(yield_per=BATCH))
    for (number, cat_slug, cat_name, dep_slug, dep_name, channel, macrosector, created,
         first_response, resolved, closed, status, first_seconds, resolution_seconds, due,
         rating) in result:
        yield {
            "public_number": number, "category_slug": cat_slug, "category_name": cat_name,
            "department_slug": dep_slug, "department_name": dep_name,
            "channel": channel.value, "macrosector": macrosector,
            "created_at": iso(created), "first_response_at": iso(first_response),
            "resolved_at": iso(resolved), "closed_at": iso(closed), "status": status.value,
            "first_response_business_hours": _hours(first_seconds),
            "resolution_business_hours": _hours(resolution_seconds),
            "on_time": (resolved <= due) if resolved and due else None,
            "survey_score": rating,
        }


def _csv_line(values: list) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(
        ["" if v is None else ("true" if v is True else "false" if v is False else v)
         for v in values])
    return buffer.getvalue()


def records_csv(rows: Iterator[dict]) -> Iterator[str]:
    yield "\ufeff" + _csv_line(FIELD_NAMES)  # BOM: spreadsheets then read UTF-8
    for row in rows:
        yield _csv_line([row[name] for name in FIELD_NAMES])


def records_json(rows: Iterator[dict]) -> Iterator[str]:
    yield "["
    for i, row in enumerate(rows):
        yield ("," if i else "") + "\n" + json.dumps(row, ensure_ascii=False)
    yield "\n]\n"


def monthly_aggregates(session: Session, *, start: datetime, end: datetime, tz: ZoneInfo,
                       min_n: int) -> Iterator[list]:
    """Rows of ``AGGREGATE_FIELDS``: month × department, counts below ``min_n`` as None."""
    months, month = [], start.astimezone(tz).date().replace(day=1)
    last = end.astimezone(tz).date()
    while month < last:
        months.append(month)
        month = next_month(month)
    scope = (Ticket.status != Status.DUPLICATE)
    counts: dict[tuple[str, int], list[int]] = {}
    for column, index in ((Ticket.created_at, 0), (Ticket.resolved_at, 1)):
        bucket = month_bucket(column, months, tz).label("bucket")
        query = (sa.select(bucket, Ticket.department_id, sa.func.count())
                 .where(scope, column >= start, column < end)
                 .group_by(bucket, Ticket.department_id))
        for key, department_id, n in session.execute(query):
            counts.setdefault((key, department_id), [0, 0])[index] = n
    names = {d.id: (d.slug, d.name) for d in session.execute(
        sa.select(Department.id, Department.slug, Department.name))}
    for (key, department_id), (received, resolved) in sorted(
            counts.items(), key=lambda item: (item[0][0], names[item[0][1]][0])):
        slug, name = names[department_id]
        yield [key, slug, name, received if received >= min_n else None,
               resolved if resolved >= min_n else None]


def aggregates_csv(rows: Iterator[list]) -> Iterator[str]:
    yield "\ufeff" + _csv_line(AGGREGATE_FIELDS)
    for row in rows:
        yield _csv_line(row)
