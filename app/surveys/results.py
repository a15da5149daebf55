"""Survey results, aggregated in SQL: counts, averages, distributions, breakdowns.

Every figure comes from GROUP BY queries; Python only turns the grouped rows
(one per question × value × group, never one per answer) into percentages.

Low-n protection: a group with fewer than ``min_group_size`` responses is not
shown, and neither is a cell (group × question) with fewer respondents than
that. When exactly one group (or one cell in a column) would be hidden, the
next smallest is hidden too, so the hidden one cannot be worked out by
subtracting the shown groups from the total. Staff survey results stay hidden
altogether until the survey has ``min_group_size`` responses.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session, aliased

from app.catalog.models import Department, Macrosector
from app.surveys.models import (
    AGE_RANGE_LABELS,
    AgeRange,
    Disability,
    QuestionKind,
    ResolutionSurvey,
    ResolvedAnswer,
    Survey,
    SurveyAnswer,
    SurveyKind,
    SurveyQuestion,
    SurveySubmission,
)
from app.tickets.models import Channel, Ticket

TEXT_SAMPLE = 30


def percent(part: int, whole: int) -> float | None:
    return 100.0 * part / whole if whole else None


@dataclass
class Bar:
    label: str
    count: int
    percent: float | None


@dataclass
class QuestionResult:
    question: SurveyQuestion
    respondents: int
    average: float | None = None  # rating questions
    bars: list[Bar] = field(default_factory=list)  # rating and choice questions
    texts: list[str] = field(default_factory=list)  # text questions: a sample


@dataclass
class SurveyResults:
    survey: Survey
    responses: int
    questions: list[QuestionResult]
    min_group_size: int
    hidden: bool  # a staff survey with too few responses to show anything

    def by_question(self) -> dict[int, QuestionResult]:
        return {r.question.id: r for r in self.questions}


def _survey_questions(survey: Survey):
    return sa.select(SurveyQuestion.id).where(SurveyQuestion.survey_id == survey.id)


def _scale_label(question: SurveyQuestion, value: int) -> str:
    """A point of a rating scale, with its meaning at either end ("1 · Nada")."""
    if value == 1 and question.low_label:
        return f"{value} · {question.low_label}"
    if value == question.scale[-1] and question.high_label:
        return f"{value} · {question.high_label}"
    return str(value)


def survey_results(session: Session, survey: Survey, *, min_group_size: int,
                   text_sample: int = TEXT_SAMPLE) -> SurveyResults:
    """Counts, averages and distributions of every question of ``survey``.

    Percentages are of the people who answered that question (for multiple
    choice they can add up to more than 100). Texts are a sample in random
    order (submission ids are random).
    """
    responses = session.scalar(sa.select(sa.func.count()).select_from(SurveySubmission)
                               .where(SurveySubmission.survey_id == survey.id)) or 0
    hidden = survey.kind is SurveyKind.STAFF and responses < min_group_size
    in_survey = SurveyAnswer.question_id.in_(_survey_questions(survey))
    respondents = dict(session.execute(
        sa.select(SurveyAnswer.question_id,
                  sa.func.count(sa.distinct(SurveyAnswer.submission_id)))
        .where(in_survey).group_by(SurveyAnswer.question_id)).all())
    numbers: dict[int, dict[int, int]] = defaultdict(dict)
    for question_id, number, count in session.execute(
            sa.select(SurveyAnswer.question_id, SurveyAnswer.number, sa.func.count())
            .where(in_survey, SurveyAnswer.number.is_not(None))
            .group_by(SurveyAnswer.question_id, SurveyAnswer.number)):
        numbers[question_id][number] = count
    options: dict[int, dict[int, int]] = defaultdict(dict)
    for question_id, option_id, count in session.execute(
            sa.select(SurveyAnswer.question_id, SurveyAnswer.option_id, sa.func.count())
            .where(in_survey, SurveyAnswer.option_id.is_not(None))
            .group_by(SurveyAnswer.question_id, SurveyAnswer.option_id)):
        options[question_id][option_id] = count

    results = []
    for question in survey.questions:
        n = respondents.get(question.id, 0)
        result = QuestionResult(question=question, respondents=n)
        if question.kind is QuestionKind.RATING:
            counts = numbers[question.id]
            total = sum(value * count for value, count in counts.items())
            result.average = total / n if n else None
            result.bars = [Bar(_scale_label(question, value), counts.get(value, 0),
                               percent(counts.get(value, 0), n)) for value in question.scale]
        elif question.kind.has_options:
            counts = options[question.id]
            result.bars = [Bar(o.label, counts.get(o.id, 0), percent(counts.get(o.id, 0), n))
                           for o in question.options]
        elif not hidden:
            result.texts = list(session.scalars(
                sa.select(SurveyAnswer.text)
                .where(SurveyAnswer.question_id == question.id,
                       SurveyAnswer.text.is_not(None))
                .order_by(SurveyAnswer.submission_id).limit(text_sample)))
        results.append(result)
    return SurveyResults(survey=survey, responses=responses, questions=results,
                         min_group_size=min_group_size, hidden=hidden)


# --- breakdown by group ---------------------------------------------------------------------

@dataclass
class Dimension:
    key: str
    label: str


@dataclass
class Cell:
    respondents: int
    hidden: bool
    average: float | None = None  # rating questions
    percents: dict[int, float | None] = field(default_factory=dict)  # option id → %


@dataclass
class GroupRow:
    label: str
    n: int
    hidden: bool
    cells: dict[int, Cell]  # question id → cell


@dataclass
class Breakdown:
    dimension: Dimension
    questions: list[SurveyQuestion]  # rating and choice questions, in survey order
    groups: list[GroupRow]
    min_group_size: int

    @property
    def hidden_groups(self) -> int:
        return sum(1 for g in self.groups if g.hidden)


def dimensions(session: Session, survey: Survey) -> list[Dimension]:
    """The groupings a survey's results can be broken down by."""
    found = []
    if survey.demographics_enabled:
        found += [Dimension("edad", _("Tramo de edad")),
                  Dimension("discapacidad", _("Situación de discapacidad")),
                  Dimension("sector", _("Macrosector"))]
    found += [Dimension(f"p{q.id}", q.prompt) for q in survey.questions
              if q.kind is QuestionKind.SINGLE]
    return found


