"""The audit log: who did what to which record, from where, and when.

- ``models``: ``AuditEntry``, append-only from the application (ORM guards;
  on PostgreSQL also a trigger from the migration).
- ``service``: ``record()``, the one way to write an entry, and
  ``client_ip()`` for views.
- ``routes``: the admins' audit page (``/gestion/auditoria``) and its CSV.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from app.audit.routes import bp

    app.register_blueprint(bp)
