from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice

from app.deadlines.clock import REASON_MAX
from app.deadlines.models import OVERRIDE_KIND_LABELS, OverrideKind


class ExtensionForm(FlaskForm):
    """Prorrogar plazo (Ley 20.285): the reason is required, checked by the service."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", "extension")
        super().__init__(*args, **kwargs)

    reason = TextAreaField(
        _l("Motivo de la prórroga"),
        description=_l("El vecino/a lo verá en su página de seguimiento y por correo. "
                       "La prórroga se puede aplicar una sola vez."),
        render_kw={"rows": 3, "maxlength": REASON_MAX})


class HolidayForm(FlaskForm):
    day = StringField(_l("Fecha"), description=_l("Día-mes-año, por ejemplo 24-12-2026."),
                      render_kw={"maxlength": 10, "inputmode": "numeric"})
    name = StringField(_l("Nombre"), description=_l("Por ejemplo: Aniversario de la comuna."),
                       render_kw={"maxlength": 120})
    kind = SelectField(_l("Tipo"), validate_choice=False,
                       choices=[SelectChoice(k.value, OVERRIDE_KIND_LABELS[k])
                                for k in OverrideKind])