def hidden_keys(sizes: dict, min_group_size: int, already: set | frozenset = frozenset()
                ) -> set:
    """Groups to hide: those under the threshold, plus a second one if only one is.

    ``sizes`` maps group keys to their number of responses; ``already`` are
    groups hidden for another reason (they count as hidden here).
    """
    hidden = set(already) | {key for key, n in sizes.items() if n < min_group_size}
    hidden &= set(sizes)
    visible = [key for key in sizes if key not in hidden]
    if len(hidden) == 1 and visible:
        hidden.add(min(visible, key=lambda key: (sizes[key], str(key))))
    return hidden


def _grouping(session: Session, survey: Survey, key: str):
    """How to group by ``key``, or None if the survey has no such dimension.

    Returns (group expression, extra outer join or None, {group value: label},
    label of the "no answer" group, id of the grouping question or None).
    """
    none_label = _("No responde")
    if key == "edad" and survey.demographics_enabled:
        labels = {a: str(AGE_RANGE_LABELS[a]) for a in AgeRange}
        return SurveySubmission.age_range, None, labels, none_label, None
    if key == "discapacidad" and survey.demographics_enabled:
        labels = {Disability.YES: _("Con discapacidad"), Disability.NO: _("Sin discapacidad")}
        return SurveySubmission.disability, None, labels, none_label, None
    if key == "sector" and survey.demographics_enabled:
        labels = dict(session.execute(sa.select(Macrosector.id, Macrosector.name)
                                      .order_by(Macrosector.name)).all())
        return SurveySubmission.macrosector_id, None, labels, none_label, None
    if key.startswith("p") and key[1:].isdigit():
        question = next((q for q in survey.questions if q.id == int(key[1:])
                         and q.kind is QuestionKind.SINGLE), None)
        if question is not None:
            grouping = aliased(SurveyAnswer)
            join = (grouping, sa.and_(grouping.submission_id == SurveySubmission.id,
                                      grouping.question_id == question.id))
            labels = {o.id: o.label for o in question.options}
            return grouping.option_id, join, labels, _("No respondió esa pregunta"), question.id
    return None


