from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField

from app.notifications.preferences import NEW_TICKET_LABELS, NewTicketMode


class PreferencesForm(FlaskForm):
    new_ticket = RadioField(
        _l("Solicitudes nuevas en mis departamentos"),
        choices=[(mode.value, NEW_TICKET_LABELS[mode]) for mode in NewTicketMode],
        validate_choice=False,  # the view reports an unknown value in Spanish
    )
    assigned = BooleanField(_l("Cuando se me asigna una solicitud"))
    sla_warning = BooleanField(
        _l("Cuando una solicitud de mi departamento usó el %(share)s de su plazo", share="75%"),
        description=_l("Para funcionarios y jefaturas del departamento."))
    sla_breach = BooleanField(
        _l("Cuando una solicitud de mi departamento superó su plazo"),
        description=_l("Solo para jefaturas. Si ninguna jefatura lo recibe, se envía al "
                       "correo del departamento."))
