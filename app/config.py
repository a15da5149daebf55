"""Settings read from the environment, with embedded defaults.

The defaults run Conectados on one machine: a SQLite file under ``instance/``.
In production (``CONECTADOS_ENV=production``) a missing ``SECRET_KEY`` stops
start-up instead of falling back to a generated one.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path


class ConfigError(RuntimeError):
    """Raised at start-up when the settings cannot run the app safely."""


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ConfigError(f"{name} must be an integer, got {value!r}") from exc


def _instance_secret_key(instance_path: Path) -> str:
    """Return a secret key kept in ``instance/secret_key``, creating it once.

    Only used outside production, so development sessions survive restarts.
    """
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


def load_config(instance_path: Path) -> dict:
    """Build the settings dict from environment variables.

    :raise ConfigError: in production when ``SECRET_KEY`` is missing, or when a
        numeric setting is not a number.
    """
    env = os.environ.get("CONECTADOS_ENV", "development").strip().lower()
    production = env == "production"

    secret_key = os.environ.get("SECRET_KEY")
    if not secret_key:
        if production:
            raise ConfigError(
                "SECRET_KEY must be set when CONECTADOS_ENV=production."
            )
        secret_key = _instance_secret_key(instance_path)

    database_url = os.environ.get("DATABASE_URL") or (
        f"sqlite:///{instance_path / 'conectados.sqlite3'}"
    )
    # Accept the common postgres:// spelling and use psycopg 3.
    if database_url.startswith("postgres://"):
        database_url = "postgresql+psycopg://" + database_url[len("postgres://"):]
    elif database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url[len("postgresql://"):]

    return {
        "CONECTADOS_ENV": env,
        "SECRET_KEY": secret_key,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "SQLITE_BUSY_TIMEOUT_MS": _env_int("SQLITE_BUSY_TIMEOUT_MS", 5000),
        "MUNICIPALITY_NAME": os.environ.get(
            "MUNICIPALITY_NAME", "Municipalidad de Peñalolén"
        ),
        # Absolute base used for links in emails (no request context there).
        "PUBLIC_BASE_URL": os.environ.get(
            "PUBLIC_BASE_URL", "http://localhost:5000"
        ).rstrip("/"),
        "MAIL_SERVER": os.environ.get("MAIL_SERVER", "localhost"),
        "MAIL_PORT": _env_int("MAIL_PORT", 25),
        "MAIL_USE_TLS": _env_bool("MAIL_USE_TLS", False),
        "MAIL_USE_SSL": _env_bool("MAIL_USE_SSL", False),
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME"),
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD"),
        "MAIL_DEFAULT_SENDER": os.environ.get(
            "MAIL_DEFAULT_SENDER", "Conectados <no-responder@conectados.local>"
        ),
        "OUTBOX_MAX_ATTEMPTS": _env_int("OUTBOX_MAX_ATTEMPTS", 8),
        "OUTBOX_BATCH_SIZE": _env_int("OUTBOX_BATCH_SIZE", 50),
        "OUTBOX_INTERVAL_SECONDS": _env_int("OUTBOX_INTERVAL_SECONDS", 15),
        # First retry delay after a failed send; it doubles each time (at most 6 h).
        "OUTBOX_BACKOFF_SECONDS": _env_int("OUTBOX_BACKOFF_SECONDS", 60),
        # How long delivery keeps trying to record "sent" when the database went
        # away right after the SMTP server took a message (else: sent again).
        "OUTBOX_SENT_MARK_PATIENCE_SECONDS": _env_int("OUTBOX_SENT_MARK_PATIENCE_SECONDS", 300),
        "QUEUE_PAGE_SIZE": _env_int("QUEUE_PAGE_SIZE", 25),
        # Scheduler process and staff notifications (app/scheduler.py, notifications.staff).
        "SCHEDULER_LOCK_RETRY_SECONDS": _env_int("SCHEDULER_LOCK_RETRY_SECONDS", 5),
        "STAFF_DIGEST_INTERVAL_SECONDS": _env_int("STAFF_DIGEST_INTERVAL_SECONDS", 3600),
        # Satisfaction surveys (app/surveys).
        "SURVEY_LINK_DAYS": _env_int("SURVEY_LINK_DAYS", 30),
        "SURVEY_REMINDER_DAYS": _env_int("SURVEY_REMINDER_DAYS", 3),
        "SURVEY_REMINDER_INTERVAL_SECONDS": _env_int("SURVEY_REMINDER_INTERVAL_SECONDS", 3600),
        "SURVEY_MIN_GROUP_SIZE": _env_int("SURVEY_MIN_GROUP_SIZE", 5),
        # Dashboards: departments with fewer requests are not ranked (app/metrics).
        "DASHBOARD_MIN_N": _env_int("DASHBOARD_MIN_N", 10),
        # Daily rollups of the additive figures (app/metrics/rollup.py): how often the
        # scheduler refreshes them, and how many recent days each refresh rebuilds.
        "METRICS_ROLLUP_INTERVAL_SECONDS": _env_int("METRICS_ROLLUP_INTERVAL_SECONDS", 600),
        "METRICS_ROLLUP_RECENT_DAYS": _env_int("METRICS_ROLLUP_RECENT_DAYS", 35),
        "SURVEY_EMBED_ANCESTORS": os.environ.get("SURVEY_EMBED_ANCESTORS", "*"),
        # REST API and Open311 (see docs/ARCHITECTURE.md, "Integrations").
        "STAFF_TOKEN_HOURS": _env_int("STAFF_TOKEN_HOURS", 12),
        "API_CREATE_RATE_LIMIT": os.environ.get("API_CREATE_RATE_LIMIT", "60/minute"),
        "API_TOKEN_RATE_LIMIT": os.environ.get("API_TOKEN_RATE_LIMIT", "10/minute"),
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI", "memory://"),
        "RATELIMIT_ENABLED": _env_bool("RATELIMIT_ENABLED", True),
        "OPEN311_JURISDICTION_ID": os.environ.get("OPEN311_JURISDICTION_ID",
                                                  "penalolen.cl").strip(),
        "OPEN311_ENDPOINT_TYPE": os.environ.get(
            "OPEN311_ENDPOINT_TYPE", "production" if production else "test"),
        # Empty: discovery builds them from MUNICIPALITY_NAME and PUBLIC_BASE_URL.
        "OPEN311_CONTACT": os.environ.get("OPEN311_CONTACT", ""),
        "OPEN311_KEY_SERVICE": os.environ.get("OPEN311_KEY_SERVICE", ""),
        "OPEN311_PUBLISH_DESCRIPTIONS": _env_bool("OPEN311_PUBLISH_DESCRIPTIONS", True),
        # Attachments, duplicates and merging (tickets.attachments, tickets.duplicates).
        "UPLOADS_DIR": os.environ.get("UPLOADS_DIR") or str(instance_path / "uploads"),
        "ATTACHMENT_MAX_BYTES": _env_int("ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024),
        "ATTACHMENT_MAX_COUNT": _env_int("ATTACHMENT_MAX_COUNT", 5),
        "ATTACHMENT_MAX_PIXELS": _env_int("ATTACHMENT_MAX_PIXELS", 40_000_000),
        "MAX_CONTENT_LENGTH": _env_int(
            "ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024) * _env_int("ATTACHMENT_MAX_COUNT", 5)
        + 1024 * 1024,  # the whole form: every file at its maximum, plus the text fields
        "DUPLICATE_DISTANCE_METERS": _env_int("DUPLICATE_DISTANCE_METERS", 150),
        "DUPLICATE_WINDOW_DAYS": _env_int("DUPLICATE_WINDOW_DAYS", 90),
        # Email intake (app/channels/email; see docs/OPERATIONS.md, "Email intake").
        "IMAP_HOST": os.environ.get("IMAP_HOST", "").strip(),
        "IMAP_PORT": _env_int("IMAP_PORT", 0),  # 0: 993 for ssl, 143 otherwise
        "IMAP_SECURITY": os.environ.get("IMAP_SECURITY", "ssl").strip().lower(),
        "IMAP_USER": os.environ.get("IMAP_USER", ""),
        "IMAP_PASSWORD": os.environ.get("IMAP_PASSWORD", ""),
        "IMAP_FOLDER": os.environ.get("IMAP_FOLDER", "INBOX"),
        "IMAP_PROCESSED_FOLDER": os.environ.get("IMAP_PROCESSED_FOLDER", "Procesados"),
        "IMAP_POLL_SECONDS": _env_int("IMAP_POLL_SECONDS", 60),
        "IMAP_TIMEOUT_SECONDS": _env_int("IMAP_TIMEOUT_SECONDS", 30),
        "IMAP_BATCH_SIZE": _env_int("IMAP_BATCH_SIZE", 100),
        "EMAIL_DEFAULT_CATEGORY": os.environ.get("EMAIL_DEFAULT_CATEGORY", "").strip(),
        # Reply-To of our answers to emailed requests; empty: IMAP_USER if an address.
        "EMAIL_INTAKE_ADDRESS": os.environ.get("EMAIL_INTAKE_ADDRESS", "").strip(),
        "EMAIL_MAX_PER_SENDER_PER_HOUR": _env_int("EMAIL_MAX_PER_SENDER_PER_HOUR", 10),
        # Deadlines (app/calendar, app/deadlines; docs/ARCHITECTURE.md "Time and deadlines").
        "OFFICE_HOURS": os.environ.get("OFFICE_HOURS", "mon-thu 08:30-17:30, fri 08:30-16:30"),
        "OFFICE_TIMEZONE": os.environ.get("OFFICE_TIMEZONE", "America/Santiago"),
        "SLA_DEFAULT_FIRST_RESPONSE_HOURS": _env_int("SLA_DEFAULT_FIRST_RESPONSE_HOURS", 16),
        "SLA_DEFAULT_RESOLUTION_DAYS": _env_int("SLA_DEFAULT_RESOLUTION_DAYS", 10),
        "SLA_WARN_PERCENT": _env_int("SLA_WARN_PERCENT", 75),
        "SLA_SWEEP_INTERVAL_SECONDS": _env_int("SLA_SWEEP_INTERVAL_SECONDS", 60),
        "AUTO_CLOSE_BUSINESS_DAYS": _env_int("AUTO_CLOSE_BUSINESS_DAYS", 5),
        "AUTO_CLOSE_NOTICE_BUSINESS_DAYS": _env_int("AUTO_CLOSE_NOTICE_BUSINESS_DAYS", 2),
        "AUTO_CLOSE_INTERVAL_SECONDS": _env_int("AUTO_CLOSE_INTERVAL_SECONDS", 3600),
        # Resident "Mis solicitudes" sign-in links (app/residents).
        "RESIDENT_LINK_MINUTES": _env_int("RESIDENT_LINK_MINUTES", 30),
        "RESIDENT_LINK_RATE_LIMIT_EMAIL": os.environ.get("RESIDENT_LINK_RATE_LIMIT_EMAIL",
                                                         "3/15 minutes"),
        "RESIDENT_LINK_RATE_LIMIT_IP": os.environ.get("RESIDENT_LINK_RATE_LIMIT_IP", "20/hour"),
        # Privacy (app/privacy): months after closing before personal data is removed.
        "RETENTION_MONTHS_DEFAULT": _env_int("RETENTION_MONTHS_DEFAULT", 24),
        "RETENTION_BATCH_SIZE": _env_int("RETENTION_BATCH_SIZE", 200),
        "PRIVACY_CONTACT": os.environ.get("PRIVACY_CONTACT", ""),
        # Public transparency pages and open data (app/transparency, app/metrics).
        "TRANSPARENCY_MIN_N": _env_int("TRANSPARENCY_MIN_N", 5),
        "TRANSPARENCY_CACHE_SECONDS": _env_int("TRANSPARENCY_CACHE_SECONDS", 600),
        "OPEN_DATA_YEARS": _env_int("OPEN_DATA_YEARS", 3),
        "CACHE_REDIS_URL": os.environ.get("CACHE_REDIS_URL", "").strip(),
        # Security (app/security, docs/SECURITY.md): abuse limits per client address,
        # trusted proxies, the public form's minimum fill time.
        "LOGIN_RATE_LIMIT": os.environ.get("LOGIN_RATE_LIMIT", "10/minute;100/hour"),
        "PASSWORD_RESET_RATE_LIMIT": os.environ.get("PASSWORD_RESET_RATE_LIMIT",
                                                    "5/minute;20/hour"),
        "SUBMIT_RATE_LIMIT": os.environ.get("SUBMIT_RATE_LIMIT", "5/minute;30/hour"),
        "TRACKING_MISS_RATE_LIMIT": os.environ.get("TRACKING_MISS_RATE_LIMIT", "20/minute"),
        "PROXY_COUNT": _env_int("PROXY_COUNT", 0),
        "FORM_MIN_FILL_SECONDS": _env_int("FORM_MIN_FILL_SECONDS", 2),
        "BABEL_DEFAULT_LOCALE": "es_CL",
        "BABEL_DEFAULT_TIMEZONE": "America/Santiago",
        "BABEL_TRANSLATION_DIRECTORIES": "translations",  # app/translations (app.i18n)
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_SECURE": production,
        "WTF_CSRF_TIME_LIMIT": None,
    }
