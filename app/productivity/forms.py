from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField, TextAreaField

from app.forms import int_or_none
from app.productivity.canned import TITLE_MAX
from app.productivity.saved_filters import NAME_MAX
from app.tickets.timeline import MESSAGE_MAX


class CannedAnswerForm(FlaskForm):
    department = SelectField(_l("Departamento"), coerce=int_or_none, validate_choice=False)
    title = StringField(_l("Título"), description=_l("Lo que se ve en la lista al responder."),
                        render_kw={"maxlength": TITLE_MAX})
    body = TextAreaField(
        _l("Texto"),
        description=_l("Puedes usar {numero} (número de la solicitud), {categoria} y "
                       "{vecino} (nombre del vecino/a); se reemplazan al insertarla."),
        render_kw={"rows": 6, "maxlength": MESSAGE_MAX})
    active = BooleanField(_l("Disponible al responder"), default=True)


class SaveFilterForm(FlaskForm):
    name = StringField(_l("Nombre de esta vista"), render_kw={"maxlength": NAME_MAX},
                       description=_l("Guarda los filtros y el orden actuales."))

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", "view")
        super().__init__(*args, **kwargs)


class BulkForm(FlaskForm):
    status = SelectField(_l("Nuevo estado"), validate_choice=False)
    note = TextAreaField(_l("Motivo o mensaje"),
                         description=_l("El mismo para todas. Obligatorio al pedir "
                                        "información, derivar o cerrar sin resolver."),
                         render_kw={"rows": 2, "maxlength": MESSAGE_MAX})
    visible_to_resident = BooleanField(_l("Los vecinos/as pueden ver este cambio y su motivo"),
                                       default=True)
    assignee = SelectField(_l("Asignar a"), validate_choice=False,
                           description=_l("Solo personas del departamento de cada "
                                          "solicitud."))
    target = StringField(_l("Número de la solicitud que se mantiene"),
                         description=_l("Por ejemplo: 2026-000123. Las demás marcadas pasan "
                                        "a «Duplicada»."),
                         render_kw={"maxlength": 20, "autocomplete": "off"})
    reason = TextAreaField(_l("Por qué es el mismo problema"),
                           description=_l("Solo lo ve el personal municipal."),
                           render_kw={"rows": 2, "maxlength": MESSAGE_MAX})

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", "bulk")
        super().__init__(*args, **kwargs)


class ConfirmForm(FlaskForm):
    """A button that only needs the CSRF token (delete)."""
