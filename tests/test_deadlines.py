"""SLA clocks on requests: due dates at intake, pause/resume, the Ley 20.285
extension, the sweep (warn once, breach once, also when run concurrently) and
auto-close. Hand checks in comments use Mon-Thu 08:30-17:30, Fri 08:30-16:30,
America/Santiago (-03 in November 2026)."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from app.accounts.models import Role
from app.catalog.models import Department
from app.catalog.sla import PolicyKind, SlaPolicy, TargetUnit
from app.deadlines.clock import ExtensionRefused, extend_legal_deadline, reset_stale_alerts
from app.deadlines.models import HolidayOverride, OverrideKind
from app.deadlines.sweep import auto_close_resolved, sweep_deadlines
from app.domain import DomainError, ValidationFailed
from app.extensions import db
from app.notifications.models import OutboxMessage
from app.notifications.preferences import NewTicketMode, save_preference
from app.tickets import lifecycle, timeline
from app.tickets.models import ActorKind, EventKind, EventVisibility, Status, Ticket, TicketEvent
from tests.factories import make_category, make_department, make_ticket, make_user

SCL = ZoneInfo("America/Santiago")


def local(*args) -> datetime:
    return datetime(*args, tzinfo=SCL)


def service_policy(session, **kwargs) -> SlaPolicy:
    kwargs.setdefault("name", f"Servicio {kwargs.get('resolution_target', 5)}")
    kwargs.setdefault("kind", PolicyKind.SERVICE)
    kwargs.setdefault("first_response_target", 8)
    kwargs.setdefault("first_response_unit", TargetUnit.BUSINESS_HOURS)
    kwargs.setdefault("resolution_target", 5)
    kwargs.setdefault("resolution_unit", TargetUnit.BUSINESS_DAYS)
    policy = SlaPolicy(**kwargs)
    session.add(policy)
    session.flush()
    return policy


def legal_category(session, department=None):
    policy = SlaPolicy(name="Transparencia", kind=PolicyKind.LEY_20285,
                       resolution_unit=TargetUnit.BUSINESS_DAYS)
    return make_category(session, department, name="Acceso a la información", sla_policy=policy)


def outbox(session, **filters) -> list[OutboxMessage]:
    query = sa.select(OutboxMessage).order_by(OutboxMessage.id)
    for key, value in filters.items():
        query = query.where(getattr(OutboxMessage, key) == value)
    return list(session.scalars(query))


def subjects(session, start: str) -> list[tuple[str, str]]:
    return [(m.recipient, m.subject) for m in outbox(session) if m.subject.startswith(start)]


# --- due dates at intake -----------------------------------------------------------

def test_intake_sets_due_dates_and_warning_from_the_category_policy(session):
    category = make_category(session, sla_policy=service_policy(session))
    ticket = make_ticket(session, category, now=local(2026, 11, 12, 15))  # Thursday
    # First response, 8 office hours: Thu 15:00-17:30 (2.5 h) + Fri 08:30 + 5.5 h = 14:00.
    assert ticket.first_response_due_at == local(2026, 11, 13, 14).astimezone(UTC)
    # Resolution, 5 business days: Fri 13, Mon 16, Tue 17, Wed 18, Thu 19 -> 17:30.
    assert ticket.resolution_due_at == local(2026, 11, 19, 17, 30)
    # 75 % of 46.5 office hours (2.5 + 8 + 9 + 9 + 9 + 9) = 34 h 52.5 min:
    # Thu 2.5, Fri 8, Mon 9, Tue 9 -> 28.5 h, then Wed 08:30 + 6 h 22.5 min.
    assert ticket.resolution_warn_at == local(2026, 11, 18, 14, 52, 30)
    assert ticket.clock_kind == "service"


def test_category_without_policy_runs_the_configured_default(session):
    ticket = make_ticket(session, now=local(2026, 11, 12, 15))
    # 16 office hours: Thu 2.5 + Fri 8 = 10.5, Mon 08:30 + 5.5 h = 14:00.
    assert ticket.first_response_due_at == local(2026, 11, 16, 14)
    # 10 business days: Fri 13 .. Thu 26 Nov, 17:30.
    assert ticket.resolution_due_at == local(2026, 11, 26, 17, 30)


def test_policy_in_business_hours_for_resolution(session):
    policy = service_policy(session, resolution_target=12,
                            resolution_unit=TargetUnit.BUSINESS_HOURS)
    ticket = make_ticket(session, make_category(session, sla_policy=policy),
                         now=local(2026, 11, 13, 15))  # Friday
    # Fri 15:00-16:30 (1.5 h) + Mon 9 h + Tue 08:30 + 1.5 h = 10:00.
    assert ticket.resolution_due_at == local(2026, 11, 17, 10)


def test_a_municipal_closure_from_the_override_table_moves_new_due_dates(session):
    session.add(HolidayOverride(day=date(2026, 11, 13), name="Aniversario comunal",
                                kind=OverrideKind.CLOSURE))
    session.flush()
    category = make_category(session, sla_policy=service_policy(session))
    ticket = make_ticket(session, category, now=local(2026, 11, 12, 15))
    # Fri 13 closed: Mon 16 (1), Tue 17 (2), Wed 18 (3), Thu 19 (4), Fri 20 (5), 16:30.
    assert ticket.resolution_due_at == local(2026, 11, 20, 16, 30)
    # First response, 8 office hours: Thu 2.5 h, then Mon 08:30 + 5.5 h = 14:00.
    assert ticket.first_response_due_at == local(2026, 11, 16, 14)


# --- Ley 20.285 ---------------------------------------------------------------------

def test_ley_20285_request_gets_20_business_days_and_one_extension(session):
    staff = make_user(session, Role.MANAGER)
    ticket = make_ticket(session, legal_category(session), now=local(2026, 9, 17, 15))
    assert ticket.clock_kind == "ley_20285"
    assert ticket.resolution_due_at == local(2026, 10, 19, 17, 30)  # see test_calendar
    before = len(outbox(session))

    event = extend_legal_deadline(session, ticket, actor=staff, now=local(2026, 10, 1, 10),
                                  reason="Volumen de documentos a revisar.")
    assert ticket.resolution_due_at == local(2026, 11, 2, 17, 30)  # 10 more business days
    assert ticket.deadline_extended_at is not None
    assert event.kind is EventKind.DEADLINE_CHANGED
    assert event.visibility is EventVisibility.PUBLIC
    assert "Volumen de documentos" in event.body and "2 de noviembre de 2026" in event.body
    mails = outbox(session)[before:]
    assert [(m.recipient, m.subject) for m in mails] == [
        ("vecina@example.cl", f"Se prorrogó el plazo de tu solicitud {ticket.public_number}")]
    assert "19 de octubre de 2026, 17:30" in mails[0].body_text
    assert "2 de noviembre de 2026, 17:30" in mails[0].body_text

    with pytest.raises(DomainError, match="ya fue prorrogado"):
        extend_legal_deadline(session, ticket, actor=staff, now=local(2026, 10, 2, 10),
                              reason="Otra vez.")
    assert ticket.resolution_due_at == local(2026, 11, 2, 17, 30)
    assert len(outbox(session)) == before + 1


@pytest.mark.parametrize("reason", ["", "   ", None, "x" * 2001])
def test_extension_needs_a_reason(session, reason):
    ticket = make_ticket(session, legal_category(session), now=local(2026, 9, 17, 15))
    with pytest.raises(ValidationFailed) as error:
        extend_legal_deadline(session, ticket, actor=make_user(session, Role.MANAGER),
                              reason=reason, now=local(2026, 9, 21, 10))
    assert "reason" in error.value.field_errors
    assert ticket.deadline_extended_at is None


def test_extension_is_refused_for_service_requests_and_after_the_deadline(session):
    staff = make_user(session, Role.MANAGER)
    service = make_ticket(session, now=local(2026, 9, 17, 15))
    with pytest.raises(ExtensionRefused, match="Ley 20.285"):
        extend_legal_deadline(session, service, actor=staff, reason="Motivo.",
                              now=local(2026, 9, 21, 10))
    legal = make_ticket(session, legal_category(session), now=local(2026, 9, 17, 15))
    with pytest.raises(ExtensionRefused, match="venció"):
        extend_legal_deadline(session, legal, actor=staff, reason="Motivo.",
                              now=local(2026, 10, 20, 9))


# --- pause and resume ----------------------------------------------------------------

def test_waiting_for_the_resident_pauses_the_clock_and_pushes_the_due_dates(session):
    staff = make_user(session, Role.MANAGER)
    category = make_category(session, sla_policy=service_policy(session))
    ticket = make_ticket(session, category, now=local(2026, 11, 12, 15))
    old_warn = ticket.resolution_warn_at
    lifecycle.transition(session, ticket, Status.WAITING_RESIDENT, actor=staff,
                         note="¿Nos indica el número de la casa?", now=local(2026, 11, 13, 9, 30))
    # First response was that status change: Thu 2.5 h + Fri 1 h.
    assert ticket.first_response_business_seconds == 3.5 * 3600
    assert ticket.paused_since == local(2026, 11, 13, 9, 30)

    lifecycle.transition(session, ticket, Status.IN_PROGRESS, actor=staff,
                         now=local(2026, 11, 16, 9, 30))
    # Paused: Fri 09:30-16:30 (7 h) + Mon 08:30-09:30 (1 h) = 8 h of office time.
    assert ticket.paused_business_seconds == 8 * 3600
    assert ticket.paused_since is None
    # Due Thu 19 17:30 + 8 h: Fri 20 08:30 + 8 h = 16:30, the Friday close.
    assert ticket.resolution_due_at == local(2026, 11, 20, 16, 30)
    assert ticket.resolution_warn_at > old_warn
    line = ticket.events[-1]
    assert line.kind is EventKind.DEADLINE_CHANGED and line.visibility is EventVisibility.PUBLIC
    assert "8 h" in line.body and "20 de noviembre de 2026, 16:30" in line.body

    lifecycle.transition(session, ticket, Status.RESOLVED, actor=staff,
                         now=local(2026, 11, 17, 10, 30))
    # Intake to resolution: Thu 2.5 + Fri 8 + Mon 9 + Tue 2 = 21.5 h, minus 8 h paused.
    assert ticket.resolution_business_seconds == 13.5 * 3600


def test_public_reply_stamps_the_business_time_to_first_response(session):
    ticket = make_ticket(session, now=local(2026, 11, 13, 15))  # Friday
    timeline.add_public_reply(session, ticket, author=make_user(session, Role.MANAGER),
                              body="Vamos en camino.", now=local(2026, 11, 16, 9))
    # Fri 15:00-16:30 (1.5 h) + Mon 08:30-09:00 (0.5 h).
    assert ticket.first_response_business_seconds == 2 * 3600


def test_reopening_a_resolved_request_pushes_its_due_date_by_the_resolved_time(session):
    staff = make_user(session, Role.MANAGER)
    category = make_category(session, sla_policy=service_policy(session))
    ticket = make_ticket(session, category, now=local(2026, 11, 12, 15))
    lifecycle.transition(session, ticket, Status.RESOLVED, actor=staff,
                         now=local(2026, 11, 13, 10))
    lifecycle.transition(session, ticket, Status.IN_PROGRESS, actor=staff,
                         now=local(2026, 11, 13, 12))
    assert ticket.paused_business_seconds == 2 * 3600
    # Thu 19 17:30 + 2 h: Fri 20 10:30.
    assert ticket.resolution_due_at == local(2026, 11, 20, 10, 30)
    assert ticket.resolution_business_seconds is None


# --- the SLA sweep ------------------------------------------------------------------

def _department_with_staff(session):
    department = make_department(session, email="alumbrado@muni.example.cl")
    agent = make_user(session, Role.AGENT, [department], email="agente@muni.example.cl")
    supervisor = make_user(session, Role.SUPERVISOR, [department], email="jefa@muni.example.cl")
    make_user(session, Role.AGENT, [make_department(session)], email="otro@muni.example.cl")
    return department, agent, supervisor


def test_sweep_warns_once_at_the_threshold_and_breaches_once_at_the_due_date(session):
    department, _agent, _supervisor = _department_with_staff(session)
    # No first-response target: only the resolution deadline is swept here.
    category = make_category(session, department, sla_policy=service_policy(
        session, first_response_target=None))
    ticket = make_ticket(session, category, now=local(2026, 11, 12, 15))
    session.commit()

    assert sweep_deadlines(session, local(2026, 11, 18, 14)).warned == 0  # before 14:52:30
    report = sweep_deadlines(session, local(2026, 11, 18, 15))
    assert (report.warned, report.breached) == (1, 0)
    n = ticket.public_number
    assert subjects(session, "Plazo") == [
        ("agente@muni.example.cl", f"Plazo por vencer: solicitud {n}"),
        ("jefa@muni.example.cl", f"Plazo por vencer: solicitud {n}")]
    body = outbox(session, recipient="agente@muni.example.cl")[0].body_text
    assert f"http://conectados.test/gestion/solicitudes/{ticket.id}" in body
    assert sweep_deadlines(session, local(2026, 11, 18, 16)).warned == 0  # not twice

    assert sweep_deadlines(session, local(2026, 11, 19, 17, 29)).breached == 0
    assert sweep_deadlines(session, local(2026, 11, 19, 17, 30)).breached == 1
    assert sweep_deadlines(session, local(2026, 11, 20, 9)).breached == 0
    assert subjects(session, "Plazo vencido") == [
        ("jefa@muni.example.cl", f"Plazo vencido: solicitud {n}")]
    alerts = [e for e in ticket.events if e.kind is EventKind.SLA_ALERT]
    assert len(alerts) == 2 and all(e.visibility is EventVisibility.INTERNAL for e in alerts)


def test_breach_goes_to_the_department_address_when_it_has_no_supervisor(session):
    department = make_department(session, email="dideco@muni.example.cl")
    ticket = make_ticket(session, make_category(session, department),
                         now=local(2026, 11, 12, 15))
    sweep_deadlines(session, ticket.resolution_due_at + timedelta(minutes=1))
    assert subjects(session, "Plazo vencido") == [
        ("dideco@muni.example.cl", f"Plazo vencido: solicitud {ticket.public_number}")]


def test_sweep_skips_requests_waiting_for_the_resident_and_resolved_ones(session):
    department, agent, _supervisor = _department_with_staff(session)
    waiting = make_ticket(session, make_category(session, department),
                          now=local(2026, 11, 12, 15))
    lifecycle.transition(session, waiting, Status.WAITING_RESIDENT, actor=agent,
                         note="Falta la dirección.", now=local(2026, 11, 12, 16))
    resolved = make_ticket(session, make_category(session, department),
                           now=local(2026, 11, 12, 15))
    lifecycle.transition(session, resolved, Status.RESOLVED, actor=agent,
                         now=local(2026, 11, 12, 16))
    report = sweep_deadlines(session, local(2026, 12, 31, 12))
    assert (report.warned, report.breached) == (0, 0)
    assert subjects(session, "Plazo") == []


def test_two_concurrent_sweeps_send_each_email_exactly_once(app, database):
    """Two threads, two connections, the same ``now``. On SQLite writes are
    serialised by the database lock, so this runs them one after the other."""
    with database() as session:
        department, _agent, _supervisor = _department_with_staff(session)
        category = make_category(session, department)
        for _ in range(15):
            make_ticket(session, category, now=local(2026, 11, 12, 15), notify=False)
        session.commit()
    now = local(2026, 12, 31, 12)  # everything past due
    concurrent = _engine_name(app) == "postgresql"
    barrier = threading.Barrier(2 if concurrent else 1)
    errors: list[BaseException] = []

    def sweep():
        try:
            with app.app_context():
                barrier.wait(timeout=10)
                sweep_deadlines(db.session, now)
                db.session.commit()
                db.session.remove()
        except BaseException as exc:  # reported to the test below
            errors.append(exc)

    if concurrent:
        threads = [threading.Thread(target=sweep) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
    else:
        sweep()
        sweep()
    assert errors == []
    with database() as session:
        mails = subjects(session, "Plazo vencido")
        assert len(mails) == 15
        assert len(set(mails)) == 15  # one per request, none twice
        assert session.scalar(sa.select(sa.func.count()).select_from(Ticket)
                              .where(Ticket.breached_at.is_(None))) == 0
        # The default policy's first-response deadline (16 office hours) too.
        first = subjects(session, "Plazo de primera respuesta vencido")
        assert len(first) == 15 and len(set(first)) == 15
        assert session.scalar(sa.select(sa.func.count()).select_from(Ticket)
                              .where(Ticket.first_response_breached_at.is_(None))) == 0


# --- the first-response deadline -----------------------------------------------------

def test_sweep_warns_and_escalates_the_first_response_deadline_once_each(session):
    department, agent, _supervisor = _department_with_staff(session)
    save_preference(session, agent, new_ticket=NewTicketMode.OFF, assigned=True,
                    sla_warning=False, sla_breach=True)  # the agent opted out of warnings
    category = make_category(session, department, sla_policy=service_policy(session))
    ticket = make_ticket(session, category, now=local(2026, 11, 12, 15))
    # 8 office hours: Thu 15:00-17:30 (2.5 h) + Fri 08:30 + 5.5 h = Fri 14:00;
    # the warning at 75 % (6 h): Fri 08:30 + 3.5 h = 12:00.
    assert ticket.first_response_due_at == local(2026, 11, 13, 14)
    assert ticket.first_response_warn_at == local(2026, 11, 13, 12)
    session.commit()
    n = ticket.public_number

    assert sweep_deadlines(session, local(2026, 11, 13, 11, 59)).first_response_warned == 0
    report = sweep_deadlines(session, local(2026, 11, 13, 12))
    assert (report.first_response_warned, report.first_response_breached) == (1, 0)
    assert (report.warned, report.breached) == (0, 0)  # resolution is due on the 19th
    assert subjects(session, "Plazo") == [
        ("jefa@muni.example.cl", f"Plazo de primera respuesta por vencer: solicitud {n}")]
    mail = outbox(session, recipient="jefa@muni.example.cl")[-1]
    assert "plazo de primera respuesta y nadie del equipo le ha respondido" in mail.body_text
    assert "plazo de primera respuesta y nadie del equipo le ha respondido" in mail.body_html
    assert sweep_deadlines(session, local(2026, 11, 13, 13)).first_response_warned == 0

    assert sweep_deadlines(session, local(2026, 11, 13, 13, 59)).first_response_breached == 0
    assert sweep_deadlines(session, local(2026, 11, 13, 14)).first_response_breached == 1
    assert sweep_deadlines(session, local(2026, 11, 16, 9)).first_response_breached == 0
    assert subjects(session, "Plazo de primera respuesta vencido") == [
        ("jefa@muni.example.cl", f"Plazo de primera respuesta vencido: solicitud {n}")]
    assert ticket.first_response_warned_at == local(2026, 11, 13, 12)
    assert ticket.first_response_breached_at == local(2026, 11, 13, 14)
    assert ticket.warned_at is None and ticket.breached_at is None
    alerts = [e for e in ticket.events if e.kind is EventKind.SLA_ALERT]
    assert [e.body for e in alerts] == [
        "Aviso de plazo de primera respuesta por vencer: 1 correo(s) al equipo.",
        "Plazo de primera respuesta vencido: 1 correo(s) de escalamiento."]
    assert all(e.visibility is EventVisibility.INTERNAL and e.actor_kind is ActorKind.SYSTEM
               for e in alerts)


def test_first_public_reply_stops_the_first_response_alerts(session):
    department, agent, _supervisor = _department_with_staff(session)
    category = make_category(session, department, sla_policy=service_policy(session))
    answered = make_ticket(session, category, now=local(2026, 11, 12, 15))
    waiting = make_ticket(session, category, now=local(2026, 11, 12, 15))
    timeline.add_public_reply(session, answered, author=agent, body="Vamos en camino.",
                              now=local(2026, 11, 13, 10))
    report = sweep_deadlines(session, local(2026, 11, 13, 15))
    assert (report.first_response_warned, report.first_response_breached) == (0, 1)
    assert answered.first_response_warned_at is None
    assert answered.first_response_breached_at is None
    assert waiting.first_response_breached_at == local(2026, 11, 13, 15)
    assert subjects(session, "Plazo") == [
        ("jefa@muni.example.cl",
         f"Plazo de primera respuesta vencido: solicitud {waiting.public_number}")]


def test_first_response_breach_honours_the_supervisor_preference(session):
    department, _agent, supervisor = _department_with_staff(session)
    save_preference(session, supervisor, new_ticket=NewTicketMode.OFF, assigned=True,
                    sla_warning=True, sla_breach=False)
    ticket = make_ticket(session, make_category(session, department,
                                                sla_policy=service_policy(session)),
                         now=local(2026, 11, 12, 15))
    sweep_deadlines(session, local(2026, 11, 13, 14, 30))  # past due: escalated, not warned
    assert subjects(session, "Plazo") == [
        ("alumbrado@muni.example.cl",
         f"Plazo de primera respuesta vencido: solicitud {ticket.public_number}")]


# --- moved due dates re-arm the alerts ---------------------------------------------------

def test_extension_after_the_warning_rearms_it_for_the_new_due_date(session):
    department, _agent, _supervisor = _department_with_staff(session)
    staff = make_user(session, Role.MANAGER)
    ticket = make_ticket(session, legal_category(session, department),
                         now=local(2026, 9, 17, 15))
    first_warning = ticket.resolution_warn_at
    assert sweep_deadlines(session, first_warning).warned == 1
    assert ticket.warned_at == first_warning
    old_due = ticket.resolution_due_at

    extend_legal_deadline(session, ticket, actor=staff, reason="Muchos documentos.",
                          now=first_warning + timedelta(days=1))
    assert ticket.resolution_due_at > old_due
    assert ticket.resolution_warn_at > first_warning + timedelta(days=1)
    assert ticket.warned_at is None and ticket.breached_at is None
    line = [e for e in ticket.events if e.kind is EventKind.SLA_ALERT][-1]
    assert line.visibility is EventVisibility.INTERNAL
    assert "se volverá a alertar según el nuevo plazo" in line.body
    assert "aviso de plazo de resolución por vencer" in line.body

    report = sweep_deadlines(session, first_warning + timedelta(days=1, minutes=1))
    assert report.warned == 0  # the new warning instant is still ahead
    assert sweep_deadlines(session, ticket.resolution_warn_at).warned == 1
    assert sweep_deadlines(session, ticket.resolution_warn_at + timedelta(hours=1)).warned == 0
    assert sweep_deadlines(session, old_due + timedelta(minutes=1)).breached == 0
    assert sweep_deadlines(session, ticket.resolution_due_at).breached == 1
    n = ticket.public_number
    assert subjects(session, "Plazo") == [
        ("agente@muni.example.cl", f"Plazo por vencer: solicitud {n}"),
        ("jefa@muni.example.cl", f"Plazo por vencer: solicitud {n}"),
        ("agente@muni.example.cl", f"Plazo por vencer: solicitud {n}"),
        ("jefa@muni.example.cl", f"Plazo por vencer: solicitud {n}"),
        ("jefa@muni.example.cl", f"Plazo vencido: solicitud {n}")]


def test_extension_before_the_warning_changes_no_flag(session):
    staff = make_user(session, Role.MANAGER)
    ticket = make_ticket(session, legal_category(session), now=local(2026, 9, 17, 15))
    extend_legal_deadline(session, ticket, actor=staff, reason="Muchos documentos.",
                          now=local(2026, 9, 18, 10))
    assert ticket.warned_at is None
    assert not [e for e in ticket.events if e.kind is EventKind.SLA_ALERT]


def test_moved_due_date_resets_only_the_flags_it_made_premature(session):
    """The rule itself, for all four flags: cleared when the moved instant is
    later than now, kept when it is still past."""
    ticket = make_ticket(session, make_category(session, sla_policy=service_policy(session)),
                         now=local(2026, 11, 12, 15))
    now = local(2026, 11, 20, 12)
    ticket.warned_at = ticket.breached_at = local(2026, 11, 19, 17, 30)
    ticket.first_response_warned_at = local(2026, 11, 13, 12)
    ticket.first_response_breached_at = local(2026, 11, 13, 14)
    ticket.resolution_warn_at = now + timedelta(hours=1)  # moved ahead of now
    ticket.resolution_due_at = now + timedelta(days=2)
    ticket.first_response_warn_at = now - timedelta(hours=1)  # moved, but still past
    ticket.first_response_due_at = now + timedelta(hours=1)
    assert reset_stale_alerts(session, ticket, now) == [
        "warned_at", "breached_at", "first_response_breached_at"]
    assert ticket.warned_at is None and ticket.breached_at is None
    assert ticket.first_response_warned_at == local(2026, 11, 13, 12)
    assert ticket.first_response_breached_at is None


def test_resuming_a_late_request_does_not_escalate_it_twice(session):
    """A pause never grants time: a request late before its pause is still late
    when it resumes, so its breach stands and no second escalation goes out."""
    department, agent, _supervisor = _department_with_staff(session)
    category = make_category(session, department, sla_policy=service_policy(
        session, first_response_target=None))
    ticket = make_ticket(session, category, now=local(2026, 11, 12, 15))
    assert sweep_deadlines(session, local(2026, 11, 19, 17, 30)).breached == 1
    lifecycle.transition(session, ticket, Status.WAITING_RESIDENT, actor=agent,
                         note="¿Nos indica el número de la casa?", now=local(2026, 11, 20, 9))
    lifecycle.transition(session, ticket, Status.IN_PROGRESS, actor=agent,
                         now=local(2026, 11, 23, 10))
    assert ticket.resolution_due_at == local(2026, 11, 23, 9, 30)  # Thu 17:30 + 9 h
    assert ticket.breached_at == local(2026, 11, 19, 17, 30)
    assert sweep_deadlines(session, local(2026, 11, 23, 10, 1)).breached == 0
    assert len(subjects(session, "Plazo vencido")) == 1


def test_resuming_a_warned_request_warns_again_only_if_its_threshold_moved_ahead(session):
    """Waiting for the resident after the warning: when the clock resumes, the
    warning instant moves by the paused time, which leaves it still past, so
    the warning stands; no second warning goes out."""
    department, agent, _supervisor = _department_with_staff(session)
    category = make_category(session, department, sla_policy=service_policy(
        session, first_response_target=None))
    ticket = make_ticket(session, category, now=local(2026, 11, 12, 15))
    warned = ticket.resolution_warn_at
    assert sweep_deadlines(session, warned).warned == 1
    lifecycle.transition(session, ticket, Status.WAITING_RESIDENT, actor=agent,
                         note="¿Nos indica el número de la casa?",
                         now=warned + timedelta(minutes=30))
    lifecycle.transition(session, ticket, Status.IN_PROGRESS, actor=agent,
                         now=warned + timedelta(days=4))
    assert ticket.resolution_warn_at > warned
    assert ticket.resolution_warn_at <= warned + timedelta(days=4)
    assert ticket.warned_at == warned
    assert sweep_deadlines(session, warned + timedelta(days=4, minutes=1)).warned == 0
    assert len(subjects(session, "Plazo por vencer")) == 2  # agent and supervisor, once


def _engine_name(app) -> str:
    with app.app_context():
        return db.engine.dialect.name


# --- auto-close ---------------------------------------------------------------------

def _resolved_ticket(session):
    staff = make_user(session, Role.MANAGER)
    ticket = make_ticket(session, now=local(2026, 11, 11, 10))
    lifecycle.transition(session, ticket, Status.RESOLVED, actor=staff,
                         now=local(2026, 11, 12, 10))  # Thursday
    return ticket, staff


def test_resolved_request_gets_a_notice_then_closes_by_itself_once(session):
    ticket, _staff = _resolved_ticket(session)
    # Close 5 business days after Thu 12: Fri 13, Mon 16, Tue 17, Wed 18, Thu 19 17:30.
    # Notice 2 business days before: at the close of day 3, Tue 17 17:30.
    assert auto_close_resolved(session, local(2026, 11, 17, 12)).noticed == 0
    assert auto_close_resolved(session, local(2026, 11, 17, 18)).noticed == 1
    assert auto_close_resolved(session, local(2026, 11, 17, 19)).noticed == 0
    notices = outbox(session, subject=f"Tu solicitud {ticket.public_number} se cerrará pronto")
    assert len(notices) == 1 and "19 de noviembre de 2026, 17:30" in notices[0].body_text

    assert auto_close_resolved(session, local(2026, 11, 19, 17)).closed == 0
    assert auto_close_resolved(session, local(2026, 11, 19, 18)).closed == 1
    assert ticket.status is Status.CLOSED
    close = ticket.events[-1]
    assert close.to_status is Status.CLOSED and close.actor_kind is ActorKind.SYSTEM
    report = auto_close_resolved(session, local(2026, 11, 25, 18))
    assert (report.noticed, report.closed) == (0, 0)
    assert len(outbox(session, subject=f"Tu solicitud {ticket.public_number}: Cerrada")) == 1


def test_late_job_never_sends_the_notice_and_closes_in_the_same_run(session):
    ticket, _staff = _resolved_ticket(session)
    assert auto_close_resolved(session, local(2026, 12, 30, 12)).noticed == 1
    assert ticket.status is Status.RESOLVED
    # The resident still gets the whole notice period: 2 business days after Wed 30 Dec.
    assert auto_close_resolved(session, local(2026, 12, 31, 18)).closed == 0
    assert auto_close_resolved(session, local(2027, 1, 4, 18)).closed == 1


def test_reopening_after_the_notice_prevents_the_close(session):
    ticket, staff = _resolved_ticket(session)
    auto_close_resolved(session, local(2026, 11, 17, 18))
    lifecycle.transition(session, ticket, Status.IN_PROGRESS, actor=staff,
                         now=local(2026, 11, 18, 9))
    assert ticket.autoclose_notice_at is None
    assert auto_close_resolved(session, local(2026, 11, 30, 18)).closed == 0
    assert ticket.status is Status.IN_PROGRESS


def test_resident_reply_after_resolution_prevents_notice_and_close(session):
    ticket, _staff = _resolved_ticket(session)
    # A reply as the email channel records it: a public event by the resident.
    session.add(TicketEvent(ticket=ticket, kind=EventKind.PUBLIC_REPLY,
                            visibility=EventVisibility.PUBLIC, actor_kind=ActorKind.RESIDENT,
                            body="Sigue apagada.", created_at=local(2026, 11, 13, 9)))
    session.flush()
    report = auto_close_resolved(session, local(2026, 11, 30, 18))
    assert (report.noticed, report.closed) == (0, 0)
    assert ticket.status is Status.RESOLVED


# --- jobs and commands -----------------------------------------------------------------

def test_sweep_and_auto_close_jobs_are_registered_in_the_scheduler(app):
    from apscheduler.schedulers.background import BackgroundScheduler

    from app.scheduler import register_jobs

    scheduler = BackgroundScheduler(timezone="UTC")
    register_jobs(scheduler, app)
    assert scheduler.get_job("sla-sweep").trigger.interval == timedelta(minutes=1)
    assert scheduler.get_job("auto-close").trigger.interval == timedelta(hours=1)


def test_breach_alert_reaches_the_supervisor_over_smtp(app, database, smtp_server):
    from app.notifications.outbox import deliver_pending
    from app.scheduler import sweep_sla

    with database() as session:
        _department_with_staff(session)
        department = session.scalar(sa.select(Department).where(
            Department.email == "alumbrado@muni.example.cl"))
        ticket = make_ticket(session, make_category(session, department),
                             now=datetime.now(UTC) - timedelta(days=30), notify=False)
        session.commit()
        ticket_id, number = ticket.id, ticket.public_number
    with app.app_context():
        sweep_sla()  # the job body: sweep and commit
    with database() as session:
        deliver_pending(session)
    received = {(m["To"], m["Subject"]) for m in smtp_server.messages}
    assert ("jefa@muni.example.cl", f"Plazo vencido: solicitud {number}") in received
    breach = next(m for m in smtp_server.messages if m["Subject"].startswith("Plazo vencido"))
    assert (f"http://conectados.test/gestion/solicitudes/{ticket_id}"
            in breach.get_body(("plain",)).get_content())


def test_deadlines_commands_run_the_jobs_once(runner, database):
    with database() as session:
        make_ticket(session, now=datetime.now(UTC) - timedelta(days=30), notify=False)
        session.commit()
    result = runner.invoke(args=["deadlines", "sweep"])
    assert result.exit_code == 0, result.output
    assert "Deadline warnings: 0; breaches: 1" in result.output
    result = runner.invoke(args=["deadlines", "sweep"])
    assert "Deadline warnings: 0; breaches: 0" in result.output
    result = runner.invoke(args=["deadlines", "auto-close"])
    assert result.exit_code == 0 and "Auto-close notices: 0; closed: 0" in result.output


@pytest.mark.parametrize(("setting", "value"), [
    ("OFFICE_HOURS", "lunes 8-17"), ("OFFICE_HOURS", "mon 18:00-08:00"),
    ("OFFICE_TIMEZONE", "America/Valparaiso"),
])
def test_unreadable_office_settings_stop_start_up(monkeypatch, setting, value):
    from app import create_app
    from app.config import ConfigError

    monkeypatch.setenv(setting, value)
    with pytest.raises(ConfigError, match=setting):
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x"})
