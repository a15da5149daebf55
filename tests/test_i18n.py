"""Languages: Spanish (Chile) by default, a complete English catalog, the switch.

The catalog tests extract the messages from the code as it is now, so a new
``_()`` without an English translation fails here with the list of msgids and
the commands that fix it (README, "Translations").
"""

from __future__ import annotations

import gettext
import re
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
from babel.messages.pofile import read_po

from app.accounts.models import Role
from app.i18n import TRANSLATIONS, extract_messages
from app.notifications.models import OutboxMessage
from app.templating import local_date, local_datetime
from app.tickets.models import TicketEvent
from tests.conftest import csrf_token_from
from tests.factories import PASSWORD, make_category, make_department, make_ticket, make_user

PO_FILE = TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.po"
MO_FILE = PO_FILE.with_suffix(".mo")
FIX = ("run `flask --app wsgi translate update`, fill these msgstr in "
       "app/translations/en/LC_MESSAGES/messages.po, then `flask --app wsgi translate compile`")
PLACEHOLDER = re.compile(r"%\(\w+\)[sdif]|%%|\{\w+\}")
HTML_LANG = re.compile(r'<html lang="([^"]+)">')


def _forms(message) -> list[str]:
    return list(message.id) if isinstance(message.id, tuple) else [message.id]


def _strings(message) -> list[str]:
    return list(message.string) if isinstance(message.string, tuple) else [message.string]


@pytest.fixture(scope="module")
def catalogs(tmp_path_factory):
    pot = tmp_path_factory.mktemp("i18n") / "messages.pot"
    extract_messages(pot)
    with pot.open("rb") as template, PO_FILE.open("rb") as english:
        return read_po(template), read_po(english, locale="en")


# --- the catalog -----------------------------------------------------------------------------

def test_every_extracted_msgid_has_an_english_translation(catalogs):
    template, english = catalogs
    missing = []
    for message in template:
        if not message.id:
            continue
        translated = english.get(message.id)
        if (translated is None or "fuzzy" in translated.flags
                or not all(s.strip() for s in _strings(translated))):
            missing.append(_forms(message)[0])
    assert not missing, (f"{len(missing)} msgid(s) without an English translation ({FIX}):\n"
                         + "\n".join(f"  {m!r}" for m in missing))


def test_translations_keep_every_placeholder(catalogs):
    _, english = catalogs
    broken = []
    for message in english:
        if not message.id or not message.string:
            continue
        for source, target in zip(_forms(message), _strings(message), strict=False):
            if sorted(PLACEHOLDER.findall(source)) != sorted(PLACEHOLDER.findall(target)):
                broken.append(f"  {source!r} -> {target!r}")
    # Plurals: both English forms carry the placeholders of the Spanish plural.
    assert not broken, "placeholders differ between msgid and msgstr:\n" + "\n".join(broken)


def test_the_catalog_has_no_obsolete_or_extra_entries(catalogs):
    template, english = catalogs
    extra = [m.id for m in english if m.id and template.get(m.id) is None]
    assert not extra, (f"entries no longer in the code ({FIX}):\n"
                       + "\n".join(f"  {m!r}" for m in extra))
    assert not english.obsolete


def test_compiled_mo_matches_the_po():
    """The committed .mo (what the app reads) says exactly what the .po says."""
    with PO_FILE.open("rb") as f:
        po = read_po(f, locale="en")
    with MO_FILE.open("rb") as f:
        mo = gettext.GNUTranslations(f)
    stale = []
    for message in po:
        if not message.id:
            continue
        if isinstance(message.id, tuple):
            got = [mo.ngettext(message.id[0], message.id[1], n) for n in (1, 2)]
            if got != list(message.string):
                stale.append(message.id[0])
        elif mo.gettext(message.id) != message.string:
            stale.append(message.id)
    assert not stale, ("app/translations/en/LC_MESSAGES/messages.mo is stale; run "
                       "`flask --app wsgi translate compile`:\n"
                       + "\n".join(f"  {m!r}" for m in stale[:20]))


# --- choosing the language -------------------------------------------------------------------

def _lang(response) -> str:
    return HTML_LANG.search(response.get_data(as_text=True)).group(1)


def _login(client, email: str) -> None:
    html = client.get("/gestion/ingresar").get_data(as_text=True)
    response = client.post("/gestion/ingresar", data={
        "csrf_token": csrf_token_from(html), "email": email, "password": PASSWORD})
    assert response.status_code == 302


