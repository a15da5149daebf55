"""``percentile_cont(column, fraction)``: the continuous percentile, on both back-ends.

On PostgreSQL it compiles to the ordered-set aggregate
``percentile_cont(f) WITHIN GROUP (ORDER BY col)``. SQLite has no such
aggregate, so every SQLite connection gets a user-defined aggregate of the
same name that computes exactly the same value: NULLs ignored, the values
sorted, linear interpolation between the two closest ranks at position
``f * (n - 1)``; NULL when there are no values. It is still a SQL aggregate
(GROUP BY works as usual); nothing outside the database loops over rows.
"""

from __future__ import annotations

import math
import sqlite3

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement


class _PercentileCont(FunctionElement):
    type = sa.Float()
    name = "percentile_cont"
    inherit_cache = True


def percentile_cont(column, fraction: float) -> _PercentileCont:
    """The ``fraction`` (0..1) continuous percentile of ``column``; 0.5 is the median.

    :raise ValueError: when ``fraction`` is not between 0 and 1.
    """
    fraction = float(fraction)
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"percentile fraction must be between 0 and 1, got {fraction}")
    # A literal, not a bound parameter: PostgreSQL needs a constant type for it, and
    # the fraction becomes part of the statement's cache key.
    return _PercentileCont(column, sa.literal_column(repr(fraction), sa.Float()))


@compiles(_PercentileCont, "postgresql")
def _compile_postgresql(element, compiler, **kw):
    column, fraction = list(element.clauses)
    return (f"percentile_cont({compiler.process(fraction, **kw)}) "
            f"WITHIN GROUP (ORDER BY {compiler.process(column, **kw)})")


@compiles(_PercentileCont)
def _compile_default(element, compiler, **kw):
    column, fraction = list(element.clauses)
    return f"percentile_cont({compiler.process(column, **kw)}, {compiler.process(fraction, **kw)})"


class SqlitePercentileCont:
    """The SQLite aggregate behind ``percentile_cont(col, f)`` (PostgreSQL's definition)."""

    def __init__(self) -> None:
        self.values: list[float] = []
        self.fraction: float | None = None

    def step(self, value, fraction) -> None:
        self.fraction = float(fraction)
        if value is not None:
            self.values.append(float(value))

    def finalize(self) -> float | None:
        if not self.values or self.fraction is None:
            return None
        values = sorted(self.values)
        position = self.fraction * (len(values) - 1)
        low, high = math.floor(position), math.ceil(position)
        return values[low] + (values[high] - values[low]) * (position - low)


@sa.event.listens_for(sa.Engine, "connect")
def _register_sqlite_aggregate(dbapi_connection, _record) -> None:
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.create_aggregate("percentile_cont", 2, SqlitePercentileCont)
