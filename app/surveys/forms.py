"""Survey forms. They parse input; the rules live in the services.

The diagnostic answer forms are built from the survey's questions in the
templates (``surveys/macros.html``) and parsed by ``responses.submit_response``.
"""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice

from app.surveys.builder import (
    DESCRIPTION_MAX,
    HELP_MAX,
    LABEL_MAX,
    PROMPT_MAX,
    SCALE_MAX,
    SCALE_MIN,
    TITLE_MAX,
)
from app.surveys.models import QUESTION_KIND_LABELS, RESOLVED_ANSWER_LABELS, SURVEY_KIND_LABELS
from app.surveys.resolution import COMMENT_MAX

SATISFACTION_SCALE = [
    SelectChoice("5", _l("5 · Muy satisfecho/a")),
    SelectChoice("4", _l("4 · Satisfecho/a")),
    SelectChoice("3", _l("3 · Ni satisfecho/a ni insatisfecho/a")),
    SelectChoice("2", _l("2 · Insatisfecho/a")),
    SelectChoice("1", _l("1 · Muy insatisfecho/a")),
]
QUALITY_SCALE = [
    SelectChoice("5", _l("5 · Muy bueno")),
    SelectChoice("4", _l("4 · Bueno")),
    SelectChoice("3", _l("3 · Regular")),
    SelectChoice("2", _l("2 · Malo")),
    SelectChoice("1", _l("1 · Muy malo")),
]


class ResolutionSurveyForm(FlaskForm):
    resolved = RadioField(
        _l("¿Se resolvió tu solicitud?"), validate_choice=False,
        choices=[SelectChoice(k.value, v) for k, v in RESOLVED_ANSWER_LABELS.items()])
    rating = RadioField(_l("En general, ¿qué tan satisfecho/a quedaste con la atención?"),
                        validate_choice=False, choices=SATISFACTION_SCALE)
    courtesy_rating = RadioField(_l("¿Cómo fue el trato que recibiste? (opcional)"),
                                 validate_choice=False, choices=QUALITY_SCALE)
    time_rating = RadioField(_l("¿Y el tiempo que tomó resolverla? (opcional)"),
                             validate_choice=False, choices=QUALITY_SCALE)
    comment = TextAreaField(_l("¿Algo más que quieras contarnos? (opcional)"),
                            render_kw={"rows": 4, "maxlength": COMMENT_MAX})
    reopen = BooleanField(_l("Quiero que revisen de nuevo mi solicitud (se reabrirá)"),
                          description=_l("Disponible si respondiste «No» o calificaste "
                                         "con 1 o 2."))


class LocalDateField(StringField):
    """A day typed as 2026-03-31 (what date inputs send) or 31-03-2026."""

    def process_formdata(self, valuelist):
        self.data = None
        raw = (valuelist[0] if valuelist else "").strip()
        if not raw:
            return
        try:
            if len(raw) == 10 and raw[2] in "-/" and raw[5] in "-/":
                self.data = date(int(raw[6:]), int(raw[3:5]), int(raw[:2]))
            else:
                self.data = date.fromisoformat(raw)
        except ValueError:
            self.raw_data = [raw]
            raise ValueError(_l("Escribe una fecha válida, por ejemplo 31-03-2026.")) from None

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return self.data.isoformat() if self.data else ""


class SurveyForm(FlaskForm):
    title = StringField(_l("Título"), render_kw={"maxlength": TITLE_MAX})
    kind = SelectField(_l("¿Para quién es?"), validate_choice=False,
                       choices=[SelectChoice("", _l("Elige una opción"))]
                       + [SelectChoice(k.value, v) for k, v in SURVEY_KIND_LABELS.items()])
    description = TextAreaField(
        _l("Presentación (opcional)"),
        description=_l("Se muestra antes de las preguntas: para qué es y cuánto tarda."),
        render_kw={"rows": 3, "maxlength": DESCRIPTION_MAX})
    ask_demographics = BooleanField(
        _l("Preguntar tramo de edad, discapacidad y macrosector (opcionales para quien "
           "responde; solo en encuestas comunitarias)"))
    opens_on = LocalDateField(
        _l("Publicar desde (opcional)"),
        description=_l("Día en que abre, a las 00:00. Vacío: borrador, no se publica."),
        render_kw={"type": "date"})
    closes_on = LocalDateField(
        _l("Cerrar después del (opcional)"),
        description=_l("Último día en que recibe respuestas. Vacío: sin fecha de cierre."),
        render_kw={"type": "date"})


class QuestionForm(FlaskForm):
    kind = SelectField(_l("Tipo de pregunta"), validate_choice=False,
                       choices=[SelectChoice("", _l("Elige una opción"))]
                       + [SelectChoice(k.value, v) for k, v in QUESTION_KIND_LABELS.items()])
    prompt = StringField(_l("Pregunta"), render_kw={"maxlength": PROMPT_MAX})
    help_text = StringField(_l("Ayuda (opcional)"), render_kw={"maxlength": HELP_MAX})
    required = BooleanField(_l("Respuesta obligatoria"))
    options = TextAreaField(_l("Opciones (selección única o múltiple)"),
                            description=_l("Una por línea, en el orden en que se mostrarán."),
                            render_kw={"rows": 5})
    scale_max = SelectField(_l("Escala de 1 a… (escala de notas)"), validate_choice=False,
                            default="5",
                            choices=[SelectChoice(str(n)) for n in range(SCALE_MIN, SCALE_MAX + 1)])
    low_label = StringField(_l("Significado de la nota más baja (opcional)"),
                            description=_l("Por ejemplo: Muy insatisfecho/a."),
                            render_kw={"maxlength": LABEL_MAX})
    high_label = StringField(_l("Significado de la nota más alta (opcional)"),
                             description=_l("Por ejemplo: Muy satisfecho/a."),
                             render_kw={"maxlength": LABEL_MAX})
