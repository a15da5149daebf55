"""``/api/v1/docs``: the OpenAPI document as a plain HTML page.

Rendered on the server from the same document served at
``/api/v1/openapi.json``: no CDN, no JavaScript, works offline and with a
screen reader.
"""

from __future__ import annotations

import re

from flask import Blueprint, current_app, render_template
from flask_babel import gettext as _
from markupsafe import Markup, escape

bp = Blueprint("api_docs", __name__, url_prefix="/api/v1")

METHODS = ("get", "post", "put", "patch", "delete")


def _spec() -> dict:
    return current_app.extensions["flask-smorest"]["apis"][""]["ext_obj"].spec.to_dict()


def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def describe_type(schema: dict) -> dict:
    """A property's type for people: ``{"text", "link"}`` (link is a schema name)."""
    if not schema:
        return {"text": _("cualquiera"), "link": None}
    if "$ref" in schema:
        return {"text": _ref_name(schema["$ref"]), "link": _ref_name(schema["$ref"])}
    if "allOf" in schema and len(schema["allOf"]) == 1:
        return describe_type(schema["allOf"][0])
    kind = schema.get("type") or _("objeto")
    if kind == "array":
        inner = describe_type(schema.get("items", {}))
        return {"text": _("lista de %(type)s", type=inner["text"]), "link": inner["link"]}
    if kind == "object" and "additionalProperties" in schema:
        inner = describe_type(schema["additionalProperties"] or {})
        return {"text": _("objeto de %(type)s", type=inner["text"]), "link": inner["link"]}
    text = kind + (f" ({schema['format']})" if "format" in schema else "")
    if "enum" in schema:
        text += ": " + ", ".join(str(v) for v in schema["enum"])
    return {"text": text, "link": None}


def _constraints(schema: dict) -> str:
    parts = []
    for key, label in (("minLength", _("mín. largo %(n)s")), ("maxLength", _("máx. largo %(n)s")),
                       ("minimum", _("mín. %(n)s")), ("maximum", _("máx. %(n)s"))):
        if key in schema:
            parts.append(label % {"n": schema[key]})
    if schema.get("nullable"):
        parts.append(_("admite null"))
    if "default" in schema:
        parts.append(_("por omisión %(value)s", value=schema["default"]))
    return ", ".join(parts)


def schema_rows(schema: dict) -> list[dict]:
    required = set(schema.get("required", []))
    return [{
        "name": name,
        "type": describe_type(prop),
        "required": name in required,
        "constraints": _constraints(prop),
        "description": prop.get("description", ""),
        "read_only": prop.get("readOnly", False),
    } for name, prop in schema.get("properties", {}).items()]


def _content_schema(content: dict | None) -> dict | None:
    if not content:
        return None
    media = content.get("application/json") or next(iter(content.values()))
    return describe_type(media.get("schema", {}))


def operations(spec: dict) -> list[dict]:
    """Every operation, in document order, with its parameters and responses."""
    result = []
    for path, item in spec.get("paths", {}).items():
        shared = item.get("parameters", [])
        for method in METHODS:
            op = item.get(method)
            if op is None:
                continue
            params = [{
                "name": p["name"], "in": p["in"], "required": p.get("required", False),
                "type": describe_type(p.get("schema", {})),
                "description": p.get("description", ""),
            } for p in shared + op.get("parameters", [])]
            body = op.get("requestBody")
            responses = []
            for status, response in op.get("responses", {}).items():
                if "$ref" in response:
                    response = spec["components"]["responses"][_ref_name(response["$ref"])]
                responses.append({"status": status,
                                  "description": response.get("description", ""),
                                  "type": _content_schema(response.get("content"))})
            result.append({
                "id": f"{method}-{path}".replace("/", "-").replace("{", "").replace("}", ""),
                "method": method.upper(), "path": path,
                "tag": (op.get("tags") or [""])[0],
                "summary": op.get("summary", ""), "description": op.get("description", ""),
                "secured": bool(op.get("security")), "parameters": params,
                "body": _content_schema(body.get("content")) if body else None,
                "responses": responses,
            })
    return result


_CODE = re.compile(r"`([^`]+)`")
_STRONG = re.compile(r"\*\*([^*]+)\*\*")


def light_markdown(text: str) -> Markup:
    """Paragraphs, ``* `` lists, **bold** and `code`; everything else escaped."""
    html = []
    for block in re.split(r"\n\s*\n", (text or "").strip()):
        lines = [line.strip() for line in block.splitlines()]
        if lines and lines[0].startswith("* "):
            items, current = [], []
            for line in lines:
                if line.startswith("* ") and current:
                    items.append(" ".join(current))
                    current = []
                current.append(line[2:] if line.startswith("* ") else line)
            items.append(" ".join(current))
            html.append("<ul>" + "".join(f"<li>{_inline(i)}</li>" for i in items) + "</ul>")
        elif block.strip():
            html.append(f"<p>{_inline(' '.join(lines))}</p>")
    # B704 (bandit): every piece of text went through escape()
    return Markup("".join(html))  # nosec B704


def _inline(text: str) -> str:
    escaped = str(escape(text))
    escaped = _CODE.sub(r"<code>\1</code>", escaped)
    return _STRONG.sub(r"<strong>\1</strong>", escaped)


@bp.get("/docs")
def page():
    spec = _spec()
    ops = operations(spec)
    tags = [t for t in spec.get("tags", []) if any(o["tag"] == t["name"] for o in ops)]
    schemas = {name: schema_rows(schema)
               for name, schema in sorted(spec.get("components", {}).get("schemas", {}).items())}
    return render_template("api/docs.html", spec=spec, tags=tags, operations=ops,
                           schemas=schemas, markdown=light_markdown)
