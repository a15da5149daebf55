"""Open requests that may be the same problem as a given one.

``find_similar`` asks SQL for the few candidates (same category, open, not
itself, not already merged, created within ``DUPLICATE_WINDOW_DAYS`` of it;
at most ``CANDIDATE_LIMIT``, newest first), then scores them in Python with
three signals, each with a Spanish reason for staff:

- the same address once normalised (case, accents, punctuation, common
  abbreviations such as «Av.» → «avenida», «Pje.» → «pasaje», «N°» dropped);
- both have coordinates and lie within ``DUPLICATE_DISTANCE_METERS``
  (haversine);
- very similar descriptions (difflib ratio ≥ ``TEXT_THRESHOLD`` on the
  normalised text).

It only reads; the staff request page computes it on view.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import timedelta
from difflib import SequenceMatcher

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.orm import Session, selectinload

from app.tickets.models import OPEN_STATUSES, Ticket

CANDIDATE_LIMIT = 200
TEXT_THRESHOLD = 0.75
EARTH_RADIUS_M = 6_371_000

_ABBREVIATIONS = {
    "av": "avenida", "avda": "avenida", "ave": "avenida",
    "pje": "pasaje", "psje": "pasaje", "pj": "pasaje",
    "cll": "calle", "c": "calle",
    "pob": "poblacion", "pobl": "poblacion",
    "vla": "villa", "pza": "plaza", "pque": "parque", "cam": "camino",
    "gral": "general", "sta": "santa", "sto": "santo", "pdte": "presidente",
}
_DROPPED = {"n", "no", "nro", "num", "numero", "o", "de", "del", "la", "el", "los", "las"}


def _plain(text: str) -> str:
    """Lower case, no accents, punctuation as spaces, spaces collapsed."""
    text = unicodedata.normalize("NFKD", text.lower())
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text).split())


def normalize_address(address: str | None) -> str:
    """The address as a comparison key: «Av. Grecia N° 8.735» → «avenida grecia 8735»."""
    if not address:
        return ""
    # Thousands separators in street numbers: "8.735" is 8735.
    address = re.sub(r"(?<=\d)[.](?=\d{3}\b)", "", address)
    words = [_ABBREVIATIONS.get(w, w) for w in _plain(address.replace("°", " ")).split()]
    return " ".join(w for w in words if w not in _DROPPED)


def distance_meters(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


def text_similarity(a: str, b: str) -> float:
    return SequenceMatcher(None, _plain(a), _plain(b), autojunk=False).ratio()


@dataclass
class Similar:
    ticket: Ticket
    score: float = 0.0
    reasons: list[str] = field(default_factory=list)
    distance: float | None = None


def find_similar(session: Session, ticket: Ticket, *, limit: int = 5) -> list[Similar]:
    """Up to ``limit`` open requests of the same category that may be the same problem."""
    window = timedelta(days=current_app.config["DUPLICATE_WINDOW_DAYS"])
    max_distance = current_app.config["DUPLICATE_DISTANCE_METERS"]
    candidates = session.scalars(
        sa.select(Ticket)
        .where(Ticket.category_id == ticket.category_id,
               Ticket.status.in_(OPEN_STATUSES),
               Ticket.id != ticket.id,
               Ticket.duplicate_of_id.is_(None),
               Ticket.created_at >= ticket.created_at - window,
               Ticket.created_at <= ticket.created_at + window)
        .order_by(Ticket.created_at.desc(), Ticket.id.desc())
        .limit(CANDIDATE_LIMIT)
        .options(selectinload(Ticket.category))
    ).all()
    key = normalize_address(ticket.address)
    found: list[Similar] = []
    for other in candidates:
        match = Similar(other)
        if key and normalize_address(other.address) == key:
            match.score += 1.0
            match.reasons.append(_("Misma dirección"))
        if None not in (ticket.latitude, ticket.longitude, other.latitude, other.longitude):
            meters = distance_meters(float(ticket.latitude), float(ticket.longitude),
                                     float(other.latitude), float(other.longitude))
            if meters <= max_distance:
                match.distance = meters
                match.score += 1.0 - meters / (2 * max_distance)
                match.reasons.append(_("A %(m)d m", m=round(meters)))
        ratio = text_similarity(ticket.description, other.description)
        if ratio >= TEXT_THRESHOLD:
            match.score += ratio
            match.reasons.append(_("Descripción parecida (%(p)d %%)", p=round(ratio * 100)))
        if match.reasons:
            found.append(match)
    found.sort(key=lambda m: (-m.score, m.ticket.id))
    return found[:limit]
