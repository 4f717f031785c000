"""Checking a cases CSV file, row by row, before anything touches the database."""

from __future__ import annotations

import pytest

from core.importer import parse_cases_csv

HEADER = "receipt_number,form_type,status,received_date,owner_email,access_code\n"


def test_a_good_file_gives_normalised_rows() -> None:
    rows, problems = parse_cases_csv(
        HEADER
        + "eac-21-900-12345, i-130 ,Case Was Received,2026-08-05,Ana@Example.com,ab12-cd34-ef56\n"
    )
    assert problems == []
    (row,) = rows
    assert str(row.receipt_number) == "EAC2190012345"
    assert row.form_type == "I-130"
    assert row.status.code == "case_received"
    assert row.received_date is not None
    assert row.received_date.isoformat() == "2026-08-05"
    assert row.owner_email == "ana@example.com"
    assert row.access_code == "AB12CD34EF56"


def test_status_may_be_a_code_or_a_title_in_any_case() -> None:
    rows, problems = parse_cases_csv(
        "receipt_number,form_type,status\n"
        "WAC2212345678,I-765,approved\n"
        "LIN2390001234,I-485,request for evidence was sent\n"
    )
    assert problems == []
    assert [r.status.code for r in rows] == ["approved", "rfe_sent"]


@pytest.mark.parametrize(
    ("line", "column", "reason"),
    [
        ("EAC21900123,I-130,Case Was Received,,,", "receipt_number", "receipt_number"),
        ("EAC2190012345,,Case Was Received,,,", "form_type", "empty"),
        ("EAC2190012345,form 130,Case Was Received,,,", "form_type", "form_type"),
        ("EAC2190012345,I-130,Case Was Misplaced,,,", "status", "status"),
        ("EAC2190012345,I-130,Case Was Received,05/08/2026,,", "received_date", "received_date"),
        (
            "EAC2190012345,I-130,Case Was Received,,ana-at-example.com,",
            "owner_email",
            "owner_email",
        ),
        ("EAC2190012345,I-130,Case Was Received,,,AB12", "access_code", "access_code"),
    ],
)
def test_a_bad_value_is_reported_with_its_line_and_column(
    line: str, column: str, reason: str
) -> None:
    rows, problems = parse_cases_csv(HEADER + "WAC2212345678,I-765,approved,,,\n" + line + "\n")
    assert [(p.line, p.column, p.reason) for p in problems] == [(3, column, reason)]
    assert len(rows) == 1


def test_line_numbers_count_lines_of_the_file_including_quoted_newlines() -> None:
    text = (
        "receipt_number,form_type,status\n"
        'WAC2212345678,I-765,"Case Was\nEaten"\n'  # a quoted value over lines 2 and 3
        "\n"
        "LIN23900012,I-485,approved\n"
        "MSC2091234567,I-90,approved,surplus\n"
    )
    _rows, problems = parse_cases_csv(text)
    assert [(p.line, p.reason) for p in problems] == [
        (2, "status"),
        (5, "receipt_number"),
        (6, "too_many_values"),
    ]


def test_the_same_receipt_twice_is_a_duplicate_pointing_at_the_first() -> None:
    rows, problems = parse_cases_csv(
        "receipt_number,form_type,status\n"
        "WAC2212345678,I-765,approved\n"
        "wac 2212345678,I-765,denied\n"
    )
    assert len(rows) == 1
    assert [(p.line, p.reason, p.detail) for p in problems] == [(3, "duplicate", "line 2")]


def test_a_header_without_required_columns_or_with_unknown_ones_is_refused() -> None:
    _rows, problems = parse_cases_csv("receipt,form_type,colour\nWAC2212345678,I-765,red\n")
    assert {(p.line, p.reason) for p in problems} == {
        (1, "missing_columns"),
        (1, "unknown_columns"),
    }
    assert "receipt_number" in problems[0].detail


def test_a_file_with_only_a_header_has_no_rows() -> None:
    _rows, problems = parse_cases_csv("receipt_number,form_type,status\n")
    assert [p.reason for p in problems] == ["no_rows"]


def test_a_value_too_long_for_the_csv_reader_is_a_problem_on_its_line_not_a_crash() -> None:
    huge = '"' + "x" * 200_000 + '"'
    rows, problems = parse_cases_csv(
        f"receipt_number,form_type,status\nWAC2212345678,I-765,approved\n{huge},I-765,approved\n"
    )
    assert [(p.line, p.reason) for p in problems] == [(3, "bad_csv")]
    assert len(rows) == 1
