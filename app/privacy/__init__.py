"""Privacy (Ley 19.628, Ley 21.719): retention, residents' rights, the public policy.

- ``anonymisation``: ``anonymise_ticket`` removes a request's personal data
  and keeps what statistics need; ``ANONYMISERS`` is the seam for other
  features' personal data (e.g. raw inbound email).
- ``retention``: which requests are past their category's retention and
  ``apply_retention``, the scheduler job's one batch.
- ``subject``: a resident's data export (JSON and HTML) and erasure, done by
  staff on a verified request.
- ``routes``: ``/gestion/privacidad`` (staff) and ``/privacidad`` (public policy).
- ``cli``: ``flask privacy retention [--dry-run]``.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from app.privacy.cli import privacy_cli
    from app.privacy.routes import bp, public_bp

    app.register_blueprint(bp)
    app.register_blueprint(public_bp)
    app.cli.add_command(privacy_cli)