def breakdown(session: Session, survey: Survey, key: str, *,
              min_group_size: int) -> Breakdown | None:
    """Results per group of ``key`` (see ``dimensions``), with low-n protection.

    Returns None for an unknown key. Groups come in the dimension's order,
    then "no answer" last; groups with no responses are left out.
    """
    found = _grouping(session, survey, key)
    if found is None:
        return None
    group, join, labels, none_label, grouping_question = found
    dimension = next(d for d in dimensions(session, survey) if d.key == key)
    questions = [q for q in survey.questions
                 if (q.kind is QuestionKind.RATING or q.kind.has_options)
                 and q.id != grouping_question]

    def grouped(*columns):
        query = sa.select(group, *columns).select_from(SurveySubmission)
        if join is not None:
            query = query.outerjoin(*join)
        return query.where(SurveySubmission.survey_id == survey.id)

    sizes = dict(session.execute(grouped(sa.func.count(sa.distinct(SurveySubmission.id)))
                                 .group_by(group)).all())

    def with_answers(*columns):
        return grouped(*columns).join(SurveyAnswer,
                                      SurveyAnswer.submission_id == SurveySubmission.id)

    respondents: dict[tuple, int] = {
        (g, q): n for g, q, n in session.execute(
            with_answers(SurveyAnswer.question_id,
                         sa.func.count(sa.distinct(SurveyAnswer.submission_id)))
            .group_by(group, SurveyAnswer.question_id))}
    sums: dict[tuple, int] = {
        (g, q): total for g, q, total in session.execute(
            with_answers(SurveyAnswer.question_id, sa.func.sum(SurveyAnswer.number))
            .where(SurveyAnswer.number.is_not(None))
            .group_by(group, SurveyAnswer.question_id))}
    chosen: dict[tuple, int] = {
        (g, q, o): n for g, q, o, n in session.execute(
            with_answers(SurveyAnswer.question_id, SurveyAnswer.option_id, sa.func.count())
            .where(SurveyAnswer.option_id.is_not(None))
            .group_by(group, SurveyAnswer.question_id, SurveyAnswer.option_id))}

    order = [value for value in labels if value in sizes]
    if None in sizes:
        order.append(None)
    hidden_groups = hidden_keys({g: sizes[g] for g in order}, min_group_size)
    hidden_cells: dict[int, set] = {
        q.id: hidden_keys({g: respondents.get((g, q.id), 0) for g in order},
                          min_group_size, hidden_groups)
        for q in questions}

    rows = []
    for g in order:
        cells = {}
        for q in questions:
            n = respondents.get((g, q.id), 0)
            cell = Cell(respondents=n, hidden=g in hidden_cells[q.id])
            if not cell.hidden:
                if q.kind is QuestionKind.RATING:
                    cell.average = sums.get((g, q.id), 0) / n if n else None
                else:
                    cell.percents = {o.id: percent(chosen.get((g, q.id, o.id), 0), n)
                                     for o in q.options}
            cells[q.id] = cell
        rows.append(GroupRow(label=labels.get(g, none_label) if g is not None else none_label,
                             n=sizes[g], hidden=g in hidden_groups, cells=cells))
    return Breakdown(dimension=dimension, questions=questions, groups=rows,
                     min_group_size=min_group_size)


# --- the survey after resolution ------------------------------------------------------------

@dataclass
class SatisfactionRow:
    label: str
    invited: int
    answered: int
    yes: int
    no: int
    partly: int
    rating_sum: int
    courtesy_sum: int
    courtesy_n: int
    time_sum: int
    time_n: int
    reopened: int
    flagged: int

    @property
    def response_rate(self) -> float | None:
        return percent(self.answered, self.invited)

    @property
    def average_rating(self) -> float | None:
        return self.rating_sum / self.answered if self.answered else None

    @property
    def average_courtesy(self) -> float | None:
        return self.courtesy_sum / self.courtesy_n if self.courtesy_n else None

    @property
    def average_time(self) -> float | None:
        return self.time_sum / self.time_n if self.time_n else None

    def share(self, count: int) -> float | None:
        return percent(count, self.answered)


