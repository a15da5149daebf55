"""CSV exports of survey answers.

Semicolon-separated UTF-8 with a byte order mark, which is what Excel in
Spanish (Chile) opens correctly with a double click; LibreOffice and other
tools detect it. Cells that a spreadsheet would run as a formula (starting
with = + - @ or a tab) get a leading apostrophe.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from app.catalog.models import Category, Department, Macrosector
from app.surveys.models import (
    QuestionKind,
    ResolutionSurvey,
    Survey,
    SurveyAnswer,
    SurveyKind,
    SurveyOption,
    SurveySubmission,
)
from app.templating import local_datetime
from app.tickets.models import Ticket

DELIMITER = ";"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value) -> str:
    """A cell as text, defused if a spreadsheet would read it as a formula."""
    if value is None:
        return ""
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _csv(rows) -> str:
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, delimiter=DELIMITER, lineterminator="\r\n")
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
    return buffer.getvalue()


def survey_csv(session: Session, survey: Survey) -> str:
    """One row per response, one column per question (multiple choice joined by " | ").

    Rows come in the order of their random ids, so not in answering order.
    Community surveys add the day and the demographic answers; staff surveys
    have neither.
    """
    questions = list(survey.questions)
    community = survey.kind is SurveyKind.COMMUNITY
    demographics = survey.demographics_enabled
    header = [_("respuesta")]
    if community:
        header.append(_("fecha"))
    if demographics:
        header += [_("tramo de edad"), _("discapacidad"), _("macrosector")]
    header += [q.prompt for q in questions]

    submissions = session.execute(
        sa.select(SurveySubmission.id, SurveySubmission.submitted_on,
                  SurveySubmission.age_range, SurveySubmission.disability, Macrosector.name)
        .outerjoin(Macrosector, SurveySubmission.macrosector)
        .where(SurveySubmission.survey_id == survey.id)
        .order_by(SurveySubmission.id)).all()
    answers: dict[str, dict[int, list[str]]] = defaultdict(lambda: defaultdict(list))
    for submission_id, question_id, number, text, option in session.execute(
            sa.select(SurveyAnswer.submission_id, SurveyAnswer.question_id,
                      SurveyAnswer.number, SurveyAnswer.text, SurveyOption.label)
            .join(SurveySubmission, SurveyAnswer.submission)
            .outerjoin(SurveyOption, SurveyAnswer.option)
            .where(SurveySubmission.survey_id == survey.id)
            .order_by(SurveyAnswer.submission_id, SurveyOption.position)):
        value = option if option is not None else (number if number is not None else text)
        answers[submission_id][question_id].append(str(value))

    def rows():
        yield header
        for index, (sid, day, age, disability, sector) in enumerate(submissions, start=1):
            row = [index]
            if community:
                row.append(day.isoformat() if day else "")
            if demographics:
                row += [age.label if age else "", disability.label if disability else "",
                        sector or ""]
            for q in questions:
                values = answers[sid].get(q.id, [])
                row.append(" | ".join(values) if q.kind is QuestionKind.MULTIPLE
                           else (values[0] if values else ""))
            yield row

    return _csv(rows())


def satisfaction_csv(session: Session) -> str:
    """Every answered survey after resolution, one row per request."""
    rs = ResolutionSurvey
    header = [_("solicitud"), _("departamento"), _("categoría"), _("canal"), _("resuelta"),
              _("respondida"), _("¿se resolvió?"), _("satisfacción"), _("trato"),
              _("tiempo"), _("pidió reabrir"), _("reabierta"), _("comentario")]
    query = (sa.select(Ticket.public_number, Department.name, Category.name, Ticket.channel,
                       rs.invited_at, rs.responded_at, rs.resolved_answer, rs.rating,
                       rs.courtesy_rating, rs.time_rating, rs.reopen_requested, rs.reopened,
                       rs.comment)
             .select_from(rs).join(Ticket, rs.ticket)
             .join(Department, Ticket.department).join(Category, Ticket.category)
             .where(rs.responded_at.is_not(None)).order_by(rs.responded_at, rs.id))
    yes, no = _("sí"), _("no")

    def rows():
        yield header
        for (number, department, category, channel, invited, responded, answer, rating,
             courtesy, time, asked, reopened, comment) in session.execute(query):
            yield [number, department, category, channel.label,
                   local_datetime(invited, "short"), local_datetime(responded, "short"),
                   answer.label, rating, courtesy, time, yes if asked else no,
                   yes if reopened else no, comment]

    return _csv(rows())
