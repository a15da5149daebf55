"""A synthetic city history for load tests: many requests over several years, in bulk.

Unlike ``seed.demo`` this does NOT go through ``intake.submit`` and
``lifecycle.transition`` one request at a time (a million requests would take
hours): it writes the rows those services would have written, in batches,
with ``COPY ... FROM STDIN`` on PostgreSQL and multi-row ``INSERT`` on SQLite.
It is for benchmarks and dashboards only, never for a production database:
it refuses to run where real (non-synthetic) requests exist unless forced.

Speed on PostgreSQL (a million requests in about a minute and a half on two
cores): a writer thread streams each batch with COPY while the next one is
generated, so Python and the server work at the same time; foreign-key
triggers are skipped during the load only (``SET LOCAL
session_replication_role``, when the role may, restored right after), since
every id written comes from the database or from this generator; ``ANALYZE``
runs at the end. All of it happens in the caller's one transaction: a failure
leaves nothing behind.

What it writes, per request: the ticket (public number per year, random
tracking code, seasonal creation time, channel mix, status by age, response,
resolution and closing instants, due dates from the category's SLA policy,
warning/breach marks, business-seconds durations), its timeline events
(created, each status change, a public reply at resolution) and, for a share
of the resolved ones, a resolution survey, about half of them answered.
``year_counters`` is brought up to date at the end, so the next
``intake.submit`` gets the next number.

Shortcuts, documented because they are approximations: due dates are
computed with the real business calendar once per (policy, creation hour)
and shifted by the minutes past the hour; business-seconds durations are the
wall-clock duration times the calendar's share of office time in a week.
"""

from __future__ import annotations

import bisect
import itertools
import math
import os
import queue
import random
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.accounts.models import Role, User
from app.catalog.models import Category, Department, Macrosector
from app.database import utcnow
from app.deadlines.calendar_source import load_calendar
from app.deadlines.clock import due_after, effective_policy, warn_instant
from app.seed.demo import FIRST_NAMES, LAST_NAMES, REPLIES, STREETS, seed_demo
from app.surveys.models import ResolutionSurvey
from app.tickets.models import Ticket, TicketEvent, YearCounter
from app.tickets.tracking import ALPHABET, RANDOM_LENGTH

LOCAL_TZ = ZoneInfo("America/Santiago")
# Every synthetic request has a contact email on this reserved domain: that is
# how a later run tells synthetic requests from real ones.
SYNTHETIC_DOMAIN = "sintetico.invalid"
BATCH = 10000

CHANNEL_MIX = [("web", 45), ("phone", 20), ("counter", 15), ("email", 12), ("api", 5),
               ("open311", 3)]
# Winter rains (June-August) bring more requests; summer holidays fewer.
MONTH_WEIGHT = {1: 0.75, 2: 0.7, 3: 1.0, 4: 1.0, 5: 1.15, 6: 1.45, 7: 1.5, 8: 1.35,
                9: 1.0, 10: 1.0, 11: 0.95, 12: 0.8}
WEEKDAY_WEIGHT = [1.1, 1.05, 1.0, 1.0, 0.95, 0.55, 0.4]
HOUR_WEIGHT = [1, 1, 1, 1, 1, 1, 2, 4, 7, 10, 11, 11, 10, 9, 9, 9, 8, 7, 6, 5, 4, 3, 2, 1]
SURVEY_SHARE = 0.4
ANSWER_SHARE = 0.45

TICKET_COLUMNS = (
    "id", "public_number", "year", "sequence", "tracking_code", "channel", "status",
    "category_id", "department_id", "description", "address", "macrosector_id",
    "contact_name", "contact_email", "contact_phone", "consent_at", "created_by_id",
    "assigned_to_id", "created_at", "updated_at", "first_response_at", "resolved_at",
    "closed_at", "first_response_due_at", "resolution_due_at", "clock_kind",
    "resolution_warn_at", "warned_at", "breached_at", "first_response_business_seconds",
    "resolution_business_seconds",
)
EVENT_COLUMNS = ("id", "ticket_id", "kind", "visibility", "actor_kind", "actor_id", "body",
                 "from_status", "to_status", "to_department_id", "created_at")
