"""What the queue and detail templates read from this package.

The queue and detail views live in ``app/staff/routes.py``; rather than
widening their code, the templates call these globals, which read the
current user and, after a refused form, the state ``routes._queue_again`` left
in ``g``.
"""

from __future__ import annotations

from flask import Flask, g, request
from flask_babel import gettext as _
from flask_login import current_user

from app.extensions import db
from app.productivity import bulk, canned, saved_filters
from app.productivity.forms import BulkForm, ConfirmForm, SaveFilterForm
from app.tickets.models import Status, Ticket

UNASSIGN = "nadie"  # the bulk «Asignar a» choice that clears the assignee


def queue_tools() -> dict:
    state = getattr(g, "productivity_state", {})
    bulk_form = state.get("bulk_form") or BulkForm(formdata=None)
    bulk_form.status.choices = [("", _("Elige un estado"))] + [(s.value, s.label)
                                                                 for s in Status]
    bulk_form.assignee.choices = [("", _("Elige a una persona")),
                                  (UNASSIGN, _("Nadie (quitar la asignación)"))] + [
        (str(member.id), f"{member.name} ({', '.join(names)})")
        for member, names in bulk.assignable_members(db.session, current_user)]
    selected = set(request.form.getlist("ids")) if request.method == "POST" else set()
    query = saved_filters.clean_query(request.args)
    return {
        "saved": saved_filters.of_user(db.session, current_user),
        "save_form": state.get("save_form") or SaveFilterForm(formdata=None),
        "bulk_form": bulk_form,
        "confirm_form": ConfirmForm(formdata=None),
        "failures": state.get("failures", []),
        "selected": selected,
        "query": ("?" + query) if query else "",
    }


def canned_answers_for(ticket: Ticket) -> list[tuple[int, str, str]]:
    """(id, title, text with placeholders filled) of the answers ``ticket`` offers."""
    return [(a.id, a.title, canned.fill_placeholders(a.body, ticket))
            for a in canned.available_for(db.session, ticket)]


def init_app(app: Flask) -> None:
    app.add_template_global(queue_tools, "queue_tools")
    app.add_template_global(canned_answers_for, "canned_answers_for")
