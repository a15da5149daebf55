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