SURVEY_COLUMNS = ("id", "ticket_id", "nonce", "invited_at", "expires_at", "responded_at",
                  "resolved_answer", "rating", "courtesy_rating", "time_rating", "comment",
                  "reopen_requested", "reopened", "flagged")


class RealRequestsPresent(Exception):
    """The database holds requests that this generator did not write."""

    def __init__(self, count: int) -> None:
        super().__init__(count)
        self.count = count


@dataclass
class SyntheticSummary:
    requests: int = 0
    events: int = 0
    surveys: int = 0
    answered: int = 0
    catalogue_created: bool = False
    years: dict[int, int] = field(default_factory=dict)

    def describe(self) -> str:
        years = ", ".join(f"{y}: {n}" for y, n in sorted(self.years.items()))
        return (f"Synthetic history: {self.requests} requests ({years}), {self.events} events, "
                f"{self.surveys} resolution surveys ({self.answered} answered)."
                + (" Demo catalogue created." if self.catalogue_created else ""))


def real_request_count(session: Session) -> int:
    """Requests whose contact email is not on the synthetic domain."""
    email = Ticket.__table__.c.contact_email
    return session.scalar(
        sa.select(sa.func.count()).select_from(Ticket.__table__)
        .where(sa.or_(email.is_(None), ~email.like(f"%@{SYNTHETIC_DOMAIN}")))) or 0


def seed_synthetic(session: Session, *, requests: int, years: int = 3, seed: int = 42,
                   force: bool = False, now: datetime | None = None,
                   progress: Callable[[int], None] | None = None) -> SyntheticSummary:
    """Write ``requests`` synthetic requests spread over the last ``years`` years.

    Flushes/executes in the session's transaction, never commits. ``progress``
    is called with the number of requests written by each batch.

    :raise RealRequestsPresent: if real requests exist and ``force`` is False.
    """
    if requests < 0 or years < 1:
        raise ValueError("requests must be >= 0 and years >= 1")
    summary = SyntheticSummary()
    if not session.scalar(sa.select(sa.func.count()).select_from(Department)):
        seed_demo(session, request_count=0)
        summary.catalogue_created = True
    real = real_request_count(session)
    if real and not force:
        raise RealRequestsPresent(real)
    now = now or utcnow()
    rng = random.Random(seed)
    plan = _Plan(session, rng, now)
    moments = _creation_moments(rng, requests, now, years)
    writer = _Writer(session)
    try:
        for start in range(0, requests, BATCH):
            chunk = moments[start:start + BATCH]
            tickets, events, surveys = plan.build(chunk, summary)
            writer.write([(Ticket.__table__, TICKET_COLUMNS, tickets),
                          (TicketEvent.__table__, EVENT_COLUMNS, events),
                          (ResolutionSurvey.__table__, SURVEY_COLUMNS, surveys)])
            if progress:
                progress(len(chunk))
    finally:
        writer.close()
    plan.finish(summary)
    writer.finish()
    return summary


def _creation_moments(rng: random.Random, count: int, now: datetime,
                      years: int) -> list[datetime]:
    """``count`` creation instants over ``years`` years up to ``now``, in order."""
    first_day = (now - timedelta(days=365 * years)).astimezone(LOCAL_TZ).date() + timedelta(1)
    last_day = now.astimezone(LOCAL_TZ).date()
    days = [first_day + timedelta(n) for n in range((last_day - first_day).days + 1)]
    weights = [MONTH_WEIGHT[d.month] * WEEKDAY_WEIGHT[d.weekday()] for d in days]
    picked_days = rng.choices(days, weights=weights, k=count)
    hours = rng.choices(range(24), weights=HOUR_WEIGHT, k=count)
    moments = []
    for day, hour in zip(picked_days, hours, strict=True):
        local = datetime(day.year, day.month, day.day, hour, rng.randrange(60),
                         rng.randrange(60), tzinfo=LOCAL_TZ)
        moment = local.astimezone(UTC)
        moments.append(min(moment, now - timedelta(minutes=1)))
    moments.sort()
    return moments


