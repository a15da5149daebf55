"""Resident web forms. They parse input; the rules live in ``tickets.intake``."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField, TextAreaField

from app.forms import int_or_none
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
    consent = BooleanField(_l("Autorizo a la municipalidad a usar estos datos solo para "
                              "gestionar y responder esta solicitud."))


class TrackForm(FlaskForm):
    code = StringField(
        _l("Código de seguimiento"),
        description=_l("Son 12 letras y números, por ejemplo K7QM-2XDP-9RTA. "
                       "Lo encuentras en el correo o comprobante que recibiste."),
        render_kw={"autocomplete": "off", "autocapitalize": "characters",
                   "spellcheck": "false", "maxlength": 20},
    )
