"""和暦 (Japanese era) dates as official forms print them."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Era:
    name: str
    start: date


# The Gregorian calendar was adopted on 明治6年1月1日; earlier dates are not needed here.
ERAS: tuple[Era, ...] = (
    Era("令和", date(2019, 5, 1)),
    Era("平成", date(1989, 1, 8)),
    Era("昭和", date(1926, 12, 25)),
    Era("大正", date(1912, 7, 30)),
    Era("明治", date(1868, 1, 25)),
)


@dataclass(frozen=True)
class PartialDate:
    """A date as the card stores it: month or day may be unknown (0) for foreign residents."""

    year: int
    month: int
    day: int

    @classmethod
    def parse(cls, text: str) -> PartialDate:
        if len(text) != 8 or not text.isdigit():
            raise ValueError("date must be YYYYMMDD")
        year, month, day = int(text[:4]), int(text[4:6]), int(text[6:])
        if not 1 <= month <= 12 and month != 0:
            raise ValueError("month out of range")
        if not 0 <= day <= 31 or (month == 0 and day != 0):
            raise ValueError("day out of range")
        if month and day:
            date(year, month, day)  # raises for 20230230
        return cls(year, month, day)

    @property
    def is_partial(self) -> bool:
        return self.month == 0 or self.day == 0

    def as_date_floor(self) -> date:
        return date(self.year, self.month or 1, self.day or 1)


def era_of(d: date) -> tuple[Era, int]:
    for era in ERAS:
        if d >= era.start:
            return era, d.year - era.start.year + 1
    raise ValueError("date before 明治")


def _year_text(era: Era, year: int) -> str:
    return f"{era.name}{'元' if year == 1 else year}年"


def _partial(value: str | date) -> PartialDate:
    return PartialDate.parse(value.strftime("%Y%m%d") if isinstance(value, date) else value)


def _month_day(pd: PartialDate) -> str:
    month = f"{pd.month}月" if pd.month else "　月"
    day = f"{pd.day}日" if pd.day else "　日"
    return month + day


def format_wareki(value: str | date) -> str:
    """``19580412`` → ``昭和33年4月12日``; unknown parts print as blanks (``昭和33年　月　日``)."""
    pd = _partial(value)
    era, year = era_of(pd.as_date_floor())
    return _year_text(era, year) + _month_day(pd)


def format_western(value: str | date) -> str:
    pd = _partial(value)
    return f"{pd.year}年" + _month_day(pd)


_WAREKI = re.compile(r"^(明治|大正|昭和|平成|令和)(元|\d{1,2})年(\d{1,2})月(\d{1,2})日$")


def parse_wareki(text: str) -> date:
    """``平成元年1月8日`` → 1989-01-08. Full-width digits are accepted; a date outside its
    era (``昭和64年1月8日`` is already 平成) is refused with ValueError."""
    match = _WAREKI.match(unicodedata.normalize("NFKC", text).replace(" ", ""))
    if match is None:
        raise ValueError("not a 和暦 date")
    name, year_text, month, day = match.groups()
    index = next(i for i, era in enumerate(ERAS) if era.name == name)
    era = ERAS[index]
    year = 1 if year_text == "元" else int(year_text)
    if year < 1:
        raise ValueError("era year out of range")
    result = date(era.start.year + year - 1, int(month), int(day))
    following = ERAS[index - 1].start if index > 0 else None
    if result < era.start or (following is not None and result >= following):
        raise ValueError("the date is outside that era")
    return result


_WESTERN = re.compile(r"^(\d{4})[-/年.](\d{1,2})[-/月.](\d{1,2})日?$")


def normalize_date_input(text: str) -> str:
    """What a clerk types for a date → the stored ``YYYYMMDD``: ``19580412``,
    ``1958-04-12``, ``1958/4/12``, ``1958年4月12日`` or ``昭和33年4月12日`` (full-width
    digits too). Anything else is returned unchanged, for the validator to name."""
    plain = unicodedata.normalize("NFKC", text).strip().replace(" ", "")
    if plain.isdigit():
        return plain
    western = _WESTERN.match(plain)
    try:
        if western is not None:
            y, m, d = (int(g) for g in western.groups())
            return date(y, m, d).strftime("%Y%m%d")
        return parse_wareki(plain).strftime("%Y%m%d")
    except ValueError:
        return text
