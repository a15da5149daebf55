"""Figures computed in SQL, for the manager dashboards and the public pages.

- ``percentile``: ``percentile_cont`` on PostgreSQL, the same aggregate on SQLite.
- ``expressions``: calendar seconds between timestamps, bucketing by instants.
- ``periods``: presets, local month and business-day ageing boundaries.
- ``filters``: ``MetricsFilter`` (date range, department, category, channel,
  macrosector, and the viewer's departments through ``tickets.access``).
- ``queries``: one function, one GROUP BY query per figure.
- ``charts``, ``tables``, ``exports``, ``routes``: the dashboard
  ``/gestion/tablero`` with SVG charts, accessible tables, CSV and XLSX.
- ``public``: the transparency pages' figures (``app/transparency``), with
  small cells suppressed in the query.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the SQLite percentile function and the dashboard blueprint."""
    from app.extensions import db
    from app.metrics.percentile import install

    with app.app_context():
        install(db.engine)
    from app.metrics.routes import bp

    app.register_blueprint(bp)
