"""Form helpers shared by the resident and staff pages."""

from __future__ import annotations

from flask_wtf import FlaskForm

from app.domain import DomainError


def apply_domain_errors(form: FlaskForm, error: DomainError) -> None:
    """Show a service's per-field messages on the matching form fields.

    Messages for fields the form does not have are added to ``form.form_errors``
    so the error summary still lists them.
    """
    for name, messages in error.field_errors.items():
        field = getattr(form, name, None)
        if field is not None:
            field.errors = list(field.errors) + list(messages)
        else:
            form.form_errors.extend(messages)
    if not error.field_errors:
        form.form_errors.append(error.message)


def int_or_none(value):
    """Coerce a select's value to int; empty or invalid input becomes None.

    The service then reports the missing choice in Spanish, instead of
    WTForms' own English "Not a valid choice".
    """
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None
