"""The header's changing parts at their widest, so a layout test holds on every day, not the day it runs.

The header shows today's date, the time and the connection state: a layout measured on a short day
("jeudi 1er mai") can break on a long one ("mercredi 30 septembre"). ``WIDEST_HEADER`` (a script taking
``dates``) writes the widest of the given dates as the page renders them, "23 h 59" and the longer of
the two connection texts into the header, then answers the header's height.
"""

from __future__ import annotations

import datetime as dt
import json

from kiosk.text.french import clock_time, long_date


def every_date_text(year: int = 2028) -> list[str]:
    """Every distinct date text of a leap year (a day and month name for each date of the year)."""
    first = dt.date(year, 1, 1)
    return sorted({long_date(first + dt.timedelta(days=offset)) for offset in range(366)})


LATEST_TIME = clock_time(dt.time(23, 59))

WIDEST_HEADER = """dates => {
  const day = document.getElementById('date-du-jour'), time = document.getElementById('heure');
  if (!day || !time) return null;
  let widest = '', width = -1;
  for (const text of dates) {
    day.textContent = text;
    const measured = day.getBoundingClientRect().width;
    if (measured > width) { width = measured; widest = text; }
  }
  day.textContent = widest;
  time.textContent = %s;
  const states = [...document.querySelectorAll('.connexion .si-en-ligne, .connexion .si-hors-ligne')];
  const longest = states.map(state => state.textContent).reduce((a, b) => (b.length > a.length ? b : a), '');
  states.forEach(state => { state.textContent = longest; });
  return document.querySelector('.bandeau').getBoundingClientRect().height;
}""" % json.dumps(LATEST_TIME)