class _Plan:
    """Everything needed to turn creation instants into rows."""

    def __init__(self, session: Session, rng: random.Random, now: datetime) -> None:
        self.session = session
        self.rng = rng
        self.code_bits: list[int] = []  # tracking codes stay unguessable: OS randomness
        self.now = now
        self.calendar = load_calendar(session)
        week = datetime(2024, 1, 1, tzinfo=LOCAL_TZ)  # a week without holidays
        self.office_share = self.calendar.business_seconds_between(
            week, week + timedelta(days=7)) / (7 * 86400)
        self.categories = list(session.scalars(
            sa.select(Category).where(Category.active.is_(True)).order_by(Category.id)))
        self.policies = {c.id: effective_policy(c) for c in self.categories}
        self.macrosector_ids = list(session.scalars(sa.select(Macrosector.id)))
        staff = session.scalars(sa.select(User).where(User.role.in_(
            [Role.AGENT, Role.SUPERVISOR]))).all()
        fallback = session.scalars(sa.select(User.id).order_by(User.id)).first()
        self.agents: dict[int, list[int]] = {}
        for user in staff:
            for dept in user.departments:
                self.agents.setdefault(dept.id, []).append(user.id)
        self.fallback_agent = fallback
        counters = session.execute(sa.select(YearCounter.year, YearCounter.last_value)).all()
        self.sequences: dict[int, int] = dict(counters)  # type: ignore[arg-type]
        self.used_codes: set[str] = set(session.scalars(sa.select(Ticket.tracking_code)))
        self.next_ticket = self._next_id(Ticket)
        self.next_event = self._next_id(TicketEvent)
        self.next_survey = self._next_id(ResolutionSurvey)
        self.due_cache: dict[tuple, tuple] = {}
        self.channels = [c for c, _ in CHANNEL_MIX]
        self.channel_cum = list(itertools.accumulate(w for _, w in CHANNEL_MIX))
        self.category_picks = [
            (c.id, c.department_id, self.agents.get(c.department_id) or [self.fallback_agent])
            for c in self.categories]
        # Names as shown, and as they go in the synthetic email address.
        self.names = (FIRST_NAMES, LAST_NAMES,
                      [n.lower().translate(_ASCII) for n in FIRST_NAMES],
                      [n.lower().translate(_ASCII) for n in LAST_NAMES])

    def _next_id(self, model) -> int:
        return (self.session.scalar(sa.select(sa.func.max(model.id))) or 0) + 1

    def _tracking_code(self) -> str:
        """A fresh code: 55 bits from the OS (``tracking.generate_code``'s strength),
        the Luhn mod 32 check character from precomputed tables."""
        while True:
            if not self.code_bits:
                data = os.urandom(8 * BATCH)
                self.code_bits = [int.from_bytes(data[i:i + 8], "big") >> 9
                                  for i in range(0, len(data), 8)]
            code = _code_from_bits(self.code_bits.pop())
            if code not in self.used_codes:
                self.used_codes.add(code)
                return code

    def _dues(self, category_id: int, created: datetime, local: datetime) -> tuple:
        """(first response due, resolution due, warn at, kind), from the real calendar.

        The calendar is asked once per (policy, local date), for noon of that
        date; other instants of the day are shifted by their distance to noon.
        Asking it per request costs about 2 ms, too slow for a million.
        """
        policy = self.policies[category_id]
        key = (policy, local.date())
        cached = self.due_cache.get(key)
        if cached is None:
            anchor = local.replace(hour=12, minute=0, second=0, microsecond=0)
            first = due_after(self.calendar, anchor, policy.first_response_target,
                              policy.first_response_unit)
            resolution = due_after(self.calendar, anchor, policy.resolution_target,
                                   policy.resolution_unit)
            warn = warn_instant(self.calendar, anchor, resolution, policy.warn_percent)
            cached = (first, resolution, warn, policy.kind.value, anchor)
            self.due_cache[key] = cached
        first, resolution, warn, kind, anchor = cached
        shift = created - anchor
        return (first and first + shift, resolution and resolution + shift,
                warn and warn + shift, kind)

    def build(self, moments: list[datetime], summary: SyntheticSummary):
        rng, now = self.rng, self.now
        tickets: list[tuple] = []
        events: list[tuple] = []
        surveys: list[tuple] = []

        # The hot loop of the generator: random picks by index, events as plain
        # tuples, no per-row helper calls (about 40 µs per request).
        rand = rng.random
        event_id = self.next_event
        add_event = events.append
        pick_category = self.category_picks
        n_categories = len(pick_category)
        channel_cum, channel_total = self.channel_cum, self.channel_cum[-1]
        macrosectors = self.macrosector_ids
        n_macro = len(macrosectors)
        names = self.names
        n_first, n_last = len(names[0]), len(names[1])
        office_share = self.office_share
        sequences, years = self.sequences, summary.years
        hour = timedelta(hours=1)
        for created in moments:
            category_id, dept, agents = pick_category[int(rand() * n_categories)]
            agent = agents[int(rand() * len(agents))]
            channel = self.channels[bisect.bisect(channel_cum, rand() * channel_total)]
            local = created.astimezone(LOCAL_TZ)
            year = local.year
            sequence = sequences.get(year, 0) + 1
            sequences[year] = sequence
            years[year] = years.get(year, 0) + 1
            ticket_id = self.next_ticket
            self.next_ticket += 1
            first_i, last_i = int(rand() * n_first), int(rand() * n_last)
            staff_entry = channel in ("phone", "counter")

            add_event((event_id, ticket_id, "created", "public",
                       "staff" if staff_entry else "resident", agent if staff_entry else None,
                       "Categoría elegida", None, "received", dept, created))
            event_id += 1
            # How far it got: older requests got further; a backlog stays open.
            age_days = (now - created).days
            if age_days < 3:
                reach = (0, 0, 1)[int(rand() * 3)]
            elif age_days < 20:
                reach = (0, 1, 2, 2, 3, 3, 4)[int(rand() * 7)]
            else:  # weights 3, 5, 30, 62
                r = rand() * 100
                reach = 1 if r < 3 else 2 if r < 8 else 3 if r < 38 else 4
            status, moment = "received", created
            first_response = resolved = closed = None
            for step in _STEPS[:reach]:
                # Hours to the next step: exponential (mean 30 h to review, 60 h after).
                gap = -math.log(1.0 - rand()) * (30 if step == "in_review" else 60) + 0.5
                moment = min(moment + gap * hour, now)
                if step == "resolved":
                    add_event((event_id, ticket_id, "public_reply", "public", "staff", agent,
                               REPLIES[int(rand() * len(REPLIES))], None, None, None, moment))
                    event_id += 1
                    resolved = moment
                elif step == "closed":
                    closed = moment
                if first_response is None:
                    first_response = moment
                add_event((event_id, ticket_id, "status_changed", "public", "staff", agent,
                           None, status, step, None, moment))
                event_id += 1
                status = step
            if status == "in_progress" and rand() < 0.1:
                moment = min(moment + (2 + 46 * rand()) * hour, now)
                add_event((event_id, ticket_id, "status_changed", "public", "staff", agent,
                           None, status, "waiting_resident", None, moment))
                event_id += 1
                status = "waiting_resident"
            first_due, resolution_due, warn_at, clock_kind = self._dues(
                category_id, created, local)
            stop = resolved or now
            warned = warn_at if warn_at is not None and warn_at <= stop else None
            breached = resolution_due if resolution_due is not None and \
                resolution_due <= stop else None
            first_name, last_name = names[0][first_i], names[1][last_i]
            tickets.append((
                ticket_id, f"{year}-{sequence:06d}", year, sequence, self._tracking_code(),
                channel, status, category_id, dept,
                _DESCRIPTIONS[int(rand() * len(_DESCRIPTIONS))],
                f"{STREETS[int(rand() * len(STREETS))]} {100 + int(rand() * 9900)}",
                macrosectors[int(rand() * n_macro)] if n_macro else None,
                f"{first_name} {last_name}",
                f"{names[2][first_i]}.{names[3][last_i]}.{ticket_id}@{SYNTHETIC_DOMAIN}",
                f"+56 9 {1000 + int(rand() * 9000)} {1000 + int(rand() * 9000)}", created,
                agent if staff_entry else None, agent if reach >= 2 else None,
                created, moment, first_response, resolved, closed, first_due, resolution_due,
                clock_kind, warn_at, warned, breached,
                int((first_response - created).total_seconds() * office_share)
                if first_response else None,
                int((resolved - created).total_seconds() * office_share) if resolved else None,
            ))
            if resolved is not None and rand() < SURVEY_SHARE:
                self.next_event = event_id
                surveys.append(self._survey(ticket_id, resolved, closed, add_event))
                event_id = self.next_event
                summary.surveys += 1
                summary.answered += surveys[-1][5] is not None
        self.next_event = event_id
        summary.requests += len(tickets)
        summary.events += len(events)
        return tickets, events, surveys

    def _survey(self, ticket_id: int, resolved: datetime, closed: datetime | None,
                add_event: Callable[[tuple], None]) -> tuple:
        rng = self.rng
        survey_id = self.next_survey
        self.next_survey += 1
        expires = resolved + timedelta(days=14)
        answered_at = resolved + timedelta(hours=rng.uniform(1, 96))
        latest = min(closed or self.now, expires, self.now)
        if rng.random() >= ANSWER_SHARE or answered_at >= latest:
            return (survey_id, ticket_id, secrets.token_hex(12), resolved, expires,
                    None, None, None, None, None, None, False, False, False)
        rating = rng.choices([1, 2, 3, 4, 5], weights=[8, 10, 17, 35, 30])[0]
        answer = ("yes" if rating >= 4 else "partly") if rating >= 3 else \
            rng.choice(["no", "partly"])
        unhappy = answer == "no" or rating <= 2
        add_event((self.next_event, ticket_id, "survey_answered", "internal", "resident", None,
                   f"Resuelta: {answer}; nota {rating}", None, None, None, answered_at))
        self.next_event += 1
        return (survey_id, ticket_id, secrets.token_hex(12), resolved, expires, answered_at,
                answer, rating, max(1, min(5, rating + rng.choice([0, 0, 1, -1]))),
                max(1, min(5, rating + rng.choice([0, -1, 1]))), None, False, False, unhappy)

    def finish(self, summary: SyntheticSummary) -> None:
        """Bring ``year_counters`` up to the last number written per year."""
        table = YearCounter.__table__
        for year in summary.years:
            value = self.sequences[year]
            updated = self.session.execute(
                sa.update(table).where(table.c.year == year).values(last_value=value))
            if not updated.rowcount:
                self.session.execute(sa.insert(table).values(year=year, last_value=value))


