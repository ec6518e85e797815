"""The attendance report: one row per site in import order, connected sites counted to now."""

from __future__ import annotations

from signaling.meetings.attendance_csv import attendance_csv
from signaling.meetings.models import Attendance, Site

T0 = 1_780_000_000.0


def test_rows_for_left_connected_and_absent_sites() -> None:
    sites = [Site(f"s{i}", "m", f"Xã {i}", "Hòa Vang", "") for i in (1, 2, 3)]
    records = {
        "s1": Attendance("s1", T0, T0 + 100, 90.4, None, 2, 1),
        "s2": Attendance("s2", T0, T0 + 50, 50.0, T0 + 200, 2, 0),  # back and connected
    }
    assert attendance_csv(sites, records, now=T0 + 260).split("\r\n") == [
        "site_id,name,district,first_joined_at,last_left_at,connected_seconds,joins,"
        "roll_call_answered",
        "s1,Xã 1,Hòa Vang,2026-05-28T20:26:40+00:00,2026-05-28T20:28:20+00:00,90,2,1",
        "s2,Xã 2,Hòa Vang,2026-05-28T20:26:40+00:00,,110,2,0",
        "s3,Xã 3,Hòa Vang,,,0,0,0",
        "",
    ]
