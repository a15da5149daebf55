"""Who may do what: the one place role checks live (see docs/SECURITY.md).

Two questions, answered here and nowhere else:

- ``allowed(user, action)``: may this staff member use this kind of page at
  all? ``ACTION_ROLES`` is the written matrix of roles × actions; views use
  ``require_role(action)`` (403 when not) or ``allowed`` to hide links.
- which requests: ``can(user, action, ticket)`` adds the department rule of
  ``tickets.access`` (managers and admins see every department; agents and
  supervisors only theirs), which views apply by loading tickets with
  ``get_visible_ticket_or_404`` (404, like a missing request).

Residents (by tracking code) and API credentials are not users: their rules
are in ``channels.web`` (a code shows only its own request) and
``accounts.credentials.Scope`` / ``api.auth`` (scopes, staff tokens).
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Callable

from flask import abort
from flask_login import current_user

from app.accounts.models import Role, User

STAFF = frozenset(Role)


class Action(enum.StrEnum):
    WORK_TICKETS = "work_tickets"          # queue, detail, reply, note, status, reassign,
                                           # attachments, merge, counter entry
    ANSWER_STAFF_SURVEYS = "answer_staff_surveys"
    NOTIFICATION_PREFERENCES = "notification_preferences"
    BUILD_SURVEYS = "build_surveys"        # create, edit, publish, close, questions
    READ_SURVEY_RESULTS = "read_survey_results"  # results pages and CSV exports


ACTION_ROLES: dict[Action, frozenset[Role]] = {
    Action.WORK_TICKETS: STAFF,
    Action.ANSWER_STAFF_SURVEYS: STAFF,
    Action.NOTIFICATION_PREFERENCES: STAFF,
    Action.BUILD_SURVEYS: frozenset({Role.ADMIN}),
    Action.READ_SURVEY_RESULTS: frozenset({Role.MANAGER, Role.ADMIN}),
}


def allowed(user: User, action: Action) -> bool:
    """May ``user`` (a logged-in staff member, active) use ``action``'s pages?"""
    return bool(getattr(user, "is_authenticated", False)) and user.active \
        and user.role in ACTION_ROLES[action]


def can(user: User, action: Action, ticket=None) -> bool:
    """``allowed``, and for a request also the department rule."""
    if not allowed(user, action):
        return False
    if ticket is None:
        return True
    from app.tickets.access import can_see

    return can_see(user, ticket)


def require_role(action: Action) -> Callable:
    """Decorator for a view: 403 unless the logged-in user may use ``action``.

    Apply after ``login_required`` (or in a blueprint that requires login),
    so anonymous visitors are sent to the login page rather than refused.
    """

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            ensure(action)
            return view(*args, **kwargs)

        return wrapper

    return decorator


def ensure(action: Action) -> None:
    """:raise 403: unless the current user may use ``action``."""
    if not allowed(current_user, action):
        abort(403)
