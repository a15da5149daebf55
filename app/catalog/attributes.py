"""Per-category custom attributes (Open311 "service definitions").

A category may ask extra questions ("¿Qué tipo de luminaria?"). The same
definitions drive the resident web form, the REST API and Open311's
``services/{code}``, and ``clean_values`` is the one validation every channel
goes through (``tickets.intake.submit`` calls it), so the three stay consistent.

Datatypes are Open311's six: ``string`` (one line), ``number``, ``datetime``
(ISO 8601; without an offset it is read as America/Santiago), ``text`` (may
have line breaks), ``singlevaluelist`` and ``multivaluelist`` (keys from
``values``). An attribute with ``variable = False`` only informs: it has no
input and takes no value.
"""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, Session, backref, mapped_column, relationship

from app.catalog.models import Category
from app.database import UTCDateTime, utcnow
from app.domain import ValidationFailed
from app.extensions import db

LOCAL_TZ = ZoneInfo("America/Santiago")
CODE_RE = re.compile(r"^[A-Za-z0-9_]{1,40}$")
STRING_MAX = 300
TEXT_MAX = 4000
DESCRIPTION_MAX = 500


class Datatype(enum.StrEnum):
    STRING = "string"
    NUMBER = "number"
    DATETIME = "datetime"
    TEXT = "text"
    SINGLEVALUELIST = "singlevaluelist"
    MULTIVALUELIST = "multivaluelist"

    @property
    def is_list(self) -> bool:
        return self in (Datatype.SINGLEVALUELIST, Datatype.MULTIVALUELIST)

    @property
    def label(self) -> str:
        return str(DATATYPE_LABELS[self])


DATATYPE_LABELS = {
    Datatype.STRING: _l("Texto corto"),
    Datatype.NUMBER: _l("Número"),
    Datatype.DATETIME: _l("Fecha y hora"),
    Datatype.TEXT: _l("Texto largo"),
    Datatype.SINGLEVALUELIST: _l("Una opción de una lista"),
    Datatype.MULTIVALUELIST: _l("Varias opciones de una lista"),
}


