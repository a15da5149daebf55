"""The daily rollups give the same figures as counting every request live.

A random history of 70 days (statuses, due dates, Ley 20.285 clocks,
surveys, channels, three departments) is measured live, then rolled up; every
dashboard figure that reads the rollup must come out the same for many filters, on SQLite
and PostgreSQL. Then a past request changes: the rollup is stale until the
next refresh, which rebuilds that request's day.
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from app.accounts.models import Role
from app.catalog.sla import PolicyKind
from app.metrics import queries, rollup
from app.metrics.filters import MetricsFilter
from app.metrics.periods import month_starts, period_spans
from app.surveys.models import ResolutionSurvey, ResolvedAnswer
from app.tickets.models import Channel, Status, Ticket
from tests.factories import make_category, make_department, make_user
from tests.test_metrics import NOW, SANTIAGO, local, ticket

TODAY = NOW.astimezone(SANTIAGO).date()  # Wednesday 25 November 2026
FIRST = TODAY - timedelta(days=69)


def history(session, seed: int = 11):
    rng = random.Random(seed)
    departments = [make_department(session) for _ in range(3)]
    categories = [make_category(session, department=d) for d in departments for _ in range(2)]
    for i in range(240):
        day = FIRST + timedelta(days=rng.randrange(70))
        created = local(day.year, day.month, day.day, rng.randrange(24), rng.randrange(60))
        due = created + timedelta(days=rng.choice([3, 10, 20]))
        columns = {"resolution_due_at": due if rng.random() < 0.85 else None}
        if rng.random() < 0.2:
            columns["clock_kind"] = PolicyKind.LEY_20285.value
            if rng.random() < 0.3:
                columns["deadline_extended_at"] = created + timedelta(days=5)
                columns["resolution_due_at"] = due + timedelta(days=10)
        finished = min(created + timedelta(days=rng.uniform(0.1, 25)), NOW - timedelta(days=1))
        status = rng.choice([Status.RECEIVED, Status.IN_PROGRESS, Status.RESOLVED,
                             Status.RESOLVED, Status.CLOSED, Status.REFERRED, Status.DUPLICATE])
        if status in (Status.RESOLVED, Status.CLOSED):
            columns["resolved_at"] = finished
        elif status == Status.REFERRED:
            columns["closed_at"] = finished
        t = ticket(session, rng.choice(categories), created, status=status,
                   channel=rng.choice(list(Channel)), **columns)
        if "resolved_at" in columns and rng.random() < 0.6:
            answered = rng.random() < 0.6
            session.add(ResolutionSurvey(
                ticket=t, invited_at=finished, expires_at=finished + timedelta(days=30),
                responded_at=finished + timedelta(hours=2) if answered else None,
                resolved_answer=rng.choice(list(ResolvedAnswer)) if answered else None,
                rating=rng.randint(1, 5) if answered else None,
                courtesy_rating=rng.randint(1, 5) if answered and i % 2 else None,
                time_rating=rng.randint(1, 5) if answered and i % 3 else None,
                reopened=answered and rng.random() < 0.1, flagged=answered and i % 7 == 0))
    session.flush()
    return departments, categories


def figures(session, f: MetricsFilter):
    """Every figure the rollup feeds, as comparable values."""
    spans = period_spans(f.first_day, f.last_day, "semana")
    return {
        "volume": sorted(queries.volume_facts(session, f).rows),
        "weeks": {d: sorted((r.period, r.key, r.count)
                            for r in queries.volume_by_period(session, f, d, spans))
                  for d in queries.DIMENSIONS},
        "sla": queries.sla_compliance(session, f, NOW),
        "legal": queries.legal_clock(session, f, NOW),
        "satisfaction": queries.satisfaction(session, f),
        "ranking": queries.department_ranking(session, f, min_n=1),
        "ranking_min_30": queries.department_ranking(session, f, min_n=30),
    }


def filters(departments, categories, supervisor) -> list[MetricsFilter]:
    base = MetricsFilter(first_day=FIRST, last_day=TODAY, tz=SANTIAGO)
    return [base,
            replace(base, first_day=TODAY - timedelta(days=29)),
            replace(base, first_day=FIRST + timedelta(days=10), last_day=TODAY - timedelta(days=3)),
            replace(base, first_day=TODAY, last_day=TODAY),
            replace(base, department_ids=(departments[1].id,)),
            replace(base, category_id=categories[4].id),
            replace(base, channel=Channel.PHONE),
            replace(base, viewer=supervisor)]


def test_rolled_up_figures_equal_the_live_ones_for_every_filter(session):
    departments, categories = history(session)
    supervisor = make_user(session, Role.SUPERVISOR, departments=[departments[0]])
    cases = filters(departments, categories, supervisor)
    live = [figures(session, replace(f, use_rollups=False)) for f in cases]

    report = rollup.refresh(session, NOW, SANTIAGO)
    assert report.through_day == TODAY - timedelta(days=1)
    assert report.rows == session.scalar(sa.select(sa.func.count()).select_from(
        rollup.DailyRollup)) > 50
    assert session.scalar(sa.select(sa.func.sum(rollup.DailyRollup.filed))) == session.scalar(
        sa.select(sa.func.count()).select_from(Ticket).where(
            Ticket.status != Status.DUPLICATE, Ticket.created_at < local(2026, 11, 25, 0, 0)))
    for f, expected in zip(cases, live, strict=True):
        covered = rollup.coverage(session, f)
        if f.first_day < TODAY:
            assert covered is not None and covered.last == min(f.last_day, report.through_day)
        else:
            assert covered is None  # only today: nothing rolled up yet
        assert figures(session, f) == expected, f
    # The supervisor's rollup figures stay within their department.
    assert figures(session, cases[-1]) == figures(session, replace(
        cases[0], department_ids=(departments[0].id,)))


def test_a_changed_past_request_is_stale_until_the_next_refresh(session):
    _departments, categories = history(session, seed=5)
    session.execute(sa.update(Ticket).values(updated_at=Ticket.created_at))
    rollup.refresh(session, NOW, SANTIAGO)
    f = MetricsFilter(first_day=FIRST, last_day=TODAY, tz=SANTIAGO)
    before = queries.sla_compliance(session, f, NOW)
    old = session.scalars(sa.select(Ticket).where(
        Ticket.status == Status.IN_PROGRESS, Ticket.resolution_due_at.is_not(None),
        Ticket.created_at < local(2026, 10, 1, 0, 0)).order_by(Ticket.id)).first()
    later = NOW + timedelta(minutes=20)
    old.status, old.resolved_at, old.updated_at = Status.RESOLVED, later, later
    session.flush()

    live = queries.sla_compliance(session, replace(f, use_rollups=False), NOW)
    stale = queries.sla_compliance(session, f, NOW)
    assert live.finished == before.finished + 1
    assert stale.finished == before.finished  # not open any more, not rolled up yet
    # A new request today needs no refresh: today is always live.
    ticket(session, categories[0], NOW, status=Status.RESOLVED, resolved_at=NOW,
           resolution_due_at=NOW + timedelta(days=1))
    assert queries.sla_compliance(session, f, NOW).on_time == stale.on_time + 1

    report = rollup.refresh(session, later, SANTIAGO, recent_days=1)
    assert report.days == 2  # yesterday, and the changed request's filing day
    assert queries.sla_compliance(session, f, NOW) == queries.sla_compliance(
        session, replace(f, use_rollups=False), NOW)


def test_filters_the_rollup_cannot_answer_are_counted_live(session):
    history(session, seed=3)
    rollup.refresh(session, NOW, SANTIAGO)
    f = MetricsFilter(first_day=FIRST, last_day=TODAY, tz=SANTIAGO)
    assert rollup.coverage(session, f) is not None
    assert rollup.coverage(session, replace(f, macrosector_id=1)) is None
    assert rollup.coverage(session, replace(f, first_day=None)) is None
    from zoneinfo import ZoneInfo
    assert rollup.coverage(session, replace(f, tz=ZoneInfo("America/Punta_Arenas"))) is None
    # Refreshing in another time zone starts the rollup over in that zone.
    rollup.refresh(session, NOW, ZoneInfo("America/Punta_Arenas"))
    assert rollup.coverage(session, f) is None
    assert session.get(rollup.RollupState, 1).timezone == "America/Punta_Arenas"


def test_refresh_on_an_empty_database_and_the_cli(app, session):
    report = rollup.refresh(session, NOW, SANTIAGO)
    assert (report.rows, report.through_day) == (0, TODAY - timedelta(days=1))
    session.commit()
    result = app.test_cli_runner().invoke(args=["metrics", "rollup"])
    assert result.exit_code == 0, result.output
    assert "rollup rows" in result.output


@pytest.mark.parametrize("days, runs", [
    ([], []),
    ([date(2026, 1, 1)], [(date(2026, 1, 1), date(2026, 1, 1))]),
    ([date(2026, 1, 1), date(2026, 1, 2), date(2026, 1, 5)],
     [(date(2026, 1, 1), date(2026, 1, 2)), (date(2026, 1, 5), date(2026, 1, 5))]),
])
def test_days_are_rebuilt_in_runs_of_consecutive_days(days, runs):
    assert rollup._runs(set(days)) == runs


def test_long_runs_are_cut_into_chunks():
    days = {date(2026, 1, 1) + timedelta(days=i) for i in range(70)}
    runs = rollup._runs(days)
    assert [(last - first).days + 1 for first, last in runs] == [31, 31, 8]
    assert month_starts(runs[0][0], runs[-1][1])[0] == date(2026, 1, 1)
