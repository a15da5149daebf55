from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, StringField, TextAreaField


class SubjectSearchForm(FlaskForm):
    buscar = StringField(_l("Correo, teléfono o RUT de la persona"),
                         description=_l("Busca en todas las solicitudes de la municipalidad."),
                         render_kw={"autocomplete": "off", "maxlength": 254})


class SubjectExportForm(FlaskForm):
    buscar = HiddenField()
    formato = HiddenField(default="json")


class SubjectEraseForm(FlaskForm):
    buscar = HiddenField()
    verificacion = TextAreaField(
        _l("¿Cómo verificaste la identidad de la persona?"),
        description=_l("Por ejemplo: «Presentó su cédula de identidad en la oficina de partes» "
                       "o «Respondió desde el correo registrado y con el código de "
                       "seguimiento». Obligatorio."),
        render_kw={"rows": 3, "maxlength": 1000})
    confirmar = BooleanField(_l("Confirmo que la persona pidió eliminar sus datos y que esto "
                                "no se puede deshacer"))
