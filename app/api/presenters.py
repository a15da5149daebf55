"""Models to plain dicts for the API schemas, deciding what each caller may see.

Contact data, tracking codes, internal events and staff names are only for
staff tokens (and the code for the creator of a request, in the create
answer); application keys never get them.
"""

from __future__ import annotations

from app.api.auth import Principal
from app.catalog.attributes import CategoryAttribute
from app.catalog.models import Category, Department
from app.tickets.attributes import values_by_code
from app.tickets.models import EventVisibility, Ticket, TicketEvent


def department_dict(department: Department | None) -> dict | None:
    if department is None:
        return None
    return {"slug": department.slug, "name": department.name}


def attribute_dict(attribute: CategoryAttribute) -> dict:
    return {
        "code": attribute.code,
        "description": attribute.description,
        "datatype": attribute.datatype.value,
        "required": attribute.required,
        "variable": attribute.variable,
        "datatype_description": attribute.datatype_description,
        "order": attribute.order,
        "values": list(attribute.values or []),
    }


def category_dict(category: Category) -> dict:
    return {
        "slug": category.slug,
        "name": category.name,
        "description": category.description or "",
        "department": department_dict(category.department),
        "visibility": category.visibility.value,
        "allows_anonymous": category.allows_anonymous,
        "keywords": [k.strip() for k in (category.keywords or "").split(",") if k.strip()],
        "attributes": [attribute_dict(a) for a in category.attributes],
    }


def request_dict(ticket: Ticket, principal: Principal, *, include_code: bool = False) -> dict:
    staff = principal.is_staff
    return {
        "id": ticket.id,
        "number": ticket.public_number,
        "tracking_code": ticket.formatted_tracking_code if staff or include_code else None,
        "status": ticket.status.value,
        "status_label": ticket.status.label,
        "is_open": ticket.status.is_open,
        "channel": ticket.channel.value,
        "category": {"slug": ticket.category.slug, "name": ticket.category.name},
        "department": department_dict(ticket.department),
        "description": ticket.description,
        "address": ticket.address,
        "latitude": float(ticket.latitude) if ticket.latitude is not None else None,
        "longitude": float(ticket.longitude) if ticket.longitude is not None else None,
        "media_url": ticket.media_url,
        "attributes": values_by_code(ticket),
        "contact": {
            "name": ticket.contact_name, "email": ticket.contact_email,
            "phone": ticket.contact_phone, "rut": ticket.contact_rut,
        } if staff else None,
        "created_at": ticket.created_at,
        "updated_at": ticket.updated_at,
        "first_response_at": ticket.first_response_at,
        "resolved_at": ticket.resolved_at,
        "closed_at": ticket.closed_at,
        "first_response_due_at": ticket.first_response_due_at,
        "resolution_due_at": ticket.resolution_due_at,
    }


def event_dict(event: TicketEvent, *, staff: bool) -> dict:
    return {
        "id": event.id,
        "kind": event.kind.value,
        "visibility": event.visibility.value,
        "created_at": event.created_at,
        "actor": {
            "kind": event.actor_kind.value,
            "name": event.actor.name if staff and event.actor else None,
        },
        "body": event.body,
        "from_status": event.from_status.value if event.from_status else None,
        "to_status": event.to_status.value if event.to_status else None,
        "from_department": department_dict(event.from_department) if staff else None,
        "to_department": department_dict(event.to_department) if staff else None,
    }


def visible_events(ticket: Ticket, principal: Principal) -> list[dict]:
    """Staff see the whole timeline; applications only its public events."""
    staff = principal.is_staff
    return [event_dict(e, staff=staff) for e in ticket.events
            if staff or e.visibility is EventVisibility.PUBLIC]


def tracked_dict(ticket: Ticket) -> dict:
    """The resident's status page as data (public events, no contact)."""
    return {
        "number": ticket.public_number,
        "tracking_code": ticket.formatted_tracking_code,
        "status": ticket.status.value,
        "status_label": ticket.status.label,
        "is_open": ticket.status.is_open,
        "category": {"slug": ticket.category.slug, "name": ticket.category.name},
        "department": department_dict(ticket.department),
        "description": ticket.description,
        "address": ticket.address,
        "created_at": ticket.created_at,
        "updated_at": ticket.updated_at,
        "resolution_due_at": ticket.resolution_due_at,
        "events": [event_dict(e, staff=False) for e in ticket.public_events],
    }