@dataclass
class SatisfactionResults:
    total: SatisfactionRow
    by_department: list[SatisfactionRow]
    by_channel: list[SatisfactionRow]
    resolved_bars: list[Bar]
    rating_bars: list[Bar]
    courtesy_bars: list[Bar]
    time_bars: list[Bar]
    comments: list  # recent (ticket id, public number, department, rating, comment, when)


def _count_if(condition) -> sa.ColumnElement[int]:
    return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)


def satisfaction_columns():
    """The survey totals as aggregate columns over ``resolution_surveys``, in the
    order of ``SatisfactionRow``'s numbers (also the daily rollup's)."""
    rs = ResolutionSurvey
    return (
        sa.func.count(rs.id),
        sa.func.count(rs.responded_at),
        _count_if(rs.resolved_answer == ResolvedAnswer.YES),
        _count_if(rs.resolved_answer == ResolvedAnswer.NO),
        _count_if(rs.resolved_answer == ResolvedAnswer.PARTLY),
        sa.func.coalesce(sa.func.sum(rs.rating), 0),
        sa.func.coalesce(sa.func.sum(rs.courtesy_rating), 0),
        sa.func.count(rs.courtesy_rating),
        sa.func.coalesce(sa.func.sum(rs.time_rating), 0),
        sa.func.count(rs.time_rating),
        _count_if(rs.reopened.is_(True)),
        _count_if(rs.flagged.is_(True)),
    )


def _row(label: str, values) -> SatisfactionRow:
    return SatisfactionRow(label, *(int(v or 0) for v in values))


def satisfaction_totals(session: Session, ticket_ids: sa.Select, label: str = ""
                        ) -> SatisfactionRow:
    """The after-resolution survey totals of the requests whose ids ``ticket_ids`` selects.

    Used by the metrics dashboards (``app.metrics.queries``) with their filters.
    """
    rs = ResolutionSurvey
    return _row(label, session.execute(
        sa.select(*satisfaction_columns()).select_from(rs)
        .where(rs.ticket_id.in_(ticket_ids))).one())


def _distribution(session: Session, column, values, labels, answered: int) -> list[Bar]:
    counts = dict(session.execute(
        sa.select(column, sa.func.count()).where(column.is_not(None)).group_by(column)).all())
    return [Bar(labels(v), counts.get(v, 0), percent(counts.get(v, 0), answered))
            for v in values]


def satisfaction_results(session: Session, *, comment_limit: int = 20) -> SatisfactionResults:
    """The surveys after resolution: totals, per department and per channel."""
    rs = ResolutionSurvey
    base = sa.select(*satisfaction_columns()).select_from(rs).join(Ticket, rs.ticket)
    total = _row(_("Total"), session.execute(base).one())
    by_department = [
        _row(name, values) for name, *values in session.execute(
            sa.select(Department.name, *satisfaction_columns()).select_from(rs)
            .join(Ticket, rs.ticket).join(Department, Ticket.department)
            .group_by(Department.name).order_by(Department.name))]
    by_channel = {channel: values for channel, *values in session.execute(
        sa.select(Ticket.channel, *satisfaction_columns()).select_from(rs)
        .join(Ticket, rs.ticket).group_by(Ticket.channel))}
    channel_rows = [_row(c.label, by_channel[c]) for c in Channel if c in by_channel]

    def rated(column):
        # Optional ratings: percentages of those who gave that rating.
        n = session.scalar(sa.select(sa.func.count(column)))
        return _distribution(session, column, range(1, 6), str, n)

    comments = session.execute(
        sa.select(Ticket.id, Ticket.public_number, Department.name, rs.rating, rs.comment,
                  rs.responded_at)
        .select_from(rs).join(Ticket, rs.ticket).join(Department, Ticket.department)
        .where(rs.comment.is_not(None)).order_by(rs.responded_at.desc(), rs.id.desc())
        .limit(comment_limit)).all()
    return SatisfactionResults(
        total=total, by_department=by_department, by_channel=channel_rows,
        resolved_bars=_distribution(session, rs.resolved_answer, list(ResolvedAnswer),
                                    lambda v: v.label, total.answered),
        rating_bars=_distribution(session, rs.rating, range(1, 6), str, total.answered),
        courtesy_bars=rated(rs.courtesy_rating),
        time_bars=rated(rs.time_rating),
        comments=comments,
    )
