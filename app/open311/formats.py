"""Open311 responses in JSON or XML, and its error bodies.

Both formats come from the same Python values, following the spec's Spark
convention: a list becomes ``<plural><singular>...</singular></plural>``,
None an empty element, booleans ``true``/``false``. Text that XML 1.0 cannot
hold (control characters) is dropped from XML so the document stays
well-formed. Everything is UTF-8.
"""

from __future__ import annotations

import json
import re

# B405 (bandit): only builds XML, never parses
from xml.etree import ElementTree as ET  # nosec B405

from flask import Response

FORMATS = ("json", "xml")
JSON_TYPE = "application/json; charset=utf-8"
XML_TYPE = "text/xml; charset=utf-8"

# The element name of one item of each list.
SINGULAR = {
    "services": "service",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
    "service_requests": "request",
    "notes": "note",
    "errors": "error",
}

_XML_ILLEGAL = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


class Open311Error(Exception):
    """An error answered per spec: HTTP ``status`` and ``[{code, description}]``."""

    def __init__(self, status: int, *descriptions: str):
        super().__init__("; ".join(descriptions))
        self.status = status
        self.descriptions = list(descriptions) or [""]


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return _XML_ILLEGAL.sub("", str(value))


def _append(parent: ET.Element, name: str, value: object) -> None:
    element = ET.SubElement(parent, name)
    if value is None:
        return
    if isinstance(value, dict):
        for key, child in value.items():
            _append(element, key, child)
    elif isinstance(value, list):
        for item in value:
            _append(element, SINGULAR.get(name, "item"), item)
    else:
        element.text = _text(value)


def to_xml(root: str, value: dict | list) -> bytes:
    """``value`` under a ``root`` element, with the XML declaration."""
    element = ET.Element(root)
    if isinstance(value, list):
        for item in value:
            _append(element, SINGULAR[root], item)
    else:
        for key, child in value.items():
            _append(element, key, child)
    body = ET.tostring(element, encoding="unicode")
    return ('<?xml version="1.0" encoding="utf-8"?>\n' + body).encode("utf-8")


def respond(fmt: str, root: str, value: dict | list, status: int = 200) -> Response:
    """Answer ``value`` as JSON (the bare value) or XML (under ``root``)."""
    if fmt == "json":
        return Response(json.dumps(value, ensure_ascii=False).encode("utf-8"), status=status,
                        content_type=JSON_TYPE)
    return Response(to_xml(root, value), status=status, content_type=XML_TYPE)


def error_response(fmt: str, status: int, descriptions: list[str]) -> Response:
    errors = [{"code": status, "description": d} for d in descriptions]
    return respond(fmt, "errors", errors, status=status)


def format_from_path(path: str) -> str:
    """The format a client asked for by suffix; XML (the required one) otherwise."""
    return "json" if path.rstrip("/").endswith(".json") else "xml"