def test_spanish_is_the_default_with_its_lang_attribute(client):
    response = client.get("/seguimiento")
    assert _lang(response) == "es-CL"
    html = response.get_data(as_text=True)
    assert "Seguir mi solicitud" in html
    assert '<button type="submit" name="lang" value="en" lang="en"' in html


def test_the_switch_turns_a_resident_page_english_and_back(client):
    response = client.post("/idioma", data={"lang": "en", "next": "/seguimiento?x=1"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/seguimiento?x=1"  # the same page
    assert "lang=en" in response.headers["Set-Cookie"]

    page = client.get("/seguimiento")
    html = page.get_data(as_text=True)
    assert _lang(page) == "en"
    assert "Follow my request" in html and "Seguir mi solicitud" not in html
    assert '<button type="submit" name="lang" value="es_CL" lang="es-CL"' in html

    client.post("/idioma", data={"lang": "es_CL", "next": "/seguimiento"})
    assert _lang(client.get("/seguimiento")) == "es-CL"


def test_the_switch_turns_a_staff_page_english(client, database):
    with database() as session:
        user = make_user(session, departments=[make_department(session)])
        session.commit()
        email = user.email
    _login(client, email)
    assert "Bandeja de solicitudes" in client.get("/gestion/").get_data(as_text=True)

    client.post("/idioma", data={"lang": "en", "next": "/gestion/"})
    queue = client.get("/gestion/")
    assert _lang(queue) == "en"
    assert "Request inbox" in queue.get_data(as_text=True)
    # Form choices built at import time are translated per request too.
    notices = client.get("/gestion/avisos/").get_data(as_text=True)
    assert "Do not notify me" in notices and "When a request of my department has used 75%" \
        in notices


def test_accept_language_chooses_when_there_is_no_cookie(client):
    assert _lang(client.get("/", headers={"Accept-Language": "en-US,en;q=0.9"})) == "en"
    assert _lang(client.get("/", headers={"Accept-Language": "es-CL,es;q=0.9,en;q=0.5"})) \
        == "es-CL"
    assert _lang(client.get("/", headers={"Accept-Language": "fr-FR"})) == "es-CL"
    # Any Spanish the browser prefers beats a later English.
    assert _lang(client.get("/", headers={"Accept-Language": "es-AR,en;q=0.5"})) == "es-CL"
    assert _lang(client.get("/", headers={"Accept-Language": "pt-BR,en-GB;q=0.8"})) == "en"
    response = client.get("/", headers={"Accept-Language": "en"})
    assert "Accept-Language" in response.headers["Vary"]
    client.post("/idioma", data={"lang": "es_CL", "next": "/"})  # the choice wins
    assert _lang(client.get("/", headers={"Accept-Language": "en"})) == "es-CL"


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "", "x"])
def test_the_switch_only_goes_back_to_this_site(client, target):
    response = client.post("/idioma", data={"lang": "en", "next": target})
    assert response.status_code == 303 and response.headers["Location"] == "/"


def test_an_unknown_language_keeps_the_current_one(client):
    response = client.post("/idioma", data={"lang": "fr", "next": "/"})
    assert response.status_code == 303 and "Set-Cookie" not in response.headers
    assert _lang(client.get("/")) == "es-CL"


def test_api_and_open311_answer_the_same_whatever_the_language(client):
    for path in ("/open311/v2/discovery.json", "/api/v1/categories"):
        spanish = client.get(path)
        english = client.get(path, headers={"Accept-Language": "en"})
        assert spanish.status_code == english.status_code
        assert spanish.get_data() == english.get_data()


# --- dates and stored text -------------------------------------------------------------------

@pytest.mark.parametrize(("header", "summer", "winter"), [
    ("es-CL", "15 de enero de 2026, 12:30", "1 de julio de 2026, 12:00"),
    ("en", "15 January 2026, 12:30", "1 July 2026, 12:00"),
])
def test_dates_are_shown_in_santiago_time_in_the_users_language(app, header, summer, winter):
    with app.test_request_context("/", headers={"Accept-Language": header}):
        # Chile is UTC-3 in January (summer time) and UTC-4 in July.
        assert local_datetime(datetime(2026, 1, 15, 15, 30, tzinfo=UTC), "long") == summer
        assert local_datetime(datetime(2026, 7, 1, 16, 0, tzinfo=UTC), "long") == winter


