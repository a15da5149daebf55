"""Languages: Spanish (Chile) by default, English complete, a switch on every page.

Spanish is the source language: every msgid is the Spanish text, so Spanish
needs no catalog. English lives in ``app/translations/en/LC_MESSAGES`` (the
``.po`` and its compiled ``.mo``, both committed).

The locale of a request is, in order: the ``lang`` cookie set by the switch
(``POST /idioma``), the browser's ``Accept-Language``, then Spanish. The
REST API and Open311 always answer in Spanish (their documented contract). Dates
and times are always shown in America/Santiago (``BABEL_DEFAULT_TIMEZONE``).

Emails are written in their recipient's language, never in the language of
the person whose action caused them (``written_for``): a resident's in the
language they filed the request in (``Ticket.locale``), a staff member's in
the one they last chose with the switch while signed in (``User.locale``),
Spanish otherwise. A staff member browsing in English never sends English
mail to a Spanish-speaking resident or colleague.

``flask translate extract|update|compile`` keeps the catalog in step with the
code (README, "Translations").
"""

from __future__ import annotations

from contextlib import chdir, contextmanager
from pathlib import Path

import click
from flask import (
    Blueprint,
    Flask,
    current_app,
    g,
    has_request_context,
    redirect,
    request,
    url_for,
)
from flask.cli import AppGroup
from flask_babel import force_locale, get_locale
from flask_login import current_user

from app.extensions import babel, csrf, db

COOKIE = "lang"
COOKIE_MAX_AGE = 365 * 24 * 3600
DEFAULT_LOCALE = "es_CL"
# Locale code -> the BCP 47 tag for <html lang> and the button, and the name of
# the language in itself (what the switch shows).
LOCALES = {
    "es_CL": ("es-CL", "Español"),
    "en": ("en", "English"),
}
# The REST API and Open311 answer in Spanish whatever the client's Accept-Language.
MACHINE_PATHS = ("/api/", "/open311/")
# Accept-Language primary tags we answer, mapped to our locales.
_BY_PRIMARY_TAG = {"es": "es_CL", "en": "en"}

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = Path(__file__).resolve().parent / "translations"
POT_FILE = PROJECT_ROOT / "messages.pot"

bp = Blueprint("i18n", __name__)


def select_locale() -> str:
    """The request's locale: the switch's cookie, else Accept-Language, else Spanish."""
    if not has_request_context():
        return DEFAULT_LOCALE  # jobs and the CLI write Spanish
    if request.path.startswith(MACHINE_PATHS) and request.blueprint != "api_docs":
        return DEFAULT_LOCALE  # API and Open311 answers stay as documented (Spanish)
    chosen = request.cookies.get(COOKIE)
    if chosen in LOCALES:
        return chosen
    # The first language the browser prefers that we have, by its primary tag:
    # es-AR counts as Spanish even when en comes later in the list.
    for tag, quality in request.accept_languages:  # highest quality first
        locale = _BY_PRIMARY_TAG.get(tag.split("-")[0].split("_")[0].lower())
        if locale and quality > 0:
            return locale
    return DEFAULT_LOCALE


@contextmanager
def stored_text():
    """Write text that is kept in the database in Spanish (also as a decorator).

    Timeline notes, routing reasons and other text stored with a request are
    read later by everyone, so they never take the language of the person
    whose click wrote them. Error messages shown to that person stay in their
    language: wrap only the code that builds stored text.
    """
    with force_locale(DEFAULT_LOCALE):
        yield


def email_locale(locale: str | None) -> str:
    """``locale`` if it is one of ours (``LOCALES``), else Spanish."""
    return locale if locale in LOCALES else DEFAULT_LOCALE


@contextmanager
def written_for(locale: str | None):
    """Write an email's text in its recipient's ``locale`` (None or unknown: Spanish).

    Wrap the building of a subject and of the context values formatted in
    Python (dates, labels); ``outbox.enqueue(locale=...)`` renders the
    templates in the same language.
    """
    with force_locale(email_locale(locale)):
        yield


def current_locale() -> str:
    """The active locale code (``es_CL`` or ``en``), also outside a request."""
    locale = get_locale()
    code = str(locale) if locale is not None else DEFAULT_LOCALE
    if code in LOCALES:
        return code
    return "en" if code.startswith("en") else DEFAULT_LOCALE


def html_lang() -> str:
    """The BCP 47 tag of the active locale, for ``<html lang>``."""
    return LOCALES[current_locale()][0]


def other_languages() -> list[tuple[str, str, str]]:
    """``(code, tag, name)`` of each language the switch offers (all but the current)."""
    here = current_locale()
    return [(code, tag, name) for code, (tag, name) in LOCALES.items() if code != here]


