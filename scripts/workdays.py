"""Working days from the calendar records: holidays and make-up days (调休)."""

from __future__ import annotations

import bisect
import datetime as dt
from typing import Iterable, Mapping

from crmdocs.schemas import Calendar


class NoCalendar(LookupError):
    """A day falls in a year that has no calendar record."""

    def __init__(self, year: int):
        super().__init__(f"没有 {year} 年的工作日历 records/calendar/{year}.yaml (no calendar for {year})")
        self.year = year

    def __reduce__(self):  # rebuilt from the year when it crosses a process boundary
        return (NoCalendar, (self.year,))


class WorkCalendar:
    """Answers "is this a working day?" and counts working days."""

    def __init__(self, calendars: Mapping[int, Calendar] | Iterable[Calendar]):
        items = calendars.values() if isinstance(calendars, Mapping) else calendars
        self._years: dict[int, tuple[set[int], set[dt.date], set[dt.date]]] = {}
        self._holidays: dict[int, list] = {}
        for cal in items:
            self._years[cal.year] = (set(cal.weekend), cal.days_off(), set(cal.workdays))
            self._holidays[cal.year] = list(cal.holidays)
        self._cache: dict[int, list[dt.date]] = {}

    @property
    def years(self) -> list[int]:
        return sorted(self._years)

    def covers(self, day: dt.date) -> bool:
        return day.year in self._years

    def is_working_day(self, day: dt.date) -> bool:
        try:
            weekend, off, workdays = self._years[day.year]
        except KeyError:
            raise NoCalendar(day.year) from None
        if day in workdays:
            return True
        if day in off:
            return False
        return day.isoweekday() not in weekend

    def day_off_reason(self, day: dt.date) -> str:
        """Why a day is not a working day, in words: 星期六, or 星期一，国庆节放假 for a holiday."""
        weekday = f"星期{'一二三四五六日'[day.weekday()]}"
        for holiday in getattr(self, "_holidays", {}).get(day.year, ()):  # (a calendar pickled before holidays were kept)
            if holiday.start <= day <= holiday.end:
                return f"{weekday}，{holiday.name}放假"
        return weekday

    def _days(self, year: int) -> list[dt.date]:
        if year not in self._cache:
            if year not in self._years:
                raise NoCalendar(year)
            day = dt.date(year, 1, 1)
            out = []
            while day.year == year:
                if self.is_working_day(day):
                    out.append(day)
                day += dt.timedelta(days=1)
            self._cache[year] = out
        return self._cache[year]

    def working_days(self, start: dt.date, end: dt.date) -> list[dt.date]:
        """Working days in [start, end]."""
        out: list[dt.date] = []
        for year in range(start.year, end.year + 1):
            days = self._days(year)
            lo = bisect.bisect_left(days, start)
            hi = bisect.bisect_right(days, end)
            out.extend(days[lo:hi])
        return out

    def _counts_towards_deadline(self, day: dt.date) -> bool:
        # A deadline may run past the last year that has a calendar (a diary of
        # 31 December is due on the first working day of January, and next
        # year's holiday notice may not be out yet): there, Monday to Friday.
        # Days in or before a calendar year never guess.
        if day.year not in self._years and self._years and day.year > max(self._years):
            return day.isoweekday() <= 5
        return self.is_working_day(day)

    def add_working_days(self, day: dt.date, n: int) -> dt.date:
        """The n-th working day after ``day`` (n=0: day itself if working, else
        the next). Past the last calendar year it counts Monday to Friday."""
        current = day
        if n == 0:
            while not self._counts_towards_deadline(current):
                current += dt.timedelta(days=1)
            return current
        count = 0
        while count < n:
            current += dt.timedelta(days=1)
            if self._counts_towards_deadline(current):
                count += 1
        return current
