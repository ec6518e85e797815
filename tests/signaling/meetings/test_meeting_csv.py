"""Sites CSV parsing: every refusal names its line."""

from __future__ import annotations

import pytest

from signaling.meetings.csv_import import CsvError, decode_csv, parse_sites_csv


def errors(text: str) -> list[str]:
    with pytest.raises(CsvError) as err:
        parse_sites_csv(text)
    return [str(e) for e in err.value.errors]


def test_parses_rows_with_optional_role_and_bom() -> None:
    text = decode_csv(
        "\ufeffName, District ,contact,role\n"
        "Xã Hòa An,Hòa Vang,0905 111 222,\n"
        '\n"UBND tỉnh, Đà Nẵng",,,host\n'.encode()
    )
    rows = parse_sites_csv(text)
    assert [(r.line, r.name, r.district, r.contact, r.role) for r in rows] == [
        (2, "Xã Hòa An", "Hòa Vang", "0905 111 222", "participant"),
        (4, "UBND tỉnh, Đà Nẵng", "", "", "host"),
    ]


def test_missing_name_names_the_line() -> None:
    text = "name,district,contact\nA,d,c\nB,d,c\n,d,c\n"
    assert errors(text) == ["line 4: missing name"]


def test_all_bad_lines_are_reported() -> None:
    text = "name,district,contact\nA,d\n,d,c\nB,d,c,extra\n" + "C," + "x" * 300 + ",c\n"
    assert errors(text) == [
        "line 2: expected 3 fields, found 2",
        "line 3: missing name",
        "line 4: expected 3 fields, found 4",
        "line 5: district is longer than 200 characters",
    ]


def test_duplicates_within_the_file() -> None:
    text = "name,district,contact\nXã Hòa An,d,c\nB,d,c\n xã  HÒA an ,d,c\n"
    with pytest.raises(CsvError) as err:
        parse_sites_csv(text)
    assert err.value.duplicate
    assert str(err.value) == "line 4: duplicate site name 'xã HÒA an' (first on line 2)"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "line 1: the file is empty"),
        ("\n\n", "line 1: the file is empty"),
        ("name,district,contact\n", "line 1: the file has a header but no sites"),
        ("name,district\nA,b\n", "line 1: the header must be name,district,contact[,role]"),
        ("name,district,contact,phone\n", "unknown column 'phone'"),
        ("\nname,name,district,contact\n", "line 2: the header must be"),
        ("name,district,contact\nA,d,c,\n", "line 2: expected 3 fields, found 4"),
        ("name,district,contact,role\nA,d,c,chair\n", "line 2: role 'chair' is not one of"),
        ('name,district,contact\n"A\nB",d,c\n', "line 2: name contains a control character"),
        ("name,district,contact\n" + "N" * 65 + ",d,c\n", "line 2: name is longer than 64"),
        ('name,district,contact\nA,d,c\n"B,d,c\n', "line 3: not valid CSV"),
    ],
)
def test_refusals(text: str, message: str) -> None:
    assert message in "; ".join(errors(text))


def test_non_utf8_names_the_line() -> None:
    with pytest.raises(CsvError, match="line 3: the file is not UTF-8"):
        decode_csv(b"name,district,contact\nA,d,c\nX\xe3 H\xf2a,d,c\n")
