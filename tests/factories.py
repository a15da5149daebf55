"""Test data built through the same services the app uses."""

from __future__ import annotations

import itertools
from datetime import datetime

from sqlalchemy.orm import Session

from app.accounts.models import Role, User
from app.accounts.services import create_user
from app.catalog.models import Category, Department, Visibility
from app.tickets import intake
from app.tickets.contact import ResidentContact
from app.tickets.models import Channel, Ticket

PASSWORD = "correct-horse-battery"
_counter = itertools.count(1)


def make_department(session: Session, name: str | None = None, **kwargs) -> Department:
    n = next(_counter)
    department = Department(name=name or f"Departamento {n}", slug=f"dep-{n}", **kwargs)
    session.add(department)
    session.flush()
    return department


def make_category(session: Session, department: Department | None = None,
                  name: str | None = None, **kwargs) -> Category:
    n = next(_counter)
    kwargs.setdefault("visibility", Visibility.PUBLIC)
    category = Category(name=name or f"Categoría {n}", slug=f"cat-{n}",
                        department=department or make_department(session), **kwargs)
    session.add(category)
    session.flush()
    return category


def make_user(session: Session, role: Role = Role.AGENT,
              departments: list[Department] | None = None, email: str | None = None) -> User:
    n = next(_counter)
    return create_user(session, email=email or f"staff{n}@muni.example.cl", name=f"Staff {n}",
                       password=PASSWORD, role=role, departments=departments or [])


def make_ticket(session: Session, category: Category | None = None, *,
                email: str | None = "vecina@example.cl", now: datetime | None = None,
                notify: bool = True, **kwargs) -> Ticket:
    kwargs.setdefault("description", "La luminaria del pasaje está apagada hace días.")
    kwargs.setdefault("channel", Channel.WEB)
    kwargs.setdefault("consent", True)
    kwargs.setdefault("contact", ResidentContact(name="Rosa Pérez", email=email))
    return intake.submit(session, category=category or make_category(session),
                         now=now, notify=notify, **kwargs)
