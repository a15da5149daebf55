"""Reading pages and counting rows in HTTP tests."""

from __future__ import annotations

import re
from html import unescape

import sqlalchemy as sa
from sqlalchemy.orm import Session


def count(session: Session, model) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(model))


def text_of(html: str) -> str:
    """The page's visible text, tags removed and whitespace collapsed."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def status_badge(html: str) -> tuple[str, str]:
    """(status value, label) of the page's status badge."""
    match = re.search(r'class="badge badge-(\w+)"[^>]*>\s*([^<]+?)\s*<', html)
    assert match, "page has no status badge"
    return match.group(1), match.group(2)


def error_summary(html: str) -> str:
    match = re.search(r'<div class="error-summary".*?</div>', html, re.DOTALL)
    assert match, "page has no error summary"
    return match.group(0)
