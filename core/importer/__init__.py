"""Importing cases from a CSV file: every row checked first, then all applied or nothing.

``parse_cases_csv`` checks a file without the database (problems by line and column);
``import_cases`` applies checked rows in one transaction, in bulk (see ``core.importer.apply``).
"""

from __future__ import annotations

from core.importer.apply import (
    CHUNK,
    BeforeCommit,
    apply_rows,
    import_cases,
    import_cases_bytes,
    import_cases_file,
)
from core.importer.parse import OPTIONAL_COLUMNS, REQUIRED_COLUMNS, parse_cases_csv
from core.importer.rows import CaseRow, ImportFailed, ImportResult, RowProblem

__all__ = [
    "CHUNK",
    "OPTIONAL_COLUMNS",
    "REQUIRED_COLUMNS",
    "BeforeCommit",
    "CaseRow",
    "ImportFailed",
    "ImportResult",
    "RowProblem",
    "apply_rows",
    "import_cases",
    "import_cases_bytes",
    "import_cases_file",
    "parse_cases_csv",
]
