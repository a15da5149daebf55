"""Resident web forms. They parse input; the rules live in ``tickets.intake``."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    MultipleFileField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.widgets import CheckboxInput, ListWidget

from app.catalog.attributes import STRING_MAX, TEXT_MAX, CategoryAttribute, Datatype
from app.catalog.models import Category
from app.forms import int_or_none
from app.tickets.attachments import ACCEPTED_TYPES
from app.tickets.intake import ADDRESS_MAX, DESCRIPTION_MAX, NAME_MAX, PHONE_MAX


class SubmitRequestForm(FlaskForm):
    category = SelectField(_l("¿Sobre qué es tu solicitud?"), coerce=int_or_none,
                           validate_choice=False)
    description = TextAreaField(
        _l("Cuéntanos qué pasa"),
        description=_l("Qué ocurre, desde cuándo y cualquier detalle que nos ayude."),
        render_kw={"maxlength": DESCRIPTION_MAX, "rows": 6},
    )
    address = StringField(
        _l("Dirección o lugar (opcional)"),
        description=_l("Calle y número, o una referencia. Por ejemplo: Av. Grecia 8735."),
        render_kw={"maxlength": ADDRESS_MAX, "autocomplete": "street-address"},
    )
    macrosector = SelectField(_l("Sector (opcional)"), coerce=int_or_none,
                              validate_choice=False)
    name = StringField(_l("Nombre"), render_kw={"maxlength": NAME_MAX,
                                                "autocomplete": "name"})
    email = StringField(
        _l("Correo electrónico"),
        description=_l("Te enviaremos el código de seguimiento y cada novedad."),
        render_kw={"type": "email", "autocomplete": "email", "maxlength": 254},
    )
    phone = StringField(_l("Teléfono"), render_kw={"type": "tel", "autocomplete": "tel",
                                                   "maxlength": PHONE_MAX})
    rut = StringField(_l("RUT (opcional)"),
                      description=_l("Por ejemplo: 12.345.678-5."),
                      render_kw={"maxlength": 12})
    # The category whose questions the page shows (see channels.web.submit).
    shown_category = HiddenField()
    consent = BooleanField(_l("Autorizo a la municipalidad a usar estos datos solo para "
                              "gestionar y responder esta solicitud."))
    attachments = MultipleFileField(
        _l("Fotos o documentos (opcional)"),
        render_kw={"accept": ACCEPTED_TYPES})


class CounterRequestForm(SubmitRequestForm):
    """Staff entering a request for a resident by phone or at the counter."""

    channel = RadioField(_l("¿Cómo llegó la solicitud?"),
                         choices=[("counter", _l("En persona, en la oficina")),
                                  ("phone", _l("Por teléfono"))],
                         default="counter", validate_choice=False)
    consent = BooleanField(_l("El vecino/a autoriza el uso de sus datos para gestionar y "
                              "responder esta solicitud"),
                           description=_l("Pregúntale antes de anotar sus datos de "
                                          "contacto. Sin datos de contacto no hace falta."))


class LookupForm(FlaskForm):
    """Posted (with CSRF), never a GET: the value is personal data (email, RUT)."""

    buscar = StringField(_l("Correo, teléfono o RUT del vecino/a"),
                         description=_l("Por ejemplo: vecina@correo.cl, +56 9 1234 5678 "
                                        "o 12.345.678-5."),
                         render_kw={"maxlength": 254, "autocomplete": "off"})


class TrackForm(FlaskForm):
    code = StringField(
        _l("Código de seguimiento"),
        description=_l("Son 12 letras y números, por ejemplo K7QM-2XDP-9RTA. "
                       "Lo encuentras en el correo o comprobante que recibiste."),
        render_kw={"autocomplete": "off", "autocapitalize": "characters",
                   "spellcheck": "false", "maxlength": 20},
    )


def _attribute_field(attribute: CategoryAttribute):
    """The form field asking one custom attribute (see ``catalog.attributes``)."""
    label = attribute.description if attribute.required else _l(
        "%(question)s (opcional)", question=attribute.description)
    hint = attribute.datatype_description
    kind = attribute.datatype
    if kind is Datatype.SINGLEVALUELIST:
        choices = [SelectChoice("", _l("Elige una opción"))] + [
            SelectChoice(v["key"], v["name"]) for v in attribute.values]
        return SelectField(label, description=hint, choices=choices, validate_choice=False)
    if kind is Datatype.MULTIVALUELIST:
        return SelectMultipleField(
            label, description=hint,
            choices=[SelectChoice(v["key"], v["name"]) for v in attribute.values],
            validate_choice=False, widget=ListWidget(prefix_label=False),
            option_widget=CheckboxInput())
    if kind is Datatype.TEXT:
        return TextAreaField(label, description=hint,
                             render_kw={"rows": 4, "maxlength": TEXT_MAX})
    if kind is Datatype.NUMBER:
        return StringField(label, description=hint or _l("Un número, por ejemplo 3 o 2,5."),
                           render_kw={"inputmode": "decimal", "maxlength": 30})
    if kind is Datatype.DATETIME:
        return StringField(label, description=hint, render_kw={"type": "datetime-local"})
    return StringField(label, description=hint, render_kw={"maxlength": STRING_MAX})


def attribute_field_name(code: str) -> str:
    return f"attr_{code}"


def submit_form_class(category: Category | None,
                      base: type[SubmitRequestForm] = SubmitRequestForm
                      ) -> type[SubmitRequestForm]:
    """The submission form (``base``) with one field per question of ``category``."""
    attributes = [a for a in (category.attributes if category else []) if a.variable]
    if not attributes:
        return base
    fields = {attribute_field_name(a.code): _attribute_field(a) for a in attributes}
    return type(f"{base.__name__}WithAttributes", (base,), fields)
