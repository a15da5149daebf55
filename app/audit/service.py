"""Writing audit entries: ``record()`` is the only way in."""

from __future__ import annotations

from datetime import datetime

from flask import has_request_context, request
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.audit.models import AuditEntry
from app.database import utcnow


def client_ip() -> str | None:
    """The client address of the current request (ProxyFix, if any, already applied)."""
    if not has_request_context():
        return None
    return (request.remote_addr or "")[:45] or None


def record(session: Session, *, actor: User | None, action: str,
           target_type: str | None = None, target_id: int | str | None = None,
           details: dict | None = None, ip: str | None = None,
           now: datetime | None = None, actor_label: str | None = None) -> AuditEntry:
    """Add one audit entry in the caller's transaction and flush it.

    ``actor`` is the staff user (None for the system or an unknown login);
    ``actor_label`` defaults to their email at this moment, so the entry
    still says who it was if the account changes. ``details`` must hold ids,
    field names and counts only, never personal data values. Never commits.
    """
    entry = AuditEntry(
        created_at=now or utcnow(),
        actor_id=actor.id if actor is not None else None,
        actor_label=(actor_label if actor_label is not None
                     else actor.email if actor is not None else None),
        ip=ip, action=action, target_type=target_type,
        target_id=str(target_id) if target_id is not None else None,
        details=details or {},
    )
    session.add(entry)
    session.flush()
    return entry
