"""A realistic demo municipality: departments, categories, staff and requests.

Every sample request goes through ``intake.submit`` and every status change
through ``lifecycle.transition``, with past timestamps, so the demo data obeys
the same rules as real data. No email is queued for them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.accounts.models import Role, User
from app.accounts.services import create_user
from app.catalog import rules
from app.catalog.attributes import Datatype, define_attribute
from app.catalog.models import AutoAssign, Category, Department, Macrosector, Visibility
from app.catalog.sla import PolicyKind, SlaPolicy, TargetUnit
from app.database import utcnow
from app.surveys.demo import seed_surveys
from app.tickets import intake, lifecycle, timeline
from app.tickets.contact import ResidentContact
from app.tickets.models import Channel, Status, Ticket

# B105 (bandit): the documented demo login (seed only)
DEMO_PASSWORD = "conectados-demo"  # nosec B105

MACROSECTORS = ["La Faena", "Lo Hermida", "Peñalolén Alto", "Peñalolén Nuevo", "San Luis"]

# department: (slug, [(category slug, name, visibility, description, sample texts)])
CATALOGUE = {
    "Aseo y Ornato": ("aseo", [
        ("voluminosos", "Retiro de voluminosos y escombros", "public",
         "Muebles, colchones o escombros en la vía pública.",
         ["Dejaron un colchón y un sillón botados en la esquina hace una semana.",
          "Hay escombros de una construcción tirados en la vereda."]),
        ("microbasural", "Microbasural", "public", "Basura acumulada en un sitio o esquina.",
         ["Se formó un microbasural en el sitio eriazo junto a la cancha.",
          "La esquina está llena de bolsas de basura y hay ratones."]),
        ("poda", "Poda o retiro de árboles", "public", "Árboles que tapan luminarias o son riesgo.",
         ["Un árbol tapa completamente la luminaria del pasaje.",
          "Una rama grande quedó colgando después del viento y puede caer."]),
        ("areas-verdes", "Mantención de plazas y áreas verdes", "public", "Riego, pasto, juegos.",
         ["La plaza no se riega hace semanas y el pasto está seco.",
          "Un juego infantil de la plaza está roto y es peligroso."]),
    ]),
    "Tránsito": ("transito", [
        ("semaforo", "Semáforo en mal estado", "public", "Semáforos apagados o intermitentes.",
         ["El semáforo de la esquina está apagado desde ayer en la tarde.",
          "La luz verde peatonal dura muy poco para cruzar con coche de guagua."]),
        ("senaletica", "Señalética dañada o faltante", "public", "Señales de tránsito.",
         ["Falta el disco PARE en el cruce, ya hubo dos choques.",
          "El letrero de nombre de la calle está caído."]),
        ("demarcacion", "Demarcación vial", "public", "Pasos de cebra y líneas borrados.",
         ["El paso de cebra frente al colegio está completamente borrado."]),
        ("reductor", "Solicitud de reductor de velocidad", "public", "Lomos de toro.",
         ["Los autos pasan muy rápido por el pasaje donde juegan niños."]),
    ]),
    "Obras Municipales": ("obras", [
        ("luminaria", "Luminaria apagada", "public", "Alumbrado público que no funciona.",
         ["La luminaria frente a mi casa lleva tres noches apagada.",
          "Todo el pasaje quedó sin luz, es muy inseguro de noche."]),
        ("bache", "Bache en la calzada", "public", "Hoyos en calles.",
         ["Hay un hoyo grande en la calzada que ya rompió varias ruedas."]),
        ("vereda", "Vereda en mal estado", "public", "Veredas rotas o levantadas.",
         ["La vereda está levantada por raíces y mi mamá se cayó."]),
        ("construccion", "Construcción sin permiso", "private", "Obras sin permiso municipal.",
         ["El vecino está construyendo un segundo piso sin permiso."]),
    ]),
    "DIDECO": ("dideco", [
        ("ayuda-social", "Ayuda social", "private", "Apoyo a familias en situación de necesidad.",
         ["Necesito orientación para pedir ayuda con mercadería, estoy sin trabajo."]),
        ("registro-social", "Registro Social de Hogares", "private", "Actualización y consultas.",
         ["Quiero actualizar mi Registro Social de Hogares porque cambió mi grupo familiar."]),
        ("organizaciones", "Organizaciones comunitarias", "public", "Juntas de vecinos y clubes.",
         ["Nuestra junta de vecinos necesita renovar la directiva, ¿cómo se hace?"]),
    ]),
    "Medio Ambiente": ("medio-ambiente", [
        ("ruidos", "Ruidos molestos", "public", "Ruidos de fiestas, talleres o locales.",
         ["Un taller mecánico trabaja con ruido hasta muy tarde."]),
        ("mascotas", "Tenencia responsable de mascotas", "public", "Perros sueltos o abandonados.",
         ["Hay una jauría de perros sueltos que persigue a los niños."]),
        ("reciclaje", "Reciclaje y puntos limpios", "public", "Contenedores y retiro de reciclaje.",
         ["El punto limpio de la plaza está lleno y no lo han vaciado."]),
        ("humo", "Quemas y humo", "public", "Quemas de basura o pastizales.",
         ["Todas las noches queman basura en el sitio de al lado."]),
    ]),
    "Seguridad Ciudadana": ("seguridad", [
        ("vehiculo-abandonado", "Vehículo abandonado", "public", "Autos abandonados en la calle.",
         ["Hay un auto abandonado hace dos meses, sin patente."]),
        ("patrullaje", "Solicitud de patrullaje preventivo", "private", "Rondas de seguridad.",
         ["Piden más rondas en la noche porque han entrado a robar a casas."]),
        ("alarma", "Alarmas comunitarias", "public", "Instalación o falla de alarmas.",
         ["La alarma comunitaria de la villa no suena."]),
    ]),
    "Oficina de la Discapacidad": ("discapacidad", [
        ("accesibilidad", "Accesibilidad en el espacio público", "public",
         "Rampas, veredas y accesos para personas con discapacidad.",
         ["No hay rampa en la esquina para bajar con silla de ruedas."]),
        ("credencial", "Credencial y orientación", "private",
         "Orientación sobre credencial de discapacidad y beneficios.",
         ["Necesito orientación para tramitar la credencial de discapacidad de mi hijo."]),
        ("ayudas-tecnicas", "Ayudas técnicas", "private", "Sillas de ruedas, bastones, audífonos.",
         ["Mi papá necesita una silla de ruedas y no podemos comprarla."]),
    ]),
    "Transparencia": ("transparencia", [
        ("acceso-informacion", "Solicitud de acceso a la información (Ley 20.285)", "private",
         "Pide información pública de la municipalidad.",
         ["Solicito copia de los contratos de recolección de basura vigentes."]),
        ("reclamo-atencion", "Reclamo o felicitación por la atención", "private",
         "Cuéntanos cómo te atendimos (OIRS).",
         ["Me atendieron muy mal en la ventanilla de permisos de circulación."]),
    ]),
}

# SLA policies (app/deadlines): name -> (kind, first response, unit, resolution, unit),
# and the categories that run them; the others run the configured default.
SLA_POLICIES = {
    "Urgencia vial": (PolicyKind.SERVICE, 4, TargetUnit.BUSINESS_HOURS,
                      16, TargetUnit.BUSINESS_HOURS, ["semaforo"]),
    "Servicio en terreno": (PolicyKind.SERVICE, 16, TargetUnit.BUSINESS_HOURS,
                            10, TargetUnit.BUSINESS_DAYS,
                            ["voluminosos", "microbasural", "poda", "areas-verdes", "senaletica",
                             "demarcacion", "reductor", "luminaria", "bache", "vereda"]),
    "Atención social": (PolicyKind.SERVICE, 8, TargetUnit.BUSINESS_HOURS,
                        15, TargetUnit.BUSINESS_DAYS,
                        ["ayuda-social", "registro-social", "credencial", "ayudas-tecnicas"]),
    "Acceso a la información (Ley 20.285)": (PolicyKind.LEY_20285, None,
                                             TargetUnit.BUSINESS_DAYS, 20,
                                             TargetUnit.BUSINESS_DAYS, ["acceso-informacion"]),
    "OIRS": (PolicyKind.OIRS, 2, TargetUnit.BUSINESS_DAYS, 10, TargetUnit.BUSINESS_DAYS,
             ["reclamo-atencion"]),
}

# Open311 keywords of some categories.
KEYWORDS = {
    "luminaria": "alumbrado, poste, foco, luz",
    "bache": "hoyo, calle, pavimento",
    "microbasural": "basura, escombros, ratones",
    "ruidos": "fiesta, música, taller",
    "vehiculo-abandonado": "auto, patente, chatarra",
}

# Custom attributes: category slug -> [(code, question, datatype, required, hint, values)].
ATTRIBUTES = {
    "luminaria": [
        ("tipo", "¿Qué pasa con la luminaria?", Datatype.SINGLEVALUELIST, True, None,
         [("apagada", "Está apagada"), ("intermitente", "Se prende y apaga"),
          ("encendida-dia", "Está encendida de día"), ("danada", "Está dañada o caída")]),
        ("poste", "Número del poste, si lo ve", Datatype.STRING, False,
         "Está pintado en el poste, por ejemplo 12345-A.", []),
    ],
    "bache": [
        ("tamano", "¿Qué tan grande es?", Datatype.SINGLEVALUELIST, True, None,
         [("chico", "Menos de 30 cm"), ("mediano", "Entre 30 cm y 1 m"),
          ("grande", "Más de 1 m")]),
        ("riesgos", "¿A quién pone en riesgo?", Datatype.MULTIVALUELIST, False,
         "Puede marcar varias.",
         [("autos", "Autos"), ("bicicletas", "Bicicletas"), ("peatones", "Peatones")]),
    ],
    "ruidos": [
        ("desde", "¿Desde cuándo ocurre?", Datatype.DATETIME, False,
         "Fecha y hora aproximada.", []),
        ("noches", "¿Cuántas noches a la semana?", Datatype.NUMBER, False, None, []),
    ],
    "vehiculo-abandonado": [
        ("patente", "Patente del vehículo, si la tiene", Datatype.STRING, False,
         "Por ejemplo: AB CD 12.", []),
        ("detalle", "Estado del vehículo", Datatype.TEXT, False,
         "Si está desarmado, quemado o con vidrios rotos.", []),
    ],
}

STREETS = ["Av. Grecia", "Av. Tobalaba", "Av. José Arrieta", "Av. Las Parcelas",
           "Av. Consistorial", "Av. Quilín", "Av. Departamental", "Los Presidentes",
           "Antupirén", "Valle Hermoso", "Diagonal Las Torres", "Av. Sánchez Fontecilla"]
FIRST_NAMES = ["María", "José", "Ana", "Juan", "Carmen", "Luis", "Rosa", "Pedro", "Claudia",
               "Jorge", "Patricia", "Francisco", "Daniela", "Manuel", "Valentina", "Sergio"]
LAST_NAMES = ["González", "Muñoz", "Rojas", "Díaz", "Pérez", "Soto", "Contreras", "Silva",
              "Martínez", "Sepúlveda", "Morales", "Rodríguez", "López", "Fuentes"]

# (email, name, role, department slugs)
STAFF = [
    ("admin@demo.conectados.cl", "Administración Conectados", Role.ADMIN, []),
    ("gerencia@demo.conectados.cl", "Gerencia Municipal", Role.MANAGER, []),
    ("supervisora.aseo@demo.conectados.cl", "Paula Aseo", Role.SUPERVISOR, ["aseo"]),
    ("agente.aseo@demo.conectados.cl", "Tomás Aseo", Role.AGENT, ["aseo"]),
    ("agente.transito@demo.conectados.cl", "Camila Tránsito", Role.AGENT, ["transito"]),
    ("agente.obras@demo.conectados.cl", "Ricardo Obras", Role.AGENT, ["obras"]),
    ("agente.dideco@demo.conectados.cl", "Fernanda Dideco", Role.AGENT,
     ["dideco", "discapacidad"]),
    ("agente.territorio@demo.conectados.cl", "Andrés Territorio", Role.AGENT,
     ["medio-ambiente", "seguridad", "transparencia"]),
]

REPLIES = ["Gracias por avisarnos. Programamos una visita de inspección esta semana.",
           "Derivamos su caso al equipo en terreno; le informaremos el resultado.",
           "El trabajo quedó realizado. Si el problema continúa, responda a este mensaje."]
WAITING_NOTES = ["¿Nos puede indicar el número de casa más cercano?",
                 "Necesitamos una foto o una referencia más precisa del lugar."]


@dataclass
class SeedSummary:
    already_seeded: bool = False
    departments: int = 0
    categories: int = 0
    requests: int = 0
    staff: list[tuple[str, str, str]] = field(default_factory=list)
    surveys: str = ""

    def describe(self) -> str:
        if self.already_seeded:
            return "Demo data already present; nothing added."
        lines = [f"Demo data: {self.departments} departments, {self.categories} categories, "
                 f"{self.requests} requests.",
                 f"Staff accounts (password for all: {DEMO_PASSWORD}):"]
        lines += [f"  {role:<10} {email}  ({depts})" for email, role, depts in self.staff]
        if self.surveys:
            lines.append(self.surveys)
        return "\n".join(lines)


def seed_demo(session: Session, *, request_count: int = 300, seed: int = 2026) -> SeedSummary:
    """Load the demo data into an empty database; flushes, never commits.

    Does nothing (and says so) if any department exists already.
    """
    if session.scalar(sa.select(sa.func.count()).select_from(Department)):
        return SeedSummary(already_seeded=True)
    # B311 (bandit): reproducible demo data, not security
    rng = random.Random(seed)  # nosec B311
    summary = SeedSummary()

    for name in MACROSECTORS:
        session.add(Macrosector(name=name))
    departments: dict[str, Department] = {}
    categories: list[Category] = []
    samples: dict[str, list[str]] = {}
    for dept_name, (dept_slug, cats) in CATALOGUE.items():
        department = Department(name=dept_name, slug=dept_slug)
        session.add(department)
        departments[dept_slug] = department
        for slug, name, visibility, description, texts in cats:
            category = Category(name=name, slug=slug, description=description,
                                department=department, visibility=Visibility(visibility),
                                allows_anonymous=slug in {"microbasural", "ruidos", "humo"})
            category.keywords = KEYWORDS.get(slug, "")
            session.add(category)
            categories.append(category)
            samples[slug] = texts
    session.flush()
    _seed_sla_policies(session, categories)
    for category in categories:
        for code, question, datatype, required, hint, values in ATTRIBUTES.get(category.slug, []):
            define_attribute(session, category, code=code, description=question,
                             datatype=datatype, required=required, datatype_description=hint,
                             values=values)
    macrosectors = list(session.scalars(sa.select(Macrosector)))

    staff_by_department: dict[int, list[User]] = {}
    for email, name, role, dept_slugs in STAFF:
        user = create_user(session, email=email, name=name, password=DEMO_PASSWORD, role=role,
                           departments=[departments[s] for s in dept_slugs])
        for dept in user.departments:
            staff_by_department.setdefault(dept.id, []).append(user)
        summary.staff.append((email, role.value, ", ".join(dept_slugs) or "todos"))
    _seed_routing(session, departments)

    now = utcnow()
    channels = [Channel.WEB] * 6 + [Channel.PHONE] * 2 + [Channel.COUNTER, Channel.EMAIL]
    moments = sorted(now - timedelta(days=rng.uniform(0, 240), minutes=rng.randint(0, 600))
                     for _ in range(request_count))
    for created in moments:  # in time order, so public numbers follow creation
        category = rng.choice(categories)
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        channel = rng.choice(channels)
        agent = rng.choice(staff_by_department[category.department_id])
        ticket = intake.submit(
            session, category=category, description=rng.choice(samples[category.slug]),
            channel=channel,
            contact=ResidentContact(
                name=f"{first} {last}",
                email=f"{first}.{last}{rng.randint(1, 99)}@example.cl".lower()
                .replace("á", "a").replace("é", "e").replace("í", "i")
                .replace("ó", "o").replace("ú", "u").replace("ñ", "n"),
                phone=f"+56 9 {rng.randint(1000, 9999)} {rng.randint(1000, 9999)}",
            ),
            consent=True,
            address=f"{rng.choice(STREETS)} {rng.randint(100, 9999)}",
            macrosector=rng.choice(macrosectors),
            created_by=agent if channel in (Channel.PHONE, Channel.COUNTER) else None,
            now=created, notify=False,
            attributes={a.code: rng.choice(a.values)["key"] for a in category.attributes
                        if a.datatype is Datatype.SINGLEVALUELIST},
        )
        _play_history(session, rng, ticket, agent, created, now)
        summary.requests += 1

    # The demo's past was already swept: no burst of warnings for old requests.
    session.execute(sa.update(Ticket).where(Ticket.resolution_warn_at <= now,
                                            Ticket.warned_at.is_(None)).values(warned_at=now))
    session.execute(sa.update(Ticket).where(Ticket.resolution_due_at <= now,
                                            Ticket.breached_at.is_(None)).values(breached_at=now))
    session.execute(sa.update(Ticket).where(
        Ticket.first_response_warn_at <= now, Ticket.first_response_warned_at.is_(None))
        .values(first_response_warned_at=now))
    session.execute(sa.update(Ticket).where(
        Ticket.first_response_due_at <= now, Ticket.first_response_breached_at.is_(None))
        .values(first_response_breached_at=now))
    summary.surveys = seed_surveys(session, now=now, seed=seed)
    summary.departments = len(departments)
    summary.categories = len(categories)
    session.flush()
    return summary


def _seed_sla_policies(session: Session, categories: list[Category]) -> None:
    by_slug = {c.slug: c for c in categories}
    for name, (kind, first, first_unit, resolution, unit, slugs) in SLA_POLICIES.items():
        policy = SlaPolicy(name=name, kind=kind, first_response_target=first,
                           first_response_unit=first_unit, resolution_target=resolution,
                           resolution_unit=unit,
                           extension_days=10 if kind is PolicyKind.LEY_20285 else None)
        session.add(policy)
        for slug in slugs:
            by_slug[slug].sla_policy = policy
    session.flush()


def _play_history(session, rng, ticket, agent, created, now) -> None:
    """Move a sample request along a plausible path; older ones got further."""
    age_days = (now - created).days
    steps = [Status.IN_REVIEW, Status.IN_PROGRESS, Status.RESOLVED, Status.CLOSED]
    if age_days < 3:
        reach = rng.choice([0, 0, 1])
    elif age_days < 20:
        reach = rng.choice([0, 1, 2, 2, 3, 3, 4])
    else:  # a few old ones are still open: the backlog a manager must see
        reach = rng.choice([1, 2, 3, 3, 3, 4, 4, 4, 4, 4])
    moment = created
    for index, status in enumerate(steps[:reach]):
        moment = min(moment + timedelta(hours=rng.uniform(2, 24 * 6)), now)
        if status is Status.IN_PROGRESS and rng.random() < 0.15:
            lifecycle.transition(session, ticket, Status.WAITING_RESIDENT, actor=agent,
                                 note=rng.choice(WAITING_NOTES), now=moment, notify=False)
            if index == reach - 1:
                return  # still waiting for the resident
            moment = min(moment + timedelta(hours=rng.uniform(4, 72)), now)
        if status is Status.RESOLVED:
            timeline.add_public_reply(session, ticket, author=agent, body=rng.choice(REPLIES),
                                      now=moment, notify=False)
        if status is Status.CLOSED and rng.random() < 0.5:
            return  # some stay resolved
        lifecycle.transition(session, ticket, status, actor=agent, now=moment, notify=False)
        if index == 0 and rng.random() < 0.1:
            timeline.add_internal_note(session, ticket, author=agent,
                                       body="Revisar con el equipo de terreno.", now=moment)


# --- routing rules and auto-assignment (catalog.rules) ---------------------------------------

# (name, keywords, target department slug)
ROUTING_RULES = [
    ("Perros y gatos", "perro, perros, jauría, gato, gatos", "medio-ambiente"),
    ("Rampas y sillas de ruedas", "rampa, silla de ruedas", "discapacidad"),
]


def _seed_routing(session: Session, departments: dict[str, Department]) -> None:
    """Two keyword rules, and round-robin assignment in Aseo y Ornato."""
    for name, keywords, slug in ROUTING_RULES:
        rules.create_rule(session, rules.RuleInput(
            name=name, keywords=keywords, department_id=departments[slug].id))
    rules.set_auto_assign(session, departments["aseo"], AutoAssign.ROUND_ROBIN.value)
