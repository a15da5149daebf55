from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, MultipleFileField, SelectField, StringField, TextAreaField

from app.forms import int_or_none
from app.tickets.attachments import ACCEPTED_TYPES
from app.tickets.timeline import MESSAGE_MAX


class _PrefixedForm(FlaskForm):
    """Several forms share the detail page; a prefix keeps their field ids unique."""

    field_prefix = ""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", self.field_prefix)
        super().__init__(*args, **kwargs)


class ReplyForm(_PrefixedForm):
    field_prefix = "reply"
    body = TextAreaField(_l("Respuesta al vecino/a"),
                         description=_l("La verá en su página de seguimiento y por correo."),
                         render_kw={"rows": 4, "maxlength": MESSAGE_MAX})


class NoteForm(_PrefixedForm):
    field_prefix = "note"
    body = TextAreaField(_l("Nota interna"),
                         description=_l("Solo la ve el personal municipal."),
                         render_kw={"rows": 3, "maxlength": MESSAGE_MAX})


class StatusForm(_PrefixedForm):
    field_prefix = "status"
    status = SelectField(_l("Nuevo estado"), validate_choice=False)
    note = TextAreaField(_l("Motivo o mensaje"),
                         description=_l("Obligatorio al pedir información al vecino/a, "
                                        "derivar, marcar duplicada o cerrar sin resolver."),
                         render_kw={"rows": 3, "maxlength": MESSAGE_MAX})
    visible_to_resident = BooleanField(_l("El vecino/a puede ver este cambio y su motivo"),
                                       default=True)


class ReassignForm(_PrefixedForm):
    field_prefix = "reassign"
    department = SelectField(_l("Departamento"), coerce=int_or_none, validate_choice=False)
    reason = TextAreaField(_l("Motivo de la reasignación"),
                           render_kw={"rows": 2, "maxlength": MESSAGE_MAX})


class AttachmentForm(_PrefixedForm):
    field_prefix = "attachment"
    files = MultipleFileField(_l("Archivos"), render_kw={"accept": ACCEPTED_TYPES})
    public = BooleanField(_l("El vecino/a puede ver estos archivos en su página de "
                             "seguimiento"), default=False)


class MergeForm(_PrefixedForm):
    field_prefix = "merge"
    target = StringField(_l("Número de la solicitud que se mantiene"),
                         description=_l("Por ejemplo: 2026-000123. Esta solicitud pasará a "
                                        "«Duplicada» y su vecino/a seguirá la otra."),
                         render_kw={"maxlength": 20, "autocomplete": "off",
                                    "inputmode": "numeric"})
    reason = TextAreaField(_l("Por qué es el mismo problema"),
                           description=_l("Solo lo ve el personal municipal."),
                           render_kw={"rows": 2, "maxlength": MESSAGE_MAX})
