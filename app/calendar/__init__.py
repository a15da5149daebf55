"""Business calendar: office hours, time zone and holidays, as pure code.

No database access here: callers hand in the office hours, the zone and a
holiday set (see ``app.calendar.chile`` and ``app.deadlines.calendar_source``).
"""

from app.calendar.business import BusinessCalendar, OfficeHours, parse_office_hours

__all__ = ["BusinessCalendar", "OfficeHours", "parse_office_hours"]
