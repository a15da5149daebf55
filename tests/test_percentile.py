"""percentile_cont(column, fraction) gives PostgreSQL's value on both back-ends."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.metrics.percentile import percentile_cont
from app.tickets.models import Ticket
from tests.factories import make_category, make_department, make_ticket


def _tickets_with_seconds(session, values):
    category = make_category(session, make_department(session))
    for value in values:
        ticket = make_ticket(session, category, notify=False)
        ticket.resolution_business_seconds = value
    session.flush()
    return category


@pytest.mark.parametrize(("values", "fraction", "expected"), [
    ([10, 20, 30, 40], 0.5, 25.0),           # even count: halfway between 20 and 30
    ([40, 10, 30], 0.5, 30.0),               # odd count, unsorted input
    ([10, 20, 30, 40], 0.25, 17.5),          # position 0.75 between 10 and 20
    ([10, 20, 30, 40], 0.9, 37.0),           # position 2.7 between 30 and 40
    ([7], 0.5, 7.0),
    ([10, None, 30, None], 0.5, 20.0),       # NULLs ignored
    ([10, 20], 0.0, 10.0),
    ([10, 20], 1.0, 20.0),
])
def test_percentile_cont_matches_hand_computed_value(session, values, fraction, expected):
    _tickets_with_seconds(session, values)
    result = session.scalar(sa.select(percentile_cont(Ticket.resolution_business_seconds,
                                                      fraction)))
    assert result == pytest.approx(expected)


def test_percentile_cont_of_no_rows_is_null(session):
    assert session.scalar(sa.select(percentile_cont(Ticket.resolution_business_seconds,
                                                    0.5))) is None


def test_percentile_cont_works_per_group(session):
    first = _tickets_with_seconds(session, [1, 2, 3, 100])
    second = _tickets_with_seconds(session, [5, 6])
    rows = dict(session.execute(
        sa.select(Ticket.category_id, percentile_cont(Ticket.resolution_business_seconds, 0.5))
        .group_by(Ticket.category_id)).all())
    assert rows == {first.id: pytest.approx(2.5), second.id: pytest.approx(5.5)}


@pytest.mark.parametrize("fraction", [-0.1, 1.5])
def test_percentile_cont_refuses_a_fraction_outside_zero_to_one(fraction):
    with pytest.raises(ValueError):
        percentile_cont(Ticket.resolution_business_seconds, fraction)
