from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField


class LinkRequestForm(FlaskForm):
    email = EmailField(_l("Tu correo electrónico"),
                       description=_l("El mismo que usaste al hacer tus solicitudes."),
                       render_kw={"autocomplete": "email", "maxlength": 254,
                                  "spellcheck": "false"})


class RedeemForm(FlaskForm):
    """Only the CSRF token: the link's secret is in the URL."""
