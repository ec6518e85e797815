"""Parse a CSV of sites (header name,district,contact[,role]); every error names its line."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from .models import INVITATION_ROLES, InvitationRole, as_role, name_key

REQUIRED_COLUMNS = ("name", "district", "contact")
OPTIONAL_COLUMNS = ("role",)
MAX_NAME = 64  # the protocol's display-name limit
MAX_FIELD = 200
MAX_REPORTED = 20


@dataclass(frozen=True, slots=True)
class SiteRow:
    line: int
    name: str
    district: str
    contact: str
    role: InvitationRole


@dataclass(frozen=True, slots=True)
class LineError:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


class CsvError(Exception):
    """The CSV was refused; `errors` lists every problem found, by line."""

    def __init__(self, errors: list[LineError], *, duplicate: bool = False):
        shown = "; ".join(str(e) for e in errors[:MAX_REPORTED])
        more = len(errors) - MAX_REPORTED
        super().__init__(shown + (f"; and {more} more" if more > 0 else ""))
        self.errors = errors
        self.duplicate = duplicate


def decode_csv(body: bytes) -> str:
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = body.count(b"\n", 0, exc.start) + 1
        raise CsvError([LineError(line, "the file is not UTF-8 text")]) from exc


def _has_control(value: str) -> bool:
    return any(ord(c) < 32 or ord(c) == 127 for c in value)


def parse_sites_csv(text: str) -> list[SiteRow]:
    """Rows of a sites CSV. Raises CsvError naming every bad line (duplicate=True when the
    only problems are names repeated within the file)."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    errors: list[LineError] = []
    duplicates: list[LineError] = []
    rows: list[SiteRow] = []
    columns: list[str] | None = None
    first_line: dict[str, int] = {}
    previous_end = 0
    while True:
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            errors.append(LineError(previous_end + 1, f"not valid CSV ({exc})"))
            break
        line = previous_end + 1
        previous_end = reader.line_num
        if not record or all(not cell.strip() for cell in record):
            continue
        if columns is None:
            columns = [cell.strip().casefold() for cell in record]
            missing = [c for c in REQUIRED_COLUMNS if c not in columns]
            unknown = [c for c in columns if c not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
            repeated = sorted({c for c in columns if columns.count(c) > 1})
            if missing or unknown or repeated:
                problems = []
                if missing:
                    problems.append("missing column " + ", ".join(repr(c) for c in missing))
                if unknown:
                    problems.append("unknown column " + ", ".join(repr(c) for c in unknown))
                if repeated:
                    problems.append("repeated column " + ", ".join(repr(c) for c in repeated))
                header = ",".join(REQUIRED_COLUMNS)
                raise CsvError(
                    [LineError(line, f"the header must be {header}[,role]: {'; '.join(problems)}")]
                )
            continue
        if len(record) != len(columns):
            errors.append(LineError(line, f"expected {len(columns)} fields, found {len(record)}"))
            continue
        cells = {col: cell.strip() for col, cell in zip(columns, record, strict=True)}
        name = " ".join(cells["name"].split())
        problem = _row_problem(cells, name)
        if problem is not None:
            errors.append(LineError(line, problem))
            continue
        key = name_key(name)
        if key in first_line:
            duplicates.append(
                LineError(line, f"duplicate site name {name!r} (first on line {first_line[key]})")
            )
            continue
        first_line[key] = line
        rows.append(
            SiteRow(
                line=line,
                name=name,
                district=cells["district"],
                contact=cells["contact"],
                role=as_role(cells.get("role") or "participant"),
            )
        )
    if columns is None:
        raise CsvError(
            [LineError(1, "the file is empty (expected a header name,district,contact)")]
        )
    if errors or duplicates:
        merged = sorted(errors + duplicates, key=lambda e: e.line)
        raise CsvError(merged, duplicate=not errors)
    if not rows:
        raise CsvError([LineError(previous_end or 1, "the file has a header but no sites")])
    return rows


def _row_problem(cells: dict[str, str], name: str) -> str | None:
    if not name:
        return "missing name"
    if len(name) > MAX_NAME:
        return f"name is longer than {MAX_NAME} characters"
    for column, value in cells.items():
        if _has_control(value):
            return f"{column} contains a control character"
        if len(value) > MAX_FIELD:
            return f"{column} is longer than {MAX_FIELD} characters"
    role = cells.get("role") or "participant"
    if role not in INVITATION_ROLES:
        return f"role {role!r} is not one of {', '.join(INVITATION_ROLES)}"
    return None