class _Writer:
    """Bulk rows: COPY on PostgreSQL from a writer thread, executemany INSERT elsewhere.

    On PostgreSQL ``write`` hands a batch to the thread (at most two batches
    wait, so memory stays bounded) and returns at once; the thread is the only
    user of the connection until ``close``. Errors of the thread come back on
    the next ``write`` or on ``close``.
    """

    def __init__(self, session: Session) -> None:
        self.session = session
        self.connection = session.connection()
        self.postgres = self.connection.dialect.name == "postgresql"
        self.tables: set[str] = set()
        self.error: BaseException | None = None
        self.thread: threading.Thread | None = None
        if self.postgres:
            self.raw = self.connection.connection.driver_connection
            self.replication_role: str | None = None
            with self.raw.cursor() as cursor:
                cursor.execute("SELECT current_setting('is_superuser'), "
                               "current_setting('session_replication_role')")
                superuser, role = cursor.fetchone()
                if superuser == "on":
                    # Foreign-key triggers off during the load only (LOCAL: a failure
                    # rolls it back with the rows; ``close`` puts it back). Every id
                    # written is taken from the database or handed out here.
                    cursor.execute("SET LOCAL session_replication_role = replica")
                    self.replication_role = role
            self.batches: queue.Queue = queue.Queue(maxsize=2)
            self.thread = threading.Thread(target=self._run, name="synthetic-copy",
                                           daemon=True)
            self.thread.start()

    def write(self, batch: list[tuple[sa.Table, tuple[str, ...], list[tuple]]]) -> None:
        for table, _columns, rows in batch:
            if rows:
                self.tables.add(table.name)
        if not self.postgres:
            for table, columns, rows in batch:
                self._insert(table, columns, rows)
            return
        while True:
            self._raise()
            try:
                self.batches.put(batch, timeout=1)
                return
            except queue.Full:
                continue

    def _run(self) -> None:
        try:
            while (batch := self.batches.get()) is not None:
                for table, columns, rows in batch:
                    if rows:
                        self._copy(table, columns, rows)
        except BaseException as exc:  # handed to the main thread
            self.error = exc
            while self.batches.get() is not None:  # let the producer finish quickly
                pass

    def _copy(self, table: sa.Table, columns: tuple[str, ...], rows: list[tuple]) -> None:
        with self.raw.cursor() as cursor, cursor.copy(
                f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
            write_row = copy.write_row
            for row in rows:
                write_row(row)

    def _insert(self, table: sa.Table, columns: tuple[str, ...], rows: list[tuple]) -> None:
        if not rows:
            return
        # SQLite stores naive UTC text; convert like UTCDateTime does, only the
        # instants (every "..._at" column).
        instants = [i for i, name in enumerate(columns) if name.endswith("_at")]
        prepared = []
        for row in rows:
            values = list(row)
            for i in instants:
                if values[i] is not None:
                    values[i] = _sqlite_value(values[i])
            prepared.append(tuple(values))
        self.connection.exec_driver_sql(
            f"INSERT INTO {table.name} ({', '.join(columns)}) "
            f"VALUES ({', '.join('?' for _ in columns)})", prepared)

    def _raise(self) -> None:
        if self.error is not None:
            raise RuntimeError("synthetic COPY failed") from self.error

    def close(self) -> None:
        """Wait for the writer thread to write every batch handed to it."""
        if self.thread is not None:
            self.batches.put(None)
            self.thread.join()
            self.thread = None
            self._raise()
            if self.replication_role is not None:  # foreign-key triggers back on
                with self.raw.cursor() as cursor:
                    cursor.execute("SELECT set_config('session_replication_role', %s, true)",
                                   (self.replication_role,))

    def finish(self) -> None:
        if self.postgres:  # explicit ids were written: move the id sequences past them
            for name in sorted(self.tables):
                self.connection.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                    f"(SELECT max(id) FROM {name}))")
        for name in sorted(self.tables):  # fresh statistics for the planner
            self.connection.exec_driver_sql(f"ANALYZE {name}")


