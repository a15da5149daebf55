"""The dashboard's filter form (GET, no CSRF: it only reads)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField
from wtforms.validators import Optional

from app.forms import int_or_none
from app.metrics.periods import PRESETS

CUSTOM = "personalizado"
MAX_DAYS = 3 * 366


class DashboardFilterForm(FlaskForm):
    class Meta:
        csrf = False

    periodo = SelectField(_l("Periodo"), default="90-dias",
                          choices=[*PRESETS.items(), (CUSTOM, _l("Fechas a elección"))])
    desde = DateField(_l("Desde (fechas a elección)"), validators=[Optional()])
    hasta = DateField(_l("Hasta (fechas a elección)"), validators=[Optional()])
    departamento = SelectField(_l("Departamento"), coerce=int_or_none, validate_choice=True)
    categoria = SelectField(_l("Categoría"), coerce=int_or_none, validate_choice=True)
    canal = SelectField(_l("Canal"), default="", validate_choice=True)
    macrosector = SelectField(_l("Macrosector"), coerce=int_or_none, validate_choice=True)
    desglose = SelectField(_l("Columnas del gráfico de evolución"), default="canal",
                           choices=[("canal", _l("Por canal")),
                                    ("departamento", _l("Por departamento")),
                                    ("categoria", _l("Por categoría"))])

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        for select in (self.periodo, self.departamento, self.categoria, self.canal,
                       self.macrosector, self.desglose):
            if select.errors:  # WTForms' own message is in English
                select.errors = [str(_l("Elige una opción de la lista."))]
        if self.periodo.data == CUSTOM:
            if self.desde.data is None and not self.desde.errors:
                self.desde.errors = [str(_l("Indica desde qué fecha."))]
                valid = False
            if self.hasta.data is None and not self.hasta.errors:
                self.hasta.errors = [str(_l("Indica hasta qué fecha."))]
                valid = False
            if self.desde.data and self.hasta.data:
                if self.desde.data > self.hasta.data:
                    self.hasta.errors = [str(_l("La fecha final no puede ser anterior a la "
                                                "inicial."))]
                    valid = False
                elif (self.hasta.data - self.desde.data).days > MAX_DAYS:
                    self.hasta.errors = [str(_l("Elige un periodo de hasta tres años."))]
                    valid = False
        return valid
