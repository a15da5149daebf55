"""Deadlines: SLA clocks on requests, the legal extension, the sweep and auto-close.

The calendar arithmetic is pure code in ``app.calendar``; this package ties
it to the database (policies, the municipal override table, ticket columns).
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the staff pages (extension form, holiday admin), template helpers, CLI."""
    from app.deadlines.cli import deadlines_cli
    from app.deadlines.clock import can_extend
    from app.deadlines.display import deadline_state
    from app.deadlines.forms import ExtensionForm
    from app.deadlines.routes import bp

    app.register_blueprint(bp)
    app.cli.add_command(deadlines_cli)
    app.add_template_filter(deadline_state, "deadline_state")
    app.add_template_global(lambda: ExtensionForm(formdata=None), "new_extension_form")
    app.add_template_global(can_extend, "can_extend_deadline")
