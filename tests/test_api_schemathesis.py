"""Property-based run of the REST API against its own OpenAPI document (schemathesis).

Every operation gets generated requests, valid and invalid, sent as a staff
member, as a resident-facing app and as a read-only app; the responses must never be a server
error and must match the document (status codes, content types, bodies,
headers). Kept small (``MAX_EXAMPLES``) so the run stays well under a minute.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from app.accounts.credentials import Scope
from app.accounts.models import Role
from app.extensions import limiter
from tests.api_support import app_key, bearer, category_with_every_datatype, staff_token
from tests.factories import make_ticket, make_user

MAX_EXAMPLES = 12
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance, response_headers_conformance]


@pytest.fixture
def api_schema(app, database):
    """The served document, with data to find (a category, requests) and two callers."""
    limiter.reset()
    with database() as session:
        category = category_with_every_datatype(session, name="Luminaria")
        admin = make_user(session, Role.ADMIN)
        for _ in range(3):
            make_ticket(session, category, notify=False)
        credentials = {
            "staff": staff_token(session, admin),
            "resident_app": app_key(session),
            "reader_app": app_key(session, Scope.CATEGORIES_READ, Scope.REQUESTS_READ),
        }
        session.commit()
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app), credentials


def test_api_conforms_to_its_openapi_document(api_schema):
    schema, credentials = api_schema
    schema.validate()  # the document itself, against the OpenAPI 3.0 meta-schema
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 14
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True,
                      suppress_health_check=list(HealthCheck), database=None)
            def conforms(case):
                for secret in credentials.values():
                    case.call_and_validate(headers=bearer(secret), checks=CHECKS)

            conforms()