def _sqlite_value(value):
    """Naive UTC text, exactly as SQLAlchemy's SQLite DateTime stores it (UTCDateTime)."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
    return value


def _luhn_double(value: int) -> int:
    return sum(divmod(2 * value, len(ALPHABET)))


# A code body is 11 characters; from the left, even positions are doubled by the
# Luhn mod 32 of ``stdnum.luhn.calc_check_digit``. Ten bits give two characters.
_PAIRS = [(ALPHABET[x >> 5] + ALPHABET[x & 31], _luhn_double(x >> 5) + (x & 31))
          for x in range(1024)]
_LAST = [(ALPHABET[v], _luhn_double(v)) for v in range(32)]
assert RANDOM_LENGTH == 11


def _code_from_bits(bits: int) -> str:
    """The tracking code (body and check character) of 55 random bits."""
    (a, ca), (b, cb), (c, cc), (d, cd), (e, ce) = (
        _PAIRS[(bits >> shift) & 1023] for shift in (45, 35, 25, 15, 5))
    last, cl = _LAST[bits & 31]
    return f"{a}{b}{c}{d}{e}{last}{ALPHABET[-(ca + cb + cc + cd + ce + cl) % 32]}"


_ASCII = str.maketrans("áéíóúñ", "aeioun")
_STEPS = ("in_review", "in_progress", "resolved", "closed")
_DESCRIPTIONS = [
    "La luminaria frente a mi casa lleva tres noches apagada.",
    "Hay un hoyo grande en la calzada que ya rompió varias ruedas.",
    "Dejaron un colchón y un sillón botados en la esquina hace una semana.",
    "Se formó un microbasural en el sitio eriazo junto a la cancha.",
    "El semáforo de la esquina está apagado desde ayer en la tarde.",
    "Un árbol tapa completamente la luminaria del pasaje.",
    "Hay una jauría de perros sueltos que persigue a los niños.",
    "Un taller mecánico trabaja con ruido hasta muy tarde.",
    "La vereda está levantada por raíces y mi mamá se cayó.",
    "Hay un auto abandonado hace dos meses, sin patente.",
    "Con la lluvia se tapó el sumidero y la calle se inunda.",
    "El paso de cebra frente al colegio está completamente borrado.",
]