@pytest.mark.parametrize(("header", "expected"), [
    ("es-CL", ["24 de diciembre de 2026", "jueves 24 de diciembre de 2026",
               "diciembre de 2026", "24-12-2026", "24 de diciembre a las 12:05"]),
    ("en", ["24 December 2026", "Thursday 24 December 2026", "December 2026", "24-12-2026",
            "24 December at 12:05"]),
])
def test_days_and_months_are_written_in_the_users_language(app, header, expected):
    with app.test_request_context("/", headers={"Accept-Language": header}):
        day = date(2026, 12, 24)
        assert [local_date(day), local_date(day, "weekday"), local_date(day, "month"),
                local_date(day, "short"),
                local_datetime(datetime(2026, 12, 24, 15, 5, tzinfo=UTC), "day_time"),
                ] == expected


def test_national_holidays_are_named_in_the_pages_language(client, database):
    with database() as session:
        admin = make_user(session, Role.ADMIN)
        session.commit()
        email = admin.email
    _login(client, email)
    spanish = client.get("/gestion/admin/feriados").get_data(as_text=True)
    client.post("/idioma", data={"lang": "en", "next": "/"})
    english = client.get("/gestion/admin/feriados").get_data(as_text=True)
    assert "Año Nuevo" in spanish and "New Year&#39;s Day" not in spanish
    assert "New Year&#39;s Day" in english and "Año Nuevo" not in english


MONTHS = ("January|February|March|April|May|June|July|August|September|October|November"
          "|December")


def test_the_public_figures_name_their_months_in_english_without_spanish_words(client):
    client.post("/idioma", data={"lang": "en", "next": "/"})
    html = client.get("/transparencia").get_data(as_text=True)
    assert re.search(rf"\b({MONTHS}) \d{{4}}\b", html)  # the 12 monthly rows
    assert not re.search(rf"\b({MONTHS}) de\b|\bde ({MONTHS})\b|\ba las\b", html)


def test_the_status_page_shows_santiago_time_in_both_languages(client, database):
    with database() as session:
        ticket = make_ticket(session, now=datetime(2026, 1, 15, 15, 30, tzinfo=UTC))
        session.commit()
        code = ticket.formatted_tracking_code
    assert "15 de enero de 2026, 12:30" in client.get(f"/seguimiento/{code}").get_data(
        as_text=True)
    client.post("/idioma", data={"lang": "en", "next": "/"})
    html = client.get(f"/seguimiento/{code}").get_data(as_text=True)
    assert "15 January 2026, 12:30" in html and "Received" in html


def test_emails_and_the_timeline_stay_spanish_when_the_action_is_in_english(app, database):
    with app.test_request_context("/", headers={"Accept-Language": "en"}), \
            database() as session:
        category = make_category(session, name="Luminaria apagada")
        ticket = make_ticket(session, category)
        session.flush()
        message = session.scalar(sa.select(OutboxMessage).where(
            OutboxMessage.ticket_id == ticket.id, OutboxMessage.recipient == "vecina@example.cl"))
        assert message.subject.startswith("Recibimos tu solicitud")
        assert "Recibimos tu solicitud" in message.body_text
        assert '<html lang="es-CL">' in message.body_html
        bodies = " ".join(e.body or "" for e in session.scalars(
            sa.select(TicketEvent).where(TicketEvent.ticket_id == ticket.id)))
        assert "Departamento de la categoría" in bodies
        session.rollback()


def test_the_catalog_kept_per_request_follows_force_locale(app):
    # app.i18n keeps the catalog found for the request's locale; force_locale
    # (emails, stored text) must still switch catalogs, in code and templates.
    from flask import render_template_string
    from flask_babel import force_locale
    from flask_babel import gettext as translate

    question = "¿En qué te podemos ayudar?"
    template = "{{ _('¿En qué te podemos ayudar?') }}"
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        assert translate(question) == "How can we help you?"
        assert render_template_string(template) == "How can we help you?"
        with force_locale("es_CL"):
            assert translate(question) == question
            assert render_template_string(template) == question
        assert translate(question) == "How can we help you?"
        assert render_template_string(template) == "How can we help you?"
    with app.test_request_context("/"):
        assert translate(question) == question
