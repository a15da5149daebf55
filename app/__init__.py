"""Conectados: one place for every resident request of a municipality."""

from __future__ import annotations

import logging
from pathlib import Path

import sqlalchemy as sa
from flask import Flask

from app.config import load_config
from app.extensions import csrf, db, limiter, login_manager, mail, migrate

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict | None = None) -> Flask:
    """Build the app: settings from the environment, then ``config`` on top.

    :raise ConfigError: when the environment cannot run the app safely (e.g.
        production without ``SECRET_KEY``).
    """
    app = Flask(
        __name__,
        instance_path=str(PROJECT_ROOT / "instance"),
        template_folder=str(PROJECT_ROOT / "templates"),
    )
    app.config.update(load_config(Path(app.instance_path)))
    if config:
        app.config.update(config)

    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_template_helpers(app)
    register_commands(app)
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return app


def register_extensions(app: Flask) -> None:
    # Import models so metadata is complete for Alembic and the mappers.
    from app import models  # noqa: F401

    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"))
    mail.init_app(app)
    csrf.init_app(app)
    from app.i18n import init_app as init_i18n

    init_i18n(app)  # Flask-Babel with the locale switch (app/i18n.py)
    login_manager.init_app(app)
    limiter.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = None  # the login page explains itself

    from app.accounts.models import User

    @login_manager.user_loader
    def load_user(user_id: str) -> User | None:
        user = db.session.get(User, int(user_id))
        # A deactivated account loses its open sessions at once (admin pages).
        return user if user is not None and user.active else None

    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            _configure_sqlite(db.engine, app.config["SQLITE_BUSY_TIMEOUT_MS"])


def _configure_sqlite(engine: sa.Engine, busy_timeout_ms: int) -> None:
    """WAL mode, a busy timeout and enforced foreign keys on every connection."""

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()


def register_blueprints(app: Flask) -> None:
    from app.accounts.routes import bp as accounts_bp
    from app.channels.web import bp as resident_bp
    from app.staff.routes import bp as staff_bp

    app.register_blueprint(resident_bp)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(staff_bp)

    from app.notifications.routes import bp as notifications_bp

    app.register_blueprint(notifications_bp)  # "Mis avisos" (/gestion/avisos)
    from app.staff.routing_admin import bp as routing_admin_bp

    app.register_blueprint(routing_admin_bp)  # /gestion/admin/ruteo (admins)

    from app.surveys import init_app as init_surveys

    init_surveys(app)  # its blueprints, template helpers and CLI

    # Counter/phone entry, attachments, duplicates and merging.
    from app.channels.counter import bp as counter_bp
    from app.staff.attachment_routes import init_app as init_attachments
    from app.staff.merge_routes import init_app as init_merging

    app.register_blueprint(counter_bp)
    init_attachments(app)
    init_merging(app)

    # Resident "Mis solicitudes" and staff productivity (canned answers, saved
    # filters, bulk actions): app/residents, app/productivity.
    from app.productivity import init_app as init_productivity
    from app.residents import init_app as init_residents

    init_residents(app)
    init_productivity(app)

    from app.api import init_app as init_api
    from app.open311 import init_app as init_open311

    init_api(app)
    init_open311(app)

    from app.deadlines import init_app as init_deadlines

    init_deadlines(app)  # extension form, holiday admin, due-date display
    # Audit log and privacy (app/audit, app/privacy).
    from app.audit import init_app as init_audit
    from app.privacy import init_app as init_privacy

    init_audit(app)
    init_privacy(app)
    from app.admin import init_app as init_admin

    init_admin(app)  # /gestion/admin/: catalogue, staff, API keys, email previews

    from app.transparency import init_app as init_transparency

    init_transparency(app)  # /transparencia, /datos-abiertos, /gestion/transparencia

    from app.metrics import init_app as init_metrics

    init_metrics(app)  # SQLite percentile aggregate, /gestion/tablero dashboards
    # Security headers, /healthz and /readyz, proxy addresses (docs/SECURITY.md).
    from app.security import init_app as init_security

    init_security(app)


def register_errorhandlers(app: Flask) -> None:
    from app.errors import init_app

    init_app(app)


def register_template_helpers(app: Flask) -> None:
    from app.templating import init_app

    init_app(app)


def register_commands(app: Flask) -> None:
    from app.accounts.apikeys_cli import apikeys_cli
    from app.accounts.cli import users_cli
    from app.channels.email.cli import channels_cli
    from app.embedded import serve_command
    from app.metrics.cli import metrics_cli
    from app.notifications.cli import outbox_cli
    from app.scheduler import scheduler_cli
    from app.seed.cli import seed_cli

    app.cli.add_command(users_cli)
    app.cli.add_command(apikeys_cli)
    app.cli.add_command(outbox_cli)
    app.cli.add_command(seed_cli)
    app.cli.add_command(scheduler_cli)
    app.cli.add_command(serve_command)
    app.cli.add_command(metrics_cli)
    app.cli.add_command(channels_cli)
