"""Forms of the administration pages; the services do the real validation."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    widgets,
)

from app.accounts.credentials import Scope
from app.accounts.models import Role
from app.catalog.attributes import DATATYPE_LABELS, Datatype
from app.catalog.models import Visibility
from app.catalog.sla import PolicyKind, TargetUnit
from app.forms import int_or_none

ROLE_LABELS = {Role.AGENT: _l("Agente"), Role.SUPERVISOR: _l("Supervisor/a"),
               Role.MANAGER: _l("Directivo/a (ve todos los departamentos)"),
               Role.ADMIN: _l("Administrador/a")}


class CheckboxesField(SelectMultipleField):
    """A list of checkboxes (no JS), validated by the service, not by WTForms."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()

    def pre_validate(self, form):
        pass


class DepartmentForm(FlaskForm):
    name = StringField(_l("Nombre"), render_kw={"maxlength": 120})
    slug = StringField(_l("Identificador"),
                       description=_l("Minúsculas, números y guiones; se usa en enlaces y "
                                      "en la API. Por ejemplo: aseo-ornato."),
                       render_kw={"maxlength": 60, "autocomplete": "off"})
    email = StringField(_l("Correo del departamento (opcional)"),
                        description=_l("Recibe avisos cuando no hay supervisor/a."),
                        render_kw={"maxlength": 254, "type": "email"})
    active = BooleanField(_l("Activo"), default=True)


class MacrosectorForm(FlaskForm):
    name = StringField(_l("Nombre"),
                       description=_l("Como lo conocen los vecinos/as, por ejemplo: "
                                      "Lo Hermida."),
                       render_kw={"maxlength": 120})


class CategoryForm(FlaskForm):
    name = StringField(_l("Nombre"), render_kw={"maxlength": 120})
    slug = StringField(_l("Identificador"),
                       description=_l("Minúsculas, números y guiones. Por ejemplo: "
                                      "luminaria-apagada."),
                       render_kw={"maxlength": 60, "autocomplete": "off"})
    description = TextAreaField(_l("Descripción para el vecino/a"), render_kw={"rows": 3})
    department = SelectField(_l("Departamento a cargo"), coerce=int_or_none,
                             validate_choice=False)
    visibility = SelectField(_l("Visibilidad"), validate_choice=False, choices=[
        (Visibility.PUBLIC.value, _l("Pública: aparece en el formulario y en Open311")),
        (Visibility.PRIVATE.value, _l("Privada: solo la usa el personal municipal")),
    ])
    active = BooleanField(_l("Activa"), default=True)
    allows_anonymous = BooleanField(_l("Admite solicitudes anónimas"))
    keywords = StringField(_l("Palabras clave"),
                           description=_l("Sinónimos separados por comas, por ejemplo: "
                                          "poste, farol, luz."),
                           render_kw={"maxlength": 300})
    sla_policy = SelectField(_l("Política de plazos"), coerce=int_or_none,
                             validate_choice=False,
                             description=_l("Fija los plazos de primera respuesta y de "
                                            "resolución de sus solicitudes nuevas."))
    # Its description names the municipality's default: set by the view.
    retention_months = StringField(
        _l("Meses que se guardan los datos personales (opcional)"),
        render_kw={"inputmode": "numeric", "maxlength": 3, "autocomplete": "off"})


UNIT_CHOICES = [(TargetUnit.BUSINESS_HOURS.value, _l("horas hábiles")),
                (TargetUnit.BUSINESS_DAYS.value, _l("días hábiles"))]
NUMBER = {"inputmode": "numeric", "maxlength": 3, "autocomplete": "off"}


class SlaPolicyForm(FlaskForm):
    name = StringField(_l("Nombre"), render_kw={"maxlength": 120})
    kind = SelectField(_l("Tipo de plazo"), validate_choice=False,
                       choices=[(k.value, k.label) for k in PolicyKind])
    first_response_target = StringField(
        _l("Plazo de primera respuesta (opcional)"),
        description=_l("Un número entero; vacío: sin plazo de primera respuesta."),
        render_kw=NUMBER)
    first_response_unit = SelectField(_l("Unidad de la primera respuesta"),
                                      validate_choice=False, choices=UNIT_CHOICES,
                                      default=TargetUnit.BUSINESS_HOURS.value)
    resolution_target = StringField(
        _l("Plazo de resolución"),
        description=_l("Un número entero. En Ley 20.285, vacío: los 20 días hábiles legales."),
        render_kw=NUMBER)
    resolution_unit = SelectField(_l("Unidad de la resolución"), validate_choice=False,
                                  choices=UNIT_CHOICES, default=TargetUnit.BUSINESS_DAYS.value)
    warn_percent = StringField(
        _l("Aviso al departamento (porcentaje del plazo)"),
        description=_l("Cuando pasa este porcentaje del plazo de resolución, se avisa. "
                       "Entre 1 y 100."),
        default="75", render_kw=NUMBER)
    extension_days = StringField(
        _l("Días hábiles de prórroga (opcional)"),
        description=_l("Cuántos días suma la única prórroga. En Ley 20.285, vacío: 10 días."),
        render_kw=NUMBER)


class AttributeForm(FlaskForm):
    code = StringField(_l("Código"),
                       description=_l("Letras, números y _; por ejemplo tipo_luminaria."),
                       render_kw={"maxlength": 40, "autocomplete": "off"})
    description = StringField(_l("Pregunta"), render_kw={"maxlength": 500})
    datatype = SelectField(_l("Tipo de respuesta"), validate_choice=False,
                           choices=[(d.value, DATATYPE_LABELS[d]) for d in Datatype])
    datatype_description = StringField(_l("Ayuda (opcional)"), render_kw={"maxlength": 500})
    values_text = TextAreaField(
        _l("Opciones (solo para listas)"),
        description=_l("Una por línea, como clave|nombre. Por ejemplo: led|Luminaria LED."),
        render_kw={"rows": 5})
    required = BooleanField(_l("Obligatoria"))
    variable = BooleanField(_l("El vecino/a responde (si no, es solo informativa)"),
                            default=True)


class UserForm(FlaskForm):
    name = StringField(_l("Nombre"), render_kw={"maxlength": 120, "autocomplete": "off"})
    email = StringField(_l("Correo"), render_kw={"maxlength": 254, "type": "email",
                                                  "autocomplete": "off"})
    role = SelectField(_l("Rol"), validate_choice=False,
                       choices=[(r.value, label) for r, label in ROLE_LABELS.items()])
    departments = CheckboxesField(_l("Departamentos"), coerce=int)
    active = BooleanField(_l("Puede ingresar"), default=True)


class NewUserForm(UserForm):
    password = PasswordField(_l("Contraseña inicial"),
                             description=_l("Al menos 12 caracteres. Entrégala por un medio "
                                            "seguro."),
                             render_kw={"autocomplete": "new-password"})
    password_confirm = PasswordField(_l("Repite la contraseña"),
                                     render_kw={"autocomplete": "new-password"})


class ApiKeyForm(FlaskForm):
    name = StringField(_l("Nombre de la aplicación"), render_kw={"maxlength": 120})
    scopes = CheckboxesField(_l("Alcances"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.scopes.choices = [(s.value, f"{s.description} ({s.value})") for s in Scope]
