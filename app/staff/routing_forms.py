"""Forms of the routing admin pages and of assignment on the request page.

They parse input; the rules live in ``catalog.rules`` and ``tickets.assignment``.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField, TextAreaField

from app.catalog import rules
from app.forms import int_or_none
from app.staff.forms import _PrefixedForm
from app.tickets.intake import ADDRESS_MAX, DESCRIPTION_MAX


class RuleForm(FlaskForm):
    name = StringField(_l("Nombre de la regla"),
                       description=_l("Aparece en el historial de cada solicitud que envía."),
                       render_kw={"maxlength": rules.NAME_MAX})
    category = SelectField(_l("Categoría"), coerce=int_or_none, validate_choice=False)
    keywords = StringField(
        _l("Palabras clave"),
        description=_l("Separadas por comas; basta con una. Se buscan como palabras "
                       "completas en la descripción y la dirección, sin importar "
                       "mayúsculas ni tildes."),
        render_kw={"maxlength": rules.KEYWORDS_MAX})
    macrosector = SelectField(_l("Macrosector"), coerce=int_or_none, validate_choice=False)
    address_contains = StringField(
        _l("La dirección contiene"),
        description=_l("Por ejemplo «Los Jazmines». Sin importar mayúsculas ni tildes."),
        render_kw={"maxlength": rules.ADDRESS_MAX})
    channel = SelectField(_l("Canal"), validate_choice=False)
    department = SelectField(_l("Enviar al departamento"), coerce=int_or_none,
                             validate_choice=False)
    active = BooleanField(_l("Regla activa"), default=True)


class PreviewForm(FlaskForm):
    """The 'which department would this request go to?' form (GET, creates nothing)."""

    class Meta:
        csrf = False

    category = SelectField(_l("Categoría"), coerce=int_or_none, validate_choice=False)
    description = TextAreaField(_l("Texto de la solicitud"),
                                render_kw={"rows": 3, "maxlength": DESCRIPTION_MAX})
    address = StringField(_l("Dirección"), render_kw={"maxlength": ADDRESS_MAX})
    macrosector = SelectField(_l("Macrosector"), coerce=int_or_none, validate_choice=False)
    channel = SelectField(_l("Canal"), validate_choice=False)


class DepartmentSettingsForm(FlaskForm):
    auto_assign = SelectField(_l("Asignación automática"), validate_choice=False)


class ConfirmForm(FlaskForm):
    """Only the CSRF token: for move, delete and 'assign to me' buttons."""


class AssignForm(_PrefixedForm):
    field_prefix = "assign"
    assignee = SelectField(_l("Asignar a"), coerce=int_or_none, validate_choice=False)


class AssignMeForm(_PrefixedForm):
    field_prefix = "assignme"
