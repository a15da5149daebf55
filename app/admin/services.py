"""What an administrator changes: departments, categories and their custom
attributes, SLA policies, staff users and API keys.

Each public function here is the single place where one admin action happens
(see ``ADMIN_ACTIONS``), so auditing needs one call per function. They
validate, flush and raise ``ValidationFailed``; they never commit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from app.accounts import credentials
from app.accounts.models import Role, User
from app.accounts.services import create_user, find_by_email
from app.catalog.attributes import CategoryAttribute, Datatype, define_attribute
from app.catalog.models import Category, Department, Macrosector, Visibility
from app.catalog.sla import PolicyKind, SlaPolicy, TargetUnit
from app.domain import ValidationFailed
from app.tickets.contact import normalize_email

# The admin actions, one per function below (for the audit log at merge time).
ADMIN_ACTIONS = (
    "department.create", "department.update",
    "macrosector.create", "macrosector.update",
    "category.create", "category.update",
    "attribute.create", "attribute.update", "attribute.delete", "attribute.move",
    "slapolicy.create", "slapolicy.update",
    "user.create", "user.update",
    "apikey.create", "apikey.revoke",
)

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
NAME_MAX = 120
SLUG_MAX = 60
KEYWORDS_MAX = 300
STAFF_PASSWORD_MIN = 12


def _check_name_slug(errors: dict[str, list[str]], name: str, slug: str) -> None:
    if not name or len(name) > NAME_MAX:
        errors["name"] = [_("Escribe un nombre de hasta %(n)d caracteres.", n=NAME_MAX)]
    if not SLUG_RE.match(slug) or len(slug) > SLUG_MAX:
        errors["slug"] = [_("El identificador usa minúsculas, números y guiones "
                            "(hasta %(n)d caracteres), por ejemplo «aseo-ornato».",
                            n=SLUG_MAX)]


def _clash(session: Session, model, column, value, current_id: int | None) -> bool:
    query = sa.select(model.id).where(column == value)
    if current_id is not None:
        query = query.where(model.id != current_id)
    return session.scalar(query) is not None


# --- departments ---------------------------------------------------------------------------

@dataclass(frozen=True)
class DepartmentInput:
    name: str
    slug: str
    email: str | None
    active: bool = True


def _apply_department(session: Session, department: Department, data: DepartmentInput) -> None:
    name, slug = (data.name or "").strip(), (data.slug or "").strip().lower()
    errors: dict[str, list[str]] = {}
    _check_name_slug(errors, name, slug)
    if "name" not in errors and _clash(session, Department, Department.name, name,
                                       department.id):
        errors["name"] = [_("Ya existe un departamento con ese nombre.")]
    if "slug" not in errors and _clash(session, Department, Department.slug, slug,
                                       department.id):
        errors["slug"] = [_("Ya existe un departamento con ese identificador.")]
    email = (data.email or "").strip() or None
    if email is not None:
        try:
            email = normalize_email(email).lower()
        except ValueError:
            errors["email"] = [_("El correo no es válido.")]
    if department.id is not None and department.active and not data.active:
        active_categories = session.scalar(
            sa.select(sa.func.count()).select_from(Category)
            .where(Category.department_id == department.id, Category.active))
        if active_categories:
            errors["active"] = [_(
                "El departamento tiene %(n)d categorías activas: desactívalas o muévelas "
                "a otro departamento antes de desactivarlo.", n=active_categories)]
    if errors:
        raise ValidationFailed(_("Revisa los datos del departamento."), errors)
    department.name, department.slug, department.email = name, slug, email
    department.active = data.active


def create_department(session: Session, data: DepartmentInput) -> Department:
    """Add a department; flushes.

    :raise ValidationFailed: empty/too long name, malformed slug, name or slug
        taken, invalid email.
    """
    department = Department()
    _apply_department(session, department, data)
    session.add(department)
    session.flush()
    return department


def update_department(session: Session, department: Department,
                      data: DepartmentInput) -> Department:
    """Change a department; flushes.

    Deactivating one that still has active categories is refused (they would
    keep receiving requests nobody sees in the department list).

    :raise ValidationFailed: as ``create_department``, or active categories left.
    """
    _apply_department(session, department, data)
    session.flush()
    return department


# --- macrosectors --------------------------------------------------------------------------

def save_macrosector(session: Session, macrosector: Macrosector | None,
                     name: str) -> Macrosector:
    """Add a macrosector (``macrosector`` None) or rename one; flushes.

    Requests and routing rules keep pointing at it, so a rename shows
    everywhere at once.

    :raise ValidationFailed: empty or too long name, or a name already taken.
    """
    name = " ".join((name or "").split())
    macrosector = macrosector or Macrosector()
    if not name or len(name) > NAME_MAX:
        message = _("Escribe un nombre de hasta %(n)d caracteres.", n=NAME_MAX)
        raise ValidationFailed(message, {"name": [message]})
    if _clash(session, Macrosector, sa.func.lower(Macrosector.name), name.lower(),
              macrosector.id):  # «lo hermida» is «Lo Hermida»
        message = _("Ya existe un macrosector con ese nombre.")
        raise ValidationFailed(message, {"name": [message]})
    macrosector.name = name
    session.add(macrosector)
    session.flush()
    return macrosector


# --- categories ----------------------------------------------------------------------------

@dataclass(frozen=True)
class CategoryInput:
    name: str
    slug: str
    description: str
    department_id: int | None
    visibility: str
    active: bool = True
    allows_anonymous: bool = False
    keywords: str = ""
    sla_policy_id: int | None = None
    retention_months: str | None = None  # as typed; empty: RETENTION_MONTHS_DEFAULT


RETENTION_MONTHS_MAX = 240  # 20 years


def _clean_keywords(text: str) -> str:
    words = [w.strip() for w in (text or "").replace("\n", ",").split(",")]
    return ", ".join(dict.fromkeys(w for w in words if w))


def _apply_category(session: Session, category: Category, data: CategoryInput) -> None:
    name, slug = (data.name or "").strip(), (data.slug or "").strip().lower()
    errors: dict[str, list[str]] = {}
    _check_name_slug(errors, name, slug)
    if "slug" not in errors and _clash(session, Category, Category.slug, slug, category.id):
        errors["slug"] = [_("Ya existe una categoría con ese identificador.")]
    department = (session.get(Department, data.department_id)
                  if data.department_id is not None else None)
    if department is None:
        errors["department"] = [_("Elige el departamento a cargo.")]
    elif data.active and not department.active:
        errors["department"] = [_("Ese departamento está desactivado.")]
    if data.visibility not in Visibility._value2member_map_:
        errors["visibility"] = [_("Elige si la categoría es pública o privada.")]
    keywords = _clean_keywords(data.keywords)
    if len(keywords) > KEYWORDS_MAX:
        errors["keywords"] = [_("Máximo %(n)d caracteres.", n=KEYWORDS_MAX)]
    policy = (session.get(SlaPolicy, data.sla_policy_id)
              if data.sla_policy_id is not None else None)
    if data.sla_policy_id is not None and policy is None:
        errors["sla_policy"] = [_("Elige una política de plazos de la lista.")]
    retention = _whole_number(errors, "retention_months", data.retention_months,
                              low=1, high=RETENTION_MONTHS_MAX)
    if errors:
        raise ValidationFailed(_("Revisa los datos de la categoría."), errors)
    category.name, category.slug = name, slug
    category.description = (data.description or "").strip()
    category.department = department
    category.visibility = Visibility(data.visibility)
    category.active, category.allows_anonymous = data.active, data.allows_anonymous
    category.keywords = keywords
    category.sla_policy = policy
    category.retention_months = retention


def create_category(session: Session, data: CategoryInput) -> Category:
    """Add a category; flushes.

    :raise ValidationFailed: empty name, malformed or taken slug, missing or
        inactive department, unknown visibility, too many keywords, unknown
        SLA policy (None: the configured default targets), a retention that
        is not a whole number of months from 1 to ``RETENTION_MONTHS_MAX``.
    """
    category = Category()
    _apply_category(session, category, data)
    session.add(category)
    session.flush()
    return category


def update_category(session: Session, category: Category, data: CategoryInput) -> Category:
    """Change a category (moving it to another department too); flushes.

    :raise ValidationFailed: as ``create_category``.
    """
    _apply_category(session, category, data)
    session.flush()
    return category


# --- SLA policies --------------------------------------------------------------------------

TARGET_MAX = 999       # business hours or days
EXTENSION_MAX = 60     # business days


@dataclass(frozen=True)
class SlaPolicyInput:
    """A policy as typed in the form: numbers arrive as text, checked here."""

    name: str
    kind: str
    first_response_target: str | None
    first_response_unit: str
    resolution_target: str | None
    resolution_unit: str
    warn_percent: str | None = "75"
    extension_days: str | None = None


def _whole_number(errors: dict[str, list[str]], field: str, text: str | None, *,
                  low: int, high: int, required: bool = False) -> int | None:
    """``text`` as an int in [low, high]; None when empty (an error if required)."""
    text = (text or "").strip()
    if not text:
        if required:
            errors[field] = [_("Escribe un número.")]
        return None
    if not text.isdigit() or not low <= int(text) <= high:
        errors[field] = [_("Escribe un número entero entre %(low)d y %(high)d.",
                           low=low, high=high)]
        return None
    return int(text)


def _apply_sla_policy(session: Session, policy: SlaPolicy, data: SlaPolicyInput) -> None:
    errors: dict[str, list[str]] = {}
    name = (data.name or "").strip()
    if not name or len(name) > NAME_MAX:
        errors["name"] = [_("Escribe un nombre de hasta %(n)d caracteres.", n=NAME_MAX)]
    elif _clash(session, SlaPolicy, SlaPolicy.name, name, policy.id):
        errors["name"] = [_("Ya existe una política con ese nombre.")]
    kind = PolicyKind(data.kind) if data.kind in PolicyKind._value2member_map_ else None
    if kind is None:
        errors["kind"] = [_("Elige el tipo de plazo.")]
    units = {}
    for field in ("first_response_unit", "resolution_unit"):
        value = getattr(data, field)
        if value in TargetUnit._value2member_map_:
            units[field] = TargetUnit(value)
        else:
            errors[field] = [_("Elige horas o días hábiles.")]
    first = _whole_number(errors, "first_response_target", data.first_response_target,
                          low=1, high=TARGET_MAX)
    resolution = _whole_number(errors, "resolution_target", data.resolution_target,
                               low=1, high=TARGET_MAX)
    warn = _whole_number(errors, "warn_percent", data.warn_percent, low=1, high=100,
                         required=True)
    extension = _whole_number(errors, "extension_days", data.extension_days,
                              low=1, high=EXTENSION_MAX)
    legal = kind is PolicyKind.LEY_20285
    if legal and units.get("resolution_unit") is TargetUnit.BUSINESS_HOURS:
        errors["resolution_unit"] = [_("La Ley 20.285 cuenta días hábiles, no horas.")]
    if (kind is not None and not legal and first is None and resolution is None
            and "first_response_target" not in errors and "resolution_target" not in errors):
        errors["resolution_target"] = [_("Escribe al menos un plazo: primera respuesta o "
                                         "resolución.")]
    if errors:
        raise ValidationFailed(_("Revisa los datos de la política de plazos."), errors)
    policy.name, policy.kind = name, kind
    policy.first_response_target, policy.resolution_target = first, resolution
    policy.first_response_unit = units["first_response_unit"]
    policy.resolution_unit = units["resolution_unit"]
    policy.warn_percent, policy.extension_days = warn, extension


def create_sla_policy(session: Session, data: SlaPolicyInput) -> SlaPolicy:
    """Add an SLA policy; flushes.

    A Ley 20.285 policy may leave its targets empty: the legal 20 business
    days, extendable once by 10, then apply (``deadlines.clock.effective_policy``).

    :raise ValidationFailed: empty, too long or taken name; unknown kind or
        unit; a target, warning percentage or extension that is not a whole
        number in range; a Ley 20.285 resolution counted in hours; a service
        or OIRS policy with no target at all.
    """
    policy = SlaPolicy()
    _apply_sla_policy(session, policy, data)
    session.add(policy)
    session.flush()
    return policy


def update_sla_policy(session: Session, policy: SlaPolicy, data: SlaPolicyInput) -> SlaPolicy:
    """Change a policy; flushes. Requests already filed keep their due dates
    (they are set at intake); new requests of its categories get the new targets.

    :raise ValidationFailed: as ``create_sla_policy``.
    """
    _apply_sla_policy(session, policy, data)
    session.flush()
    return policy


# --- custom attributes ---------------------------------------------------------------------

@dataclass(frozen=True)
class AttributeInput:
    code: str
    description: str
    datatype: str
    required: bool = False
    variable: bool = True
    datatype_description: str | None = None
    values_text: str = ""


def parse_values(text: str) -> list[tuple[str, str]]:
    """``clave|nombre`` lines as (key, name) pairs; a line without ``|`` uses itself twice.

    :raise ValidationFailed: for a line with an empty key or name.
    """
    pairs = []
    for line in (text or "").splitlines():
        if not line.strip():
            continue
        key, sep, name = line.partition("|")
        key, name = key.strip(), (name.strip() if sep else key.strip())
        if not key or not name:
            raise ValidationFailed(_("Revisa el campo personalizado."), {"values_text": [
                _("Cada línea es «clave|nombre»; la línea «%(line)s» no lo cumple.",
                  line=line.strip())]})
        pairs.append((key, name))
    return pairs


def format_values(attribute: CategoryAttribute) -> str:
    return "\n".join(f"{v['key']}|{v['name']}" for v in attribute.values or [])


def _datatype(value: str) -> Datatype:
    if value not in Datatype._value2member_map_:
        raise ValidationFailed(_("Revisa el campo personalizado."),
                               {"datatype": [_("Elige el tipo de respuesta.")]})
    return Datatype(value)


def _define(session: Session, category: Category, data: AttributeInput,
            order: int | None) -> CategoryAttribute:
    try:
        return define_attribute(
            session, category, code=(data.code or "").strip(), description=data.description,
            datatype=_datatype(data.datatype), required=data.required,
            variable=data.variable, datatype_description=data.datatype_description,
            order=order, values=parse_values(data.values_text))
    except ValidationFailed as error:
        errors = dict(error.field_errors)
        if "values" in errors:
            errors["values_text"] = errors.pop("values")
        raise ValidationFailed(error.message, errors) from None


def create_attribute(session: Session, category: Category,
                     data: AttributeInput) -> CategoryAttribute:
    """Add a custom attribute at the end, validated by ``define_attribute``; flushes.

    :raise ValidationFailed: with the fields of ``define_attribute`` (values
        reported as ``values_text``).
    """
    return _define(session, category, data, order=None)


def update_attribute(session: Session, attribute: CategoryAttribute,
                     data: AttributeInput) -> CategoryAttribute:
    """Change an attribute with the same validation as creating one; flushes.

    The attribute is validated as if it were new among the category's other
    attributes (so its code and order stay unique), then replaces the old row
    with the same order. Stored answers are keyed by code and stay untouched.

    :raise ValidationFailed: as ``create_attribute``.
    """
    category, order = attribute.category, attribute.order
    category.attributes.remove(attribute)
    session.flush()  # the old row is gone, its code and order are free
    return _define(session, category, data, order=order)


def delete_attribute(session: Session, attribute: CategoryAttribute) -> None:
    """Remove an attribute; answers already stored on requests are kept as they are."""
    attribute.category.attributes.remove(attribute)
    session.flush()


def move_attribute(session: Session, attribute: CategoryAttribute, direction: int) -> None:
    """Swap ``attribute`` with its neighbour above (-1) or below (+1); flushes.

    At the top or bottom it does nothing.
    """
    siblings = sorted(attribute.category.attributes, key=lambda a: a.order)
    index = siblings.index(attribute)
    other_index = index + (1 if direction > 0 else -1)
    if not 0 <= other_index < len(siblings):
        return
    other = siblings[other_index]
    mine, theirs = attribute.order, other.order
    # Through a free value, so a unique (category, order) index would never clash.
    attribute.order = max(a.order for a in siblings) + 1
    session.flush()
    other.order, attribute.order = mine, theirs
    session.flush()


# --- staff users ---------------------------------------------------------------------------

@dataclass(frozen=True)
class UserInput:
    email: str
    name: str
    role: str
    department_ids: list[int]
    active: bool = True
    password: str = ""
    password_confirm: str = ""


def _departments(session: Session, ids: list[int]) -> list[Department]:
    if not ids:
        return []
    return list(session.scalars(sa.select(Department).where(Department.id.in_(ids))
                                .order_by(Department.name)))


def _role(value: str) -> Role:
    if value not in Role._value2member_map_:
        raise ValidationFailed(_("Revisa los datos del usuario."),
                               {"role": [_("Elige un rol.")]})
    return Role(value)


def create_staff_user(session: Session, data: UserInput) -> User:
    """Create a staff user through ``accounts.services.create_user``; flushes.

    Admins set a longer initial password (``STAFF_PASSWORD_MIN``) typed twice.

    :raise ValidationFailed: the fields of ``create_user``, a short password
        or the two passwords differing, an unknown role.
    """
    role = _role(data.role)
    errors: dict[str, list[str]] = {}
    if len(data.password or "") < STAFF_PASSWORD_MIN:
        errors["password"] = [_("La contraseña debe tener al menos %(n)d caracteres.",
                                n=STAFF_PASSWORD_MIN)]
    elif data.password != data.password_confirm:
        errors["password_confirm"] = [_("Las dos contraseñas no coinciden.")]
    try:
        user = create_user(session, email=data.email, name=data.name, password=data.password,
                           role=role, departments=_departments(session, data.department_ids))
    except ValidationFailed as error:
        errors = {**error.field_errors, **errors}
        raise ValidationFailed(error.message, _rename_department(errors)) from None
    if errors:
        raise ValidationFailed(_("Revisa los datos del usuario."), errors)
    return user


def _rename_department(errors: dict[str, list[str]]) -> dict[str, list[str]]:
    if "department" in errors:
        errors["departments"] = errors.pop("department")
    return errors


def update_staff_user(session: Session, user: User, data: UserInput, *, by: User) -> User:
    """Change a user's name, email, role, departments and whether they may log in; flushes.

    ``by`` (the admin) cannot take away their own admin role or deactivate
    themselves, so a municipality never locks out its last admin by mistake.

    :raise ValidationFailed: self-demotion or self-deactivation, empty name,
        invalid or taken email, an agent/supervisor without a department.
    """
    role = _role(data.role)
    errors: dict[str, list[str]] = {}
    if user.id == by.id and role is not Role.ADMIN:
        errors["role"] = [_("No puedes quitarte tu propio rol de administrador.")]
    if user.id == by.id and not data.active:
        errors["active"] = [_("No puedes desactivar tu propia cuenta.")]
    name = (data.name or "").strip()
    if not name:
        errors["name"] = [_("Escribe el nombre.")]
    try:
        email = normalize_email(data.email).lower()
    except ValueError:
        errors["email"] = [_("El correo no es válido.")]
    else:
        other = find_by_email(session, email)
        if other is not None and other.id != user.id:
            errors["email"] = [_("Ya existe un usuario con ese correo.")]
    departments = _departments(session, data.department_ids)
    if not role.sees_all_departments and not departments:
        errors["departments"] = [_("Un agente o supervisor debe pertenecer a un departamento.")]
    if errors:
        raise ValidationFailed(_("Revisa los datos del usuario."), errors)
    user.name, user.email, user.role = name, email, role
    user.departments = departments
    user.active = data.active
    session.flush()
    return user


# --- API keys ------------------------------------------------------------------------------

def create_api_key(session: Session, *, name: str,
                   scope_names: list[str]) -> credentials.IssuedSecret:
    """Issue an application key with ``credentials.create_api_key`` (as the CLI does).

    :raise ValidationFailed: empty name or no/unknown scope (reported as ``scopes``).
    """
    try:
        scopes = credentials.parse_scopes(scope_names)
    except ValidationFailed:
        scopes = []  # create_api_key then refuses with "no scope" and creates nothing
    try:
        return credentials.create_api_key(session, name=name, scopes=scopes)
    except ValidationFailed as error:
        errors = dict(error.field_errors)
        if errors.pop("scope", None):
            errors["scopes"] = [_("Marca al menos un alcance.")]
        raise ValidationFailed(error.message, errors) from None


def revoke_api_key(session: Session, key: credentials.ApiKey) -> None:
    """Revoke a key at once (idempotent) with ``credentials.revoke_api_key``."""
    credentials.revoke_api_key(session, key)
