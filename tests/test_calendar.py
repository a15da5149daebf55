"""The pure business calendar, with hand-checked Chilean dates and properties.

Office hours as the default setting: Mon-Thu 08:30-17:30, Fri 08:30-16:30,
America/Santiago. Chile's DST in 2026 (checked with zoneinfo): it ends on
Sunday 2026-04-05 (00:00 -03 becomes Saturday 23:00 -04) and starts on Sunday
2026-09-06 (00:00 -04 becomes 01:00 -03). ``holidays`` 0.108 gives for 2026,
among others: Fri 3 and Sat 4 April (Viernes/Sábado Santo), Fri 18 and Sat 19
September (Fiestas Patrias; 17 September is NOT a holiday in 2026, since the
18th is a Friday), Mon 12 October, Sat 31 October, Sun 1 November.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.calendar import BusinessCalendar, parse_office_hours
from app.calendar.chile import MunicipalHolidays

SCL = ZoneInfo("America/Santiago")
HOURS = parse_office_hours("mon-thu 08:30-17:30, fri 08:30-16:30")
CAL = BusinessCalendar(hours=HOURS, tz=SCL, holidays=MunicipalHolidays())


def local(*args) -> datetime:
    return datetime(*args, tzinfo=SCL)


def test_holidays_package_agrees_with_the_2026_dates_the_hand_checks_use():
    h = MunicipalHolidays()
    for day in (date(2026, 4, 3), date(2026, 9, 18), date(2026, 9, 19), date(2026, 10, 12)):
        assert day in h
    assert date(2026, 9, 17) not in h
    assert not CAL.is_business_day(date(2026, 9, 18))
    assert CAL.is_business_day(date(2026, 9, 17))


def test_dst_switches_of_2026_are_where_the_tests_assume():
    assert local(2026, 4, 4, 12).utcoffset() == timedelta(hours=-3)
    assert local(2026, 4, 6, 12).utcoffset() == timedelta(hours=-4)
    assert local(2026, 9, 5, 12).utcoffset() == timedelta(hours=-4)
    assert local(2026, 9, 7, 12).utcoffset() == timedelta(hours=-3)


def test_twenty_business_days_from_the_day_before_fiestas_patrias():
    # Filed Thu 17 Sep 15:00. Day 1 is the next business day: Fri 18 and Sat 19
    # are holidays, so Mon 21 (1) .. Fri 25 (5), Mon 28 (6) .. Fri 2 Oct (10),
    # Mon 5 (11) .. Fri 9 (15), Mon 12 Oct holiday, Tue 13 (16) .. Fri 16 (19),
    # Mon 19 Oct (20): due at that day's close, 17:30 -03 = 20:30 UTC.
    due = CAL.add_business_days(local(2026, 9, 17, 15), 20)
    assert due == datetime(2026, 10, 19, 20, 30, tzinfo=UTC)
    assert due.astimezone(SCL).time() == time(17, 30)


def test_ley_20285_extension_of_ten_days_after_the_original_deadline():
    # From Mon 19 Oct: Tue 20 (1) .. Fri 23 (4), Mon 26 (5) .. Fri 30 (9),
    # Sat 31 Oct holiday anyway, Mon 2 Nov (10), close 17:30 -03.
    due = CAL.add_business_days(local(2026, 10, 19, 17, 30), 10)
    assert due == datetime(2026, 11, 2, 20, 30, tzinfo=UTC)


def test_business_hours_across_the_april_dst_switch_and_good_friday():
    # Thu 2 Apr 16:30 (-03): 1 h until 17:30; Fri 3 is Good Friday; Mon 6 opens
    # at 08:30 now -04, + 7 h = 15:30 -04 = 19:30 UTC. Same UTC clock time as
    # the start (19:30 UTC) though the local time moved by an hour.
    start = local(2026, 4, 2, 16, 30)
    due = CAL.add_business_hours(start, 8)
    assert due == datetime(2026, 4, 6, 19, 30, tzinfo=UTC)
    assert due.astimezone(SCL).time() == time(15, 30)
    assert CAL.business_seconds_between(start, due) == 8 * 3600


def test_business_hours_across_the_september_dst_switch():
    # Fri 4 Sep 15:00 (-04): 1.5 h until the Friday close 16:30; Mon 7 opens
    # 08:30 (-03) + 3.5 h = 12:00 -03 = 15:00 UTC.
    due = CAL.add_business_hours(local(2026, 9, 4, 15), 5)
    assert due == datetime(2026, 9, 7, 15, 0, tzinfo=UTC)


def test_request_filed_on_a_saturday_night():
    # Sat 14 Mar 22:00: day 1 is Mon 16. Mar 16-20 (1-5), 23-27 (6-10),
    # 30, 31, 1 Apr, 2 Apr (11-14), Good Friday 3 Apr, 6-10 Apr (15-19),
    # Mon 13 Apr (20), close 17:30 now -04 (DST ended 5 Apr) = 21:30 UTC.
    filed = local(2026, 3, 14, 22)
    assert CAL.add_business_days(filed, 20) == datetime(2026, 4, 13, 21, 30, tzinfo=UTC)
    # 8 office hours: Monday 08:30 + 8 h = 16:30 -03 = 19:30 UTC.
    assert CAL.add_business_hours(filed, 8) == datetime(2026, 3, 16, 19, 30, tzinfo=UTC)


def test_business_hours_across_the_friday_early_close():
    # Fri 13 Nov 15:00: 1.5 h until 16:30, then Mon 16 08:30 + 1.5 h = 10:00.
    friday = CAL.add_business_hours(local(2026, 11, 13, 15), 3)
    assert friday == local(2026, 11, 16, 10)
    # Thu 12 Nov 15:00: 2.5 h until 17:30, then Fri 08:30 + 0.5 h = 09:00.
    thursday = CAL.add_business_hours(local(2026, 11, 12, 15), 3)
    assert thursday == local(2026, 11, 13, 9)
    # Friday counts 8 office hours, Thursday 9.
    assert CAL.business_seconds_between(local(2026, 11, 13, 0), local(2026, 11, 14, 0)) == 8 * 3600
    assert CAL.business_seconds_between(local(2026, 11, 12, 0), local(2026, 11, 13, 0)) == 9 * 3600


def test_municipal_closure_and_working_day_override_change_the_count():
    closure = BusinessCalendar(hours=HOURS, tz=SCL, holidays=MunicipalHolidays(
        closures=[date(2026, 11, 16)]))
    # Mon 16 Nov closed: the 3 hours from Fri 15:00 end on Tue 17 at 10:00.
    assert closure.add_business_hours(local(2026, 11, 13, 15), 3) == local(2026, 11, 17, 10)
    working = BusinessCalendar(hours=HOURS, tz=SCL, holidays=MunicipalHolidays(
        working_days=[date(2026, 10, 12)]))
    # With 12 Oct worked, 20 days from 17 Sep end one day earlier, Fri 16 Oct 16:30.
    assert working.add_business_days(local(2026, 9, 17, 15), 20) == local(2026, 10, 16, 16, 30)


def test_elapsed_business_time_subtracts_pauses_once_even_when_they_overlap():
    start, end = local(2026, 11, 12, 8, 30), local(2026, 11, 12, 17, 30)
    pauses = [(local(2026, 11, 12, 9), local(2026, 11, 12, 11)),
              (local(2026, 11, 12, 10), local(2026, 11, 12, 12)),
              (local(2026, 11, 12, 20), local(2026, 11, 13, 9))]  # only past the end
    assert CAL.business_seconds_between(start, end, pauses) == 6 * 3600


@pytest.mark.parametrize("spec", ["", "mon 08:30", "xyz 08:00-17:00", "fri-mon 08:00-17:00",
                                  "mon 17:00-08:00", "mon 25:00-26:00"])
def test_unreadable_office_hours_are_refused(spec):
    with pytest.raises(ValueError):
        parse_office_hours(spec)


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="naive"):
        CAL.add_business_hours(datetime(2026, 11, 12, 15), 1)


instants = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2028, 12, 31),
                        timezones=st.just(UTC))
office_seconds = st.integers(min_value=1, max_value=200 * 3600)


@settings(max_examples=150, deadline=None)
@given(start=instants, seconds=office_seconds)
def test_adding_business_time_then_measuring_it_round_trips(start, seconds):
    due = CAL.add_business_seconds(start, seconds)
    assert CAL.business_seconds_between(start, due) == pytest.approx(seconds, abs=1e-6)


@settings(max_examples=150, deadline=None)
@given(start=instants, seconds=office_seconds, days=st.integers(min_value=0, max_value=40))
def test_a_due_date_never_falls_outside_office_hours(start, seconds, days):
    assert CAL.is_within_office_hours(CAL.add_business_seconds(start, seconds))
    by_days = CAL.add_business_days(start, days)
    assert CAL.is_within_office_hours(by_days)
    assert by_days.astimezone(SCL).time() in (time(17, 30), time(16, 30))  # a closing time


@settings(max_examples=150, deadline=None)
@given(start=instants, seconds=office_seconds, pause_from=st.floats(min_value=0, max_value=1),
       pause_len=st.floats(min_value=0, max_value=1))
def test_pausing_never_shortens_a_deadline_and_keeps_the_budget(start, seconds, pause_from,
                                                                 pause_len):
    due = CAL.add_business_seconds(start, seconds)
    span = (due - start).total_seconds()
    p_start = start + timedelta(seconds=span * pause_from)
    p_end = p_start + timedelta(seconds=(due - p_start).total_seconds() * pause_len)
    paused = CAL.business_seconds_between(p_start, p_end)
    pushed = CAL.add_business_seconds(due, paused) if paused else due  # as clock._resume
    assert pushed >= due
    # The office time left for the work, pause excluded, is still the full target.
    assert CAL.business_seconds_between(start, pushed, [(p_start, p_end)]) == pytest.approx(
        seconds, abs=1e-3)