def _safe_back(target: str | None) -> str:
    from app.accounts.routes import safe_next_url

    return safe_next_url(target) or url_for("resident.home")


@bp.route("/idioma", methods=["POST"])
@csrf.exempt
def switch():
    """Remember the chosen language in a cookie and go back to the same page.

    An unknown language code leaves the choice as it was (no error page: the
    form only offers known codes). A signed-in staff member's choice is also
    stored on their account, for their emails. No CSRF token: the worst a
    forged post can do is change the language (of the pages, and of a staff
    member's emails), and a token would give every public page a session
    cookie (docs/SECURITY.md).
    """
    response = redirect(_safe_back(request.form.get("next")), code=303)
    code = request.form.get("lang", "")
    if code in LOCALES:
        response.set_cookie(
            COOKIE, code, max_age=COOKIE_MAX_AGE, httponly=True, samesite="Lax",
            secure=current_app.config.get("SESSION_COOKIE_SECURE", False))
        if current_user.is_authenticated and current_user.locale != code:
            current_user.locale = code  # a staff member's emails follow the choice
            db.session.commit()
    return response


# --- catalog maintenance (flask translate ...) --------------------------------

translate_cli = AppGroup("translate", help="Extract, update and compile the translations.")


def _pybabel(*args: str) -> None:
    from babel.messages.frontend import CommandLineInterface

    status = CommandLineInterface().run(["pybabel", "-q", *args])
    if status:
        raise click.ClickException(f"pybabel {args[0]} failed")


def extract_messages(pot: Path | None = None) -> None:
    """Write ``messages.pot`` (or ``pot``) from the code and templates (babel.cfg)."""
    with chdir(PROJECT_ROOT):  # paths in the catalog relative to the project
        _pybabel("extract", "-F", "babel.cfg", "-k", "_l", "-k", "lazy_gettext",
                 "-k", "lazy_ngettext:1,2", "--sort-by-file", "--project", "Conectados",
                 "-o", str(pot or POT_FILE), ".")


@translate_cli.command("extract")
def extract_command() -> None:
    """Write messages.pot from the code and the templates."""
    extract_messages()
    click.echo(f"Wrote {POT_FILE.relative_to(PROJECT_ROOT)}.")


@translate_cli.command("update")
def update_command() -> None:
    """Extract, then merge new and changed messages into the English catalog."""
    extract_messages()
    _pybabel("update", "-i", str(POT_FILE), "-d", str(TRANSLATIONS), "--no-fuzzy-matching",
             "--ignore-obsolete")
    click.echo("Updated app/translations. Translate the empty msgstr entries, "
               "then run `flask --app wsgi translate compile`.")


@translate_cli.command("compile")
def compile_command() -> None:
    """Compile the .po catalogs into the .mo files the app reads."""
    _pybabel("compile", "-d", str(TRANSLATIONS), "--statistics")
    click.echo("Compiled app/translations.")


def _remember_translations_per_locale(app: Flask) -> None:
    """Look the catalog up once per request and locale instead of once per string.

    Flask-Babel finds the translations of every string through four lookups
    in the request context plus a Babel ``Locale`` turned into text: about
    30 µs a string, half the time of rendering a plain page. The catalog found
    is kept in Flask-Babel's own per-request namespace next to the locale it
    belongs to (the same object), so ``force_locale`` (emails in Spanish),
    which swaps that object, still gets its own catalog.
    """
    with app.app_context():
        domain = app.extensions["babel"].instance.domain_instance
    look_up = domain.get_translations

    def get_translations():
        try:
            context = g._flask_babel
        except (AttributeError, RuntimeError):  # first string of the request; no context
            return look_up()
        locale = getattr(context, "babel_locale", None)
        found = getattr(context, "translations_for", None)
        if locale is not None and found is not None and found[0] is locale:
            return found[1]
        translations = look_up()  # sets babel_locale when it was not chosen yet
        context.translations_for = (context.babel_locale, translations)
        return translations

    domain.get_translations = get_translations
    # Templates: straight to the domain (Flask-Babel's callables add a lookup each).
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: get_translations().ugettext(s),
        ngettext=lambda s, p, n: get_translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: get_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: get_translations().unpgettext(c, s, p, n))


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale)
    _remember_translations_per_locale(app)
    app.register_blueprint(bp)
    app.cli.add_command(translate_cli)
    app.add_template_global(html_lang, "html_lang")

    @app.after_request
    def vary_on_language(response):
        # Pages differ by the cookie and Accept-Language: shared caches must know.
        if response.mimetype == "text/html":
            response.vary.add("Accept-Language")
            response.vary.add("Cookie")
        return response
    app.add_template_global(other_languages, "other_languages")
