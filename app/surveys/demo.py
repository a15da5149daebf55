"""Demo survey data: answers to the surveys after resolution, a community
diagnosis of the municipal channels and an internal staff diagnosis.

Everything goes through the same services as real data (``answer_survey``,
``builder``, ``submit_response``), with past times and no email queued.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.accounts.models import Role, User
from app.catalog.models import Macrosector
from app.surveys import builder
from app.surveys.models import AgeRange, ResolutionSurvey, Survey
from app.surveys.resolution import ResolutionAnswer, answer_survey
from app.surveys.responses import Demographics, submit_response
from app.tickets.models import Status

HAPPY_COMMENTS = ["Muy rápidos, gracias.", "Vinieron al día siguiente, excelente.",
                  "Buena atención por teléfono.", "Quedó todo bien hecho."]
UNHAPPY_COMMENTS = ["Dijeron que estaba resuelto pero el problema sigue igual.",
                    "Nadie vino a revisar.", "Tardaron demasiado.",
                    "Arreglaron solo una parte, falta el resto del pasaje."]

CHANNELS = [  # (label, mean rating)
    ("el sitio web y los formularios en línea", 3.6),
    ("teléfono", 2.9),
    ("atención presencial (OIRS y mesones)", 3.8),
    ("correo electrónico", 3.2),
    ("redes sociales", 3.4),
]
PREFERRED = ["Sitio web", "Teléfono", "Atención presencial", "Correo electrónico",
             "Redes sociales"]
OBSTACLES = ["Horarios de atención", "No sé a qué departamento dirigirme",
             "Tiempos de espera", "No me responden", "Accesos difíciles para personas con "
             "discapacidad", "Trámites que solo se pueden hacer en línea"]
IMPROVEMENTS = ["Que contesten el teléfono.", "Más horario en la tarde para los que trabajamos.",
                "Avisar por WhatsApp cuando avanza el trámite.", "Rampas en la entrada de la OIRS.",
                "Que el sitio web funcione bien en el celular.", "Más personal en los mesones."]


def _clamp(value: float, low: int = 1, high: int = 5) -> int:
    return max(low, min(high, round(value)))


def answer_resolution_surveys(session: Session, rng: random.Random, now: datetime,
                              share: float = 0.45) -> int:
    """Answer about ``share`` of the demo's resolution surveys; a few unhappy ones reopen."""
    answered = 0
    surveys = session.scalars(sa.select(ResolutionSurvey).order_by(ResolutionSurvey.id)).all()
    for survey in surveys:
        if rng.random() > share:
            continue
        ticket = survey.ticket
        latest = min(ticket.closed_at or now, survey.expires_at, now)
        moment = survey.invited_at + timedelta(hours=rng.uniform(1, 96))
        if moment >= latest:
            continue
        rating = rng.choices([1, 2, 3, 4, 5], weights=[8, 10, 17, 35, 30])[0]
        if rating >= 4:
            resolved = rng.choices(["yes", "partly"], weights=[9, 1])[0]
        elif rating == 3:
            resolved = rng.choice(["yes", "partly", "partly"])
        else:
            resolved = rng.choice(["no", "no", "partly"])
        unhappy = resolved == "no" or rating <= 2
        comment = None
        if rng.random() < 0.3:
            comment = rng.choice(UNHAPPY_COMMENTS if unhappy else HAPPY_COMMENTS)
        answer_survey(session, survey, ResolutionAnswer(
            resolved=resolved, rating=rating,
            courtesy_rating=_clamp(rating + rng.choice([0, 0, 1, -1])) if rng.random() < 0.7
            else None,
            time_rating=_clamp(rating + rng.choice([0, -1, -1, 1])) if rng.random() < 0.6
            else None,
            comment=comment,
            reopen=unhappy and ticket.status is Status.RESOLVED and rng.random() < 0.3,
        ), now=moment, notify=False)
        answered += 1
    return answered


def community_survey(session: Session, now: datetime, creator: User | None) -> Survey:
    survey = builder.create_survey(session, builder.SurveyInput(
        title="Diagnóstico ciudadano de los canales de atención 2026",
        kind="community", ask_demographics=True,
        description="Queremos saber cómo te atiende la municipalidad en cada canal. Son nueve "
                    "preguntas y toma unos tres minutos. Es anónima.",
    ), created_by=creator, now=now - timedelta(days=50))
    builder.add_question(session, survey, builder.QuestionInput(
        kind="rating", required=True, scale_max=5,
        prompt="En general, ¿qué tan satisfecho/a estás con la atención de la municipalidad?",
        low_label="Muy insatisfecho/a", high_label="Muy satisfecho/a"))
    for label, _mean in CHANNELS:
        builder.add_question(session, survey, builder.QuestionInput(
            kind="rating", scale_max=5, prompt=f"¿Qué nota le pones a la atención por {label}?",
            help_text="Déjala en blanco si no has usado este canal.",
            low_label="Muy mala", high_label="Muy buena"))
    builder.add_question(session, survey, builder.QuestionInput(
        kind="single", required=True, options="\n".join(PREFERRED),
        prompt="¿Por qué canal prefieres hacer tus trámites y solicitudes?"))
    builder.add_question(session, survey, builder.QuestionInput(
        kind="multiple", options="\n".join(OBSTACLES),
        prompt="¿Qué te ha dificultado hacer trámites con la municipalidad?"))
    builder.add_question(session, survey, builder.QuestionInput(
        kind="text", prompt="¿Qué mejorarías primero?"))
    survey.opens_at = now - timedelta(days=45)
    survey.closes_at = now + timedelta(days=30)
    session.flush()
    return survey


