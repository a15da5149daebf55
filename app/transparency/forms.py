from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.widgets import CheckboxInput, ListWidget

from app.transparency.services import BODY_MAX, TITLE_MAX


class ProgressUpdateForm(FlaskForm):
    """A monthly note; the service checks every rule (month, lengths, permission)."""

    department = SelectField(_l("Departamento"), coerce=int, validate_choice=False)
    month = StringField(_l("Mes"), description=_l("Año-mes, por ejemplo 2026-11."),
                        render_kw={"maxlength": 7, "inputmode": "numeric"})
    title = StringField(_l("Título"), render_kw={"maxlength": TITLE_MAX})
    body = TextAreaField(_l("Qué hicimos este mes"),
                         description=_l("Texto breve y público. No incluyas nombres ni datos "
                                        "de vecinos o vecinas."),
                         render_kw={"rows": 5, "maxlength": BODY_MAX})
    publish = BooleanField(_l("Publicar ahora en la página de transparencia"))


class PilotForm(FlaskForm):
    departments = SelectMultipleField(
        _l("Departamentos piloto"), coerce=int, validate_choice=False,
        description=_l("Se destacan en la página pública. Elige hasta tres."),
        widget=ListWidget(prefix_label=False), option_widget=CheckboxInput())