class CategoryAttribute(db.Model):
    """One extra question of a category; ``values`` holds ``[{"key", "name"}]`` for lists."""

    __tablename__ = "category_attributes"
    __table_args__ = (
        sa.UniqueConstraint("category_id", "code", name="uq_category_attributes_category_code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    category_id: Mapped[int] = mapped_column(
        sa.ForeignKey("categories.id", ondelete="CASCADE"), index=True
    )
    code: Mapped[str] = mapped_column(sa.String(40))
    description: Mapped[str] = mapped_column(sa.String(DESCRIPTION_MAX))
    datatype: Mapped[Datatype] = mapped_column(
        sa.Enum(Datatype, native_enum=False, length=20,
                values_callable=lambda e: [m.value for m in e])
    )
    required: Mapped[bool] = mapped_column(default=False)
    variable: Mapped[bool] = mapped_column(default=True)
    datatype_description: Mapped[str | None] = mapped_column(sa.String(DESCRIPTION_MAX))
    order: Mapped[int] = mapped_column("sort_order", default=1)
    values: Mapped[list[dict[str, str]]] = mapped_column(sa.JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow,
                                                 onupdate=utcnow)

    # A backref keeps catalog/models.py free of this optional feature.
    category: Mapped[Category] = relationship(
        backref=backref("attributes", order_by="CategoryAttribute.order",
                        cascade="all, delete-orphan", passive_deletes=True),
    )

    @property
    def value_names(self) -> dict[str, str]:
        return {v["key"]: v["name"] for v in self.values or []}

    def __repr__(self) -> str:
        return f"<CategoryAttribute {self.code} {self.datatype.value}>"


def define_attribute(
    session: Session,
    category: Category,
    *,
    code: str,
    description: str,
    datatype: Datatype,
    required: bool = False,
    variable: bool = True,
    datatype_description: str | None = None,
    order: int | None = None,
    values: list[tuple[str, str]] | None = None,
) -> CategoryAttribute:
    """Add a custom attribute to ``category``; flushes.

    ``order`` defaults to after the last one; ``values`` are (key, name) pairs
    and are required exactly for the two list datatypes.

    :raise ValidationFailed: if the code is malformed or taken in the category,
        the description is empty or too long, the order is not a positive
        integer unused in the category, the list values are missing, repeated
        or given for a non-list datatype, or an informative attribute is required.
    """
    errors: dict[str, list[str]] = {}
    existing = list(category.attributes)
    if not CODE_RE.match(code or ""):
        errors["code"] = [_("El código usa solo letras, números y _ (hasta 40).")]
    elif any(a.code == code for a in existing):
        errors["code"] = [_("Esta categoría ya tiene un campo con ese código.")]
    description = (description or "").strip()
    if not description or len(description) > DESCRIPTION_MAX:
        errors["description"] = [_("Escribe la pregunta (hasta %(n)d caracteres).",
                                   n=DESCRIPTION_MAX)]
    if order is None:
        order = max((a.order for a in existing), default=0) + 1
    if order < 1 or any(a.order == order for a in existing):
        errors["order"] = [_("El orden debe ser un entero positivo no usado en la categoría.")]
    pairs = [(str(k).strip(), str(n).strip()) for k, n in (values or [])]
    if datatype.is_list:
        keys = [k for k, _n in pairs]
        if not pairs or any(not k or not n for k, n in pairs) or len(set(keys)) != len(keys):
            errors["values"] = [_("Una lista necesita opciones con clave y nombre, sin "
                                  "claves repetidas.")]
    elif pairs:
        errors["values"] = [_("Solo las listas llevan opciones.")]
    if required and not variable:
        errors["required"] = [_("Un campo solo informativo no puede ser obligatorio.")]
    if errors:
        raise ValidationFailed(_("Revisa el campo personalizado."), errors)
    attribute = CategoryAttribute(
        category=category, code=code, description=description, datatype=datatype,
        required=required, variable=variable,
        datatype_description=(datatype_description or "").strip() or None,
        order=order, values=[{"key": k, "name": n} for k, n in pairs],
    )
    session.add(attribute)
    session.flush()
    return attribute


def _is_blank(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, list | tuple):
        return all(_is_blank(v) for v in value)
    return False


def _storable(text: str) -> bool:
    """No NUL and valid UTF-8: what PostgreSQL and SQLite can keep."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\x00" not in text


def _clean_one(attribute: CategoryAttribute, raw: object) -> object:
    """Return the stored form of one value.

    :raise ValueError: with a Spanish message when the value does not fit.
    """
    kind = attribute.datatype
    items = raw if isinstance(raw, list | tuple) else [raw]
    for item in items:
        if isinstance(item, dict | list | tuple) or not _storable(str(item)):
            raise ValueError(_("Valor no válido."))
    if kind is Datatype.MULTIVALUELIST:
        keys: list[str] = []
        for item in items:
            if _is_blank(item):
                continue
            key = str(item).strip()
            if key not in attribute.value_names:
                raise ValueError(_("Elige opciones de la lista."))
            if key not in keys:
                keys.append(key)
        return keys
    if isinstance(raw, list | tuple):
        if len(raw) != 1:
            raise ValueError(_("Este campo admite un solo valor."))
        raw = raw[0]
    if kind is Datatype.SINGLEVALUELIST:
        key = str(raw).strip()
        if key not in attribute.value_names:
            raise ValueError(_("Elige una opción de la lista."))
        return key
    if kind is Datatype.NUMBER:
        if isinstance(raw, bool):
            raise ValueError(_("Escribe un número."))
        if isinstance(raw, int | float):
            number = raw
        else:
            text = str(raw).strip().replace(" ", "")
            if text.count(",") == 1 and "." not in text:
                text = text.replace(",", ".")  # Chilean decimal comma
            try:
                number = Decimal(text)
            except InvalidOperation:
                raise ValueError(_("Escribe un número, por ejemplo 12 o 3,5.")) from None
        number = float(number)
        if not math.isfinite(number) or abs(number) > 1e15:
            raise ValueError(_("Escribe un número, por ejemplo 12 o 3,5."))
        return int(number) if number.is_integer() else number
    if kind is Datatype.DATETIME:
        text = str(raw).strip().replace("Z", "+00:00").replace(" ", "T", 1)
        try:
            moment = datetime.fromisoformat(text)
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=LOCAL_TZ)
            moment.astimezone(UTC)  # out of range near year 1 or 9999
        except (ValueError, OverflowError):
            raise ValueError(_("Escribe una fecha y hora, por ejemplo 2026-03-15 18:30.")) from None
        return moment.isoformat(timespec="minutes")
    text = str(raw).strip()
    if kind is Datatype.STRING:
        if "\n" in text or "\r" in text:
            raise ValueError(_("Escribe una sola línea."))
        if len(text) > STRING_MAX:
            raise ValueError(_("Máximo %(n)d caracteres.", n=STRING_MAX))
        return text
    if len(text) > TEXT_MAX:  # Datatype.TEXT
        raise ValueError(_("Máximo %(n)d caracteres.", n=TEXT_MAX))
    return text


def clean_values(
    category: Category, raw: Mapping[str, object] | None
) -> tuple[dict[str, object], dict[str, list[str]]]:
    """Validate the answers given for ``category``'s attributes.

    Returns ``(values, errors)``: ``values`` maps each answered code to its
    stored form (str, int/float, ISO datetime str, or list of keys); errors
    are keyed ``attributes.<code>``. ``raw=None`` means the channel could not
    ask the questions (e.g. email): required attributes are then not
    enforced. Unknown codes and answers to informative attributes are errors.
    """
    values: dict[str, object] = {}
    errors: dict[str, list[str]] = {}
    by_code = {a.code: a for a in category.attributes}
    for code in (raw or {}):
        attribute = by_code.get(code)
        if attribute is None or not attribute.variable:
            errors[f"attributes.{code}"] = [_("Esta categoría no tiene ese campo.")]
    for attribute in category.attributes:
        if not attribute.variable:
            continue
        given = (raw or {}).get(attribute.code)
        if _is_blank(given):
            if attribute.required and raw is not None:
                errors[f"attributes.{attribute.code}"] = [_("Completa este campo.")]
            continue
        try:
            value = _clean_one(attribute, given)
        except ValueError as error:
            errors[f"attributes.{attribute.code}"] = [str(error)]
            continue
        if value == [] and attribute.required:
            errors[f"attributes.{attribute.code}"] = [_("Completa este campo.")]
        elif value != []:
            values[attribute.code] = value
    return values, errors