def answer_community_survey(session: Session, survey: Survey, rng: random.Random,
                            now: datetime, count: int) -> None:
    questions = survey.questions
    overall, channel_qs, preferred_q, obstacles_q, text_q = (
        questions[0], questions[1:6], questions[6], questions[7], questions[8])
    sectors = list(session.scalars(sa.select(Macrosector).order_by(Macrosector.id)))
    ages = list(AgeRange)
    for _ in range(count):
        age = rng.choices(ages + [None], weights=[4, 22, 30, 24, 15, 5])[0]
        disability = rng.choices(["yes", "no", None], weights=[12, 78, 10])[0]
        older = age in (AgeRange.FROM_45, AgeRange.FROM_60)
        raw: dict[str, list[str]] = {}
        used = [i for i in range(5) if rng.random() < (0.35 if i == 4 and older else 0.6)]
        ratings = []
        for i in used:
            mean = CHANNELS[i][1] - (0.8 if i == 2 and disability == "yes" else 0)
            rating = _clamp(rng.gauss(mean, 1.0))
            ratings.append(rating)
            raw[channel_qs[i].field_name] = [str(rating)]
        base = sum(ratings) / len(ratings) if ratings else 3.3
        raw[overall.field_name] = [str(_clamp(rng.gauss(base, 0.7)))]
        weights = [2, 4, 5, 1, 1] if older else [6, 2, 2, 2, 4]
        choice = rng.choices(preferred_q.options, weights=weights)[0]
        raw[preferred_q.field_name] = [str(choice.id)]
        raw[obstacles_q.field_name] = [str(o.id) for o in obstacles_q.options
                                       if rng.random() < (0.45 if o.position == 5 and
                                                          disability == "yes" else 0.25)]
        if rng.random() < 0.35:
            raw[text_q.field_name] = [rng.choice(IMPROVEMENTS)]
        sector = rng.choice(sectors + [None]) if sectors else None
        submit_response(session, survey, raw, demographics=Demographics(
            age_range=age.value if age else None, disability=disability,
            macrosector_id=sector.id if sector else None),
            now=survey.opens_at + timedelta(minutes=rng.randint(10, 60 * 24 * 44)))


def staff_survey(session: Session, rng: random.Random, now: datetime,
                 creator: User | None) -> Survey:
    survey = builder.create_survey(session, builder.SurveyInput(
        title="Diagnóstico interno 2026: herramientas y carga de trabajo", kind="staff",
        description="Para el plan de acción de Gobierno Abierto. Tus respuestas son anónimas.",
    ), created_by=creator, now=now - timedelta(days=25))
    builder.add_question(session, survey, builder.QuestionInput(
        kind="rating", required=True, scale_max=5, low_label="Nunca", high_label="Siempre",
        prompt="¿Cuentas con las herramientas necesarias para responder a tiempo?"))
    builder.add_question(session, survey, builder.QuestionInput(
        kind="single", required=True, prompt="¿Cómo describirías tu carga de trabajo?",
        options="Manejable\nAlta, pero manejable\nExcesiva"))
    builder.add_question(session, survey, builder.QuestionInput(
        kind="multiple", prompt="¿Qué te ayudaría más?",
        options="Capacitación\nMejor coordinación entre departamentos\nRespuestas tipo\n"
                "Más personal\nMejores datos de contacto del vecino/a"))
    builder.add_question(session, survey, builder.QuestionInput(
        kind="text", prompt="¿Alguna otra sugerencia?"))
    survey.opens_at = now - timedelta(days=20)
    session.flush()
    # Everyone but the admin and the last agent answers, so both can try it.
    users = [u for u in session.scalars(sa.select(User).order_by(User.id))
             if u.role is not Role.ADMIN][:-1]
    tools, load, helps, text = survey.questions
    for user in users:
        submit_response(session, survey, {
            tools.field_name: [str(rng.choice([2, 3, 3, 4, 4, 5]))],
            load.field_name: [str(rng.choice(load.options).id)],
            helps.field_name: [str(o.id) for o in helps.options if rng.random() < 0.4],
            text.field_name: [rng.choice(["", "", "Un sistema único para todos los canales."])],
        }, staff_member=user, now=now - timedelta(days=rng.randint(0, 19)))
    return survey


def seed_surveys(session: Session, *, now: datetime, seed: int = 2026,
                 community_responses: int = 160) -> str:
    """Answer part of the resolution surveys and create the two diagnoses; flushes only.

    Returns a one-line description for the seed summary.
    """
    # B311 (bandit): reproducible demo data
    rng = random.Random(seed + 6)  # nosec B311
    answered = answer_resolution_surveys(session, rng, now)
    creator = session.scalar(sa.select(User).where(User.role == Role.ADMIN).order_by(User.id))
    community = community_survey(session, now, creator)
    answer_community_survey(session, community, rng, now, community_responses)
    staff = staff_survey(session, rng, now, creator)
    return (f"Surveys: {answered} answers after resolution; community diagnosis "
            f"/encuestas/{community.slug} with {community_responses} responses; "
            f"staff diagnosis with {len(staff.questions)} questions.")
