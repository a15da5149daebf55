"""Satisfaction surveys: after every resolution, and the community and staff diagnoses.

- ``invitations``: the survey a resident gets when a request is resolved
  (created by ``tickets.lifecycle.transition``), and its signed link.
- ``resolution``: recording that survey's answer, reopening on request,
  flagging unhappy answers to the supervisor, and the reminder job.
- ``builder``, ``responses``, ``results``, ``exports``: the diagnostic surveys
  admins build, residents and staff answer, and managers read.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the blueprints, template helpers and CLI of the surveys."""
    from app.surveys.cli import surveys_cli
    from app.surveys.display import average, percentage
    from app.surveys.invitations import resolution_survey_url
    from app.surveys.public_routes import bp as public_bp
    from app.surveys.staff_routes import bp as staff_bp

    app.register_blueprint(public_bp)
    app.register_blueprint(staff_bp)
    app.add_template_global(resolution_survey_url, "resolution_survey_url")
    app.add_template_filter(average, "survey_average")
    app.add_template_filter(percentage, "survey_percent")
    app.cli.add_command(surveys_cli)
