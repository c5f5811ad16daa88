"""kiosk.text.french against Babel's own formatting (the CLDR reference it takes its words from).

The module applies CLDR's French patterns itself, after taking the words from Babel once, so that
the kiosk window can drop all of CLDR's French from its memory (issue 17,
kiosk.window.babel_memory): these tests prove the result is Babel's, character for character, over
all days of several years, all minutes, and numbers drawn by Hypothesis.
"""

from __future__ import annotations

import datetime as dt

import pytest
from babel import Locale
from babel.dates import format_date, format_time
from babel.numbers import format_decimal
from hypothesis import given, settings, strategies as st

from kiosk.text import french

BABEL = Locale.parse("fr_FR")


def babel_long_date(day: dt.date) -> str:
    pattern = "EEEE '1er' MMMM y" if day.day == 1 else "EEEE d MMMM y"
    return format_date(day, pattern, locale=BABEL)


def babel_clock_time(moment: dt.time) -> str:
    pattern = "H' h'" if moment.minute == 0 else "H' h 'mm"
    return format_time(moment, pattern, locale=BABEL).replace(" ", french.NBSP)


def test_every_day_of_four_years_is_written_as_babel_writes_it():
    day = dt.date(2025, 1, 1)
    while day.year < 2029:
        assert french.long_date(day) == babel_long_date(day)
        day += dt.timedelta(days=1)
    assert french.long_date(dt.date(2026, 12, 3)) == "jeudi 3 décembre 2026"
    assert french.long_date(dt.date(2026, 10, 1)) == "jeudi 1er octobre 2026"


def test_every_minute_of_the_day_is_written_as_babel_writes_it():
    for minutes in range(24 * 60):
        moment = dt.time(minutes // 60, minutes % 60)
        assert french.clock_time(moment) == babel_clock_time(moment)


@pytest.mark.parametrize("weekday", range(7))
def test_day_names_are_cldr_s(weekday):
    assert french.day_name(weekday) == BABEL.days["format"]["wide"][weekday]


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.integers(min_value=-10**12, max_value=10**12),
                 st.floats(min_value=-1e9, max_value=1e9, allow_nan=False, allow_infinity=False),
                 st.decimals(min_value=-10**6, max_value=10**6, places=4).map(float)))
def test_numbers_are_written_as_babel_writes_them(value):
    assert french.number(value) == format_decimal(value, locale=BABEL)


@pytest.mark.parametrize("count", [0, 1, 2, 10, 1000, 1000000, 12345])
def test_plurals_follow_cldr_s_french_rule(count):
    word = "document" if BABEL.plural_form(count) == "one" else "documents"
    assert french.plural(count, "document", "documents") == f"{format_decimal(count, locale=BABEL)}{french.NBSP}{word}"


def test_reading_the_words_leaves_babel_s_state_alone():
    # The module is shared with the fleet server (the dashboard formats through Babel with LOCALE):
    # reading the words must not empty any Babel cache; only the kiosk window does that, in its own
    # process (kiosk.window.babel_memory, tested in tests/window/test_window_babel_memory.py).
    from babel import core as babel_core
    from babel import localedata

    assert format_decimal(1234.5, locale=french.LOCALE)  # Babel's data and global data loaded
    cached, global_data = set(localedata._cache), babel_core._global_data
    french._words = None
    assert french.words().days[0] == "lundi" and french.words().months[11] == "décembre"
    assert set(localedata._cache) >= cached and "fr_FR" in localedata._cache
    assert babel_core._global_data is global_data is not None
    assert french.LOCALE.days["format"]["wide"][0] == "lundi"  # the public LOCALE is still Babel's Locale


@pytest.mark.parametrize("count", [0, 1, 2, 5, 999_999, 1_000_000, 2_000_000, 10 ** 12])
def test_plural_of_whole_numbers_agrees_with_babel(count):
    from babel import Locale

    from kiosk.text.french import plural
    expected = "document" if Locale.parse("fr_FR").plural_form(count) == "one" else "documents"
    assert plural(count, "document", "documents").endswith("\u00a0" + expected)
