from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import InputRequired


class LoginForm(FlaskForm):
    email = StringField(_l("Correo"), validators=[InputRequired(_l("Escribe tu correo."))],
                        render_kw={"type": "email", "autocomplete": "username"})
    password = PasswordField(_l("Contraseña"),
                             validators=[InputRequired(_l("Escribe tu contraseña."))],
                             render_kw={"autocomplete": "current-password"})


class ResetRequestForm(FlaskForm):
    email = StringField(_l("Correo"), validators=[InputRequired(_l("Escribe tu correo."))],
                        render_kw={"type": "email", "autocomplete": "username"})


class NewPasswordForm(FlaskForm):
    password = PasswordField(
        _l("Contraseña nueva"),
        validators=[InputRequired(_l("Escribe la contraseña nueva."))],
        description=_l("Al menos 12 caracteres. Una frase de varias palabras es fácil de "
                       "recordar y difícil de adivinar."),
        render_kw={"autocomplete": "new-password"})
    confirmation = PasswordField(
        _l("Repite la contraseña nueva"),
        validators=[InputRequired(_l("Repite la contraseña nueva."))],
        render_kw={"autocomplete": "new-password"})


def _code_field(label):
    return StringField(label, validators=[InputRequired(_l("Escribe el código de 6 dígitos."))],
                       render_kw={"autocomplete": "one-time-code", "inputmode": "numeric",
                                  "maxlength": "8"})


class CodeForm(FlaskForm):
    """The second login step, and turning TOTP on."""

    code = _code_field(_l("Código de 6 dígitos de tu aplicación de autenticación"))


class DisableTotpForm(FlaskForm):
    password = PasswordField(_l("Contraseña"),
                             validators=[InputRequired(_l("Escribe tu contraseña."))],
                             render_kw={"autocomplete": "current-password"})
    code = _code_field(_l("Código de 6 dígitos"))
