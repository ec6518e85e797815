"""The attendance report of a meeting: one CSV row per site, in import order."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping

from .models import Attendance, Site, utc_iso

COLUMNS = (
    "site_id",
    "name",
    "district",
    "first_joined_at",
    "last_left_at",
    "connected_seconds",
    "joins",
    "roll_call_answered",
)


def _iso(ts: float | None) -> str:
    return "" if ts is None else utc_iso(ts)


def attendance_csv(sites: Iterable[Site], records: Mapping[str, Attendance], now: float) -> str:
    """UTF-8 text, no BOM; a site still connected has no last_left_at and counts up to `now`.

    `roll_call_answered` is how many of the meeting's roll calls the site answered."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for site in sites:
        record = records.get(site.id)
        if record is None:
            writer.writerow([site.id, site.name, site.district, "", "", 0, 0, 0])
            continue
        writer.writerow(
            [
                site.id,
                site.name,
                site.district,
                _iso(record.first_joined_at),
                "" if record.connected_since is not None else _iso(record.last_left_at),
                round(record.connected_seconds(now)),
                record.joins,
                record.roll_calls_answered,
            ]
        )
    return out.getvalue()
