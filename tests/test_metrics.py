"""The metrics module on a small hand-made data set, on SQLite and PostgreSQL.

Each number asserted here was worked out by hand from the data below; the
same test runs on both back-ends (see conftest), so they also agree.

The data set sets the stored measurement columns of each request directly
(status, timestamps, due dates, business seconds), which is exactly what the
metrics read; how those columns get their values is tested in test_deadlines.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from app.catalog.sla import PolicyKind
from app.deadlines.calendar_source import load_calendar
from app.metrics import queries
from app.metrics.filters import MetricsFilter
from app.metrics.percentile import interpolated, percentile_cont
from app.metrics.periods import business_days_back, preset_range
from app.tickets.models import Channel, Status
from tests.factories import make_category, make_department, make_ticket

SANTIAGO = ZoneInfo("America/Santiago")
# Wednesday 25 November 2026, 12:00 in Santiago (UTC-3 in summer time).
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=SANTIAGO).astimezone(UTC)
HOUR, DAY = 3600, 86400


def local(*args) -> datetime:
    return datetime(*args, tzinfo=SANTIAGO).astimezone(UTC)


def ticket(session, category, created, *, status=Status.RECEIVED, channel=Channel.WEB,
           **columns):
    t = make_ticket(session, category, now=created, channel=channel, notify=False)
    t.status = status
    for name, value in columns.items():
        setattr(t, name, value)
    session.flush()
    return t


def test_percentile_cont_interpolates_between_ranks_like_postgresql(session):
    category = make_category(session)
    for seconds in (3600, 7200, 10800, 36000, 72000):
        ticket(session, category, NOW, resolution_business_seconds=seconds)
    ticket(session, category, NOW)  # NULL: ignored, as percentile_cont does
    column = sa.select(percentile_cont(
        sa.text("resolution_business_seconds"), 0.5)).select_from(sa.table("tickets"))
    assert session.scalar(column) == 10800
    p90 = sa.select(percentile_cont(sa.text("resolution_business_seconds"), 0.9)
                    ).select_from(sa.table("tickets"))
    # rank 0.9 × 4 = 3.6: 36000 + 0.6 × (72000 − 36000)
    assert session.scalar(p90) == pytest.approx(57600)


def test_percentile_cont_matches_the_definition_on_random_data_per_group(session):
    rng = random.Random(7)
    groups = {}
    for _ in range(3):
        category = make_category(session)
        values = [rng.randint(0, 500_000) for _ in range(rng.randint(1, 12))]
        groups[category.id] = values
        for value in values:
            ticket(session, category, NOW, resolution_business_seconds=value)
    from app.tickets.models import Ticket
    for fraction in (0.0, 0.25, 0.5, 0.9, 1.0):
        found = dict(session.execute(
            sa.select(Ticket.category_id,
                      percentile_cont(Ticket.resolution_business_seconds, fraction))
            .group_by(Ticket.category_id)).all())
        for category_id, values in groups.items():
            assert found[category_id] == pytest.approx(interpolated(values, fraction))


def test_percentile_of_an_empty_group_is_null(session):
    from app.tickets.models import Ticket
    assert session.scalar(sa.select(
        percentile_cont(Ticket.resolution_business_seconds, 0.5))) is None


@pytest.mark.parametrize("fraction", [-0.1, 1.5])
def test_percentile_fraction_outside_zero_to_one_is_refused(fraction):
    with pytest.raises(ValueError):
        percentile_cont(sa.column("x"), fraction)


def test_response_times_median_and_p90_in_business_and_calendar_time(session):
    category = make_category(session)
    created = local(2026, 11, 2, 9, 0)
    # Resolution: business seconds and calendar durations, hand-picked.
    for business, calendar in [(3600, HOUR), (7200, DAY), (10800, 2 * DAY),
                               (36000, 3 * DAY), (72000, 10 * DAY)]:
        ticket(session, category, created, status=Status.RESOLVED,
               resolved_at=created + timedelta(seconds=calendar),
               resolution_business_seconds=business)
    # First response on four other requests.
    for seconds in (600, 1200, 1800, 6000):
        ticket(session, category, created, status=Status.IN_PROGRESS,
               first_response_at=created + timedelta(seconds=seconds),
               first_response_business_seconds=seconds)
    first, resolution = queries.response_times(session, MetricsFilter())
    assert first.count == 4
    assert first.median_business == pytest.approx(1500)  # rank 1.5 of 600,1200,1800,6000
    assert first.p90_business == pytest.approx(4740)  # rank 2.7: 1800 + 0.7 × 4200
    assert first.median_calendar == pytest.approx(1500, abs=0.01)
    assert first.p90_calendar == pytest.approx(4740, abs=0.01)
    assert resolution.count == 5
    assert resolution.median_business == pytest.approx(10800)
    assert resolution.p90_business == pytest.approx(57600)
    assert resolution.median_calendar == pytest.approx(2 * DAY, abs=0.01)
    # rank 3.6: 3 days + 0.6 × (10 − 3) days = 622080 s
    assert resolution.p90_calendar == pytest.approx(622080, abs=0.01)


def test_sla_compliance_counts_finished_and_open_against_the_due_date(session):
    category = make_category(session)
    created = local(2026, 11, 2, 9, 0)
    due = local(2026, 11, 20, 17, 30)
    for finished in (due - timedelta(days=3), due, due - timedelta(minutes=1)):
        ticket(session, category, created, status=Status.RESOLVED, resolved_at=finished,
               resolution_due_at=due)
    ticket(session, category, created, status=Status.RESOLVED,
           resolved_at=due + timedelta(hours=1), resolution_due_at=due)
    ticket(session, category, created, status=Status.REFERRED,
           closed_at=due + timedelta(days=2), resolution_due_at=due)  # closed late
    ticket(session, category, created, resolution_due_at=NOW + timedelta(days=1))
    ticket(session, category, created, resolution_due_at=NOW - timedelta(days=1))
    ticket(session, category, created, status=Status.IN_PROGRESS, resolution_due_at=due)
    ticket(session, category, created, resolution_due_at=None)  # no due date: not counted
    ticket(session, category, created, status=Status.DUPLICATE, resolution_due_at=due)

    result = queries.sla_compliance(session, MetricsFilter(), NOW)
    assert (result.on_time, result.late, result.open_on_time, result.open_late) == (3, 2, 1, 2)
    assert result.on_time_percent == pytest.approx(60.0)


def test_legal_clock_on_time_extended_late_and_in_progress(session):
    category = make_category(session)
    created = local(2026, 10, 1, 9, 0)
    due = local(2026, 10, 29, 17, 30)
    legal = {"clock_kind": PolicyKind.LEY_20285.value, "resolution_due_at": due}
    ticket(session, category, created, status=Status.RESOLVED,
           resolved_at=due - timedelta(days=2), **legal)  # on time
    ticket(session, category, created, status=Status.RESOLVED,
           resolved_at=due - timedelta(days=1), deadline_extended_at=created + timedelta(days=20),
           **legal)  # extended, answered within the extension
    ticket(session, category, created, status=Status.CLOSED, resolved_at=due + timedelta(days=1),
           **legal)  # late
    ticket(session, category, created, **legal)  # open and past due: late
    ticket(session, category, created, clock_kind=PolicyKind.LEY_20285.value,
           resolution_due_at=NOW + timedelta(days=5))  # in progress
    ticket(session, category, created, status=Status.RESOLVED,
           resolved_at=due + timedelta(days=1), resolution_due_at=due)  # service clock: ignored

    assert queries.legal_clock(session, MetricsFilter(), NOW) == queries.LegalClock(
        on_time=1, extended=1, late=2, in_progress=1)


def test_business_days_back_skips_weekends_and_holidays(session):
    calendar = load_calendar(session)
    assert business_days_back(calendar, date(2026, 11, 25), 1) == date(2026, 11, 25)
    assert business_days_back(calendar, date(2026, 11, 25), 3) == date(2026, 11, 23)
    assert business_days_back(calendar, date(2026, 11, 22), 1) == date(2026, 11, 20)
    # 2 November is a working Monday, 1 November (All Saints) a Sunday.
    assert business_days_back(calendar, date(2026, 11, 25), 18) == date(2026, 11, 2)
    assert business_days_back(calendar, date(2026, 11, 25), 21) == date(2026, 10, 28)


def test_backlog_ageing_buckets_open_requests_by_business_days(session):
    category = make_category(session)
    # With today Wednesday 25 Nov: ages 0–2 from Mon 23 Nov; 3–5 from Wed 18;
    # 6–10 from Wed 11; 11–20 from Wed 28 Oct; older is "more than 20".
    for created in [local(2026, 11, 25, 8, 0), local(2026, 11, 23, 0, 0),  # 0–2
                    local(2026, 11, 22, 23, 59), local(2026, 11, 18, 10, 0),  # 3–5
                    local(2026, 11, 17, 10, 0),  # 6–10
                    local(2026, 11, 10, 10, 0), local(2026, 10, 28, 0, 0),  # 11–20
                    local(2026, 10, 27, 23, 0), local(2026, 6, 1, 9, 0)]:  # 20+
        ticket(session, category, created, status=Status.IN_REVIEW)
    ticket(session, category, local(2026, 11, 24, 9, 0), status=Status.RESOLVED)  # not open
    ticket(session, category, local(2026, 11, 24, 9, 0), status=Status.WAITING_RESIDENT)

    rows = queries.backlog_ageing(session, MetricsFilter(), load_calendar(session), NOW)
    assert [(r.label, r.count) for r in rows] == [
        ("0–2", 3), ("3–5", 2), ("6–10", 1), ("11–20", 2), ("Más de 20", 2)]
    assert (rows[0].first_day, rows[0].last_day) == (date(2026, 11, 23), None)
    assert (rows[1].first_day, rows[1].last_day) == (date(2026, 11, 18), date(2026, 11, 22))
    assert (rows[4].first_day, rows[4].last_day) == (None, date(2026, 10, 27))


def test_volume_by_month_uses_local_months_and_each_dimension(session):
    lights = make_category(session, name="Luminarias")
    trees = make_category(session, name="Árboles")
    # 31 Oct 22:00 in Santiago is already 1 Nov in UTC: it counts in October.
    ticket(session, lights, local(2026, 10, 31, 22, 0), channel=Channel.PHONE)
    ticket(session, lights, local(2026, 10, 5, 10, 0))
    ticket(session, trees, local(2026, 11, 1, 0, 30))
    ticket(session, trees, local(2026, 11, 20, 10, 0), channel=Channel.PHONE)
    ticket(session, trees, local(2026, 11, 21, 10, 0), channel=Channel.PHONE)
    ticket(session, trees, local(2026, 9, 30, 10, 0))  # before the range
    f = MetricsFilter(first_day=date(2026, 10, 1), last_day=date(2026, 11, 30), tz=SANTIAGO)

    by_channel = {(r.month, r.key): r.count for r in queries.volume_by_month(session, f, "canal")}
    assert by_channel == {(date(2026, 10, 1), "phone"): 1, (date(2026, 10, 1), "web"): 1,
                          (date(2026, 11, 1), "phone"): 2, (date(2026, 11, 1), "web"): 1}
    by_category = {(r.month, r.label): r.count
                   for r in queries.volume_by_month(session, f, "categoria")}
    assert by_category == {(date(2026, 10, 1), "Luminarias"): 2,
                           (date(2026, 11, 1), "Árboles"): 3}
    by_department = queries.volume_by_month(session, f, "departamento")
    assert sum(r.count for r in by_department) == 5


def test_filters_by_channel_category_department_and_macrosector(session):
    from app.catalog.models import Macrosector
    sector = Macrosector(name="Lo Hermida")
    session.add(sector)
    a, b = make_category(session), make_category(session)
    ticket(session, a, NOW, channel=Channel.PHONE, macrosector=sector)
    ticket(session, a, NOW)
    ticket(session, b, NOW, channel=Channel.PHONE)

    def count(**kw):
        return queries.backlog_ageing(session, MetricsFilter(**kw), load_calendar(session),
                                      NOW)[0].count
    assert count() == 3
    assert count(channel=Channel.PHONE) == 2
    assert count(category_id=a.id) == 2
    assert count(department_ids=(b.department_id,)) == 1
    assert count(macrosector_id=sector.id) == 1


def test_department_ranking_hides_departments_under_the_minimum(session):
    big, small, other = (make_department(session, name=n) for n in ("Aseo", "Parques", "Obras"))
    created = local(2026, 11, 2, 9, 0)
    due = local(2026, 11, 20, 17, 30)
    aseo = make_category(session, big)
    for business, finished in [(100, due), (200, due), (300, due + timedelta(hours=1))]:
        ticket(session, aseo, created, status=Status.RESOLVED, resolved_at=finished,
               resolution_due_at=due, resolution_business_seconds=business)
    obras = make_category(session, other)
    for finished in (due, due, due):
        ticket(session, obras, created, status=Status.RESOLVED, resolved_at=finished,
               resolution_due_at=due, resolution_business_seconds=900)
    parques = make_category(session, small)
    ticket(session, parques, created, status=Status.RESOLVED, resolved_at=due,
           resolution_due_at=due, resolution_business_seconds=50)

    ranking = queries.department_ranking(session, MetricsFilter(), min_n=3)
    assert [(r.name, r.count, r.on_time) for r in ranking.rows] == [("Obras", 3, 3),
                                                                    ("Aseo", 3, 2)]
    assert ranking.rows[1].median_resolution_business == pytest.approx(200)
    assert ranking.hidden == 1


@pytest.mark.parametrize("preset, expected", [
    ("este-mes", (date(2026, 11, 1), date(2026, 11, 25))),
    ("30-dias", (date(2026, 10, 27), date(2026, 11, 25))),
    ("90-dias", (date(2026, 8, 28), date(2026, 11, 25))),
    ("este-ano", (date(2026, 1, 1), date(2026, 11, 25))),
])
def test_presets_end_today(preset, expected):
    assert preset_range(preset, date(2026, 11, 25)) == expected
