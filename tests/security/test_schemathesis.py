"""Schemathesis against a real ``casebot serve`` (SQLite, demo data, the admin API on), following
the OpenAPI document's links (``bot/channels/web/openapi_links.py``): sessions created then
written to and read, offices added then changed, days closed then reopened. No answer may be a
server error or stray from the document.

The document has no way to say that a chat session's token goes in ``Authorization``: the
machine keeps each session's token from its creation and sends it with that session's requests
(a request for a session it did not create gets the token of none, and must be a 401).
Brief in ``make test`` (a few scenarios of a few steps); ``make fuzz`` runs many more.
The operation-by-operation run is ``tests/integration/test_webchat_schemathesis.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any, ClassVar

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import ignored_auth, positive_data_acceptance

from tests.fuzzing import examples
from tests.serve_support import Served, serving

ADMIN_TOKEN = "schemathesis-stateful-admin-token-0123"
OFFICE = {
    "name": "Fuzz Field Office",
    "address": "1 Main St",
    "city": "Phoenix",
    "state": "AZ",
    "zip_code": "85004",
    "timezone": "America/Phoenix",
}
# Every check of schemathesis (server errors, status codes, content types, response schemas
# and headers, negative data, the stateful use-after-free and resource availability) but two:
# - ignored_auth: the machine puts the right token on every request it sends itself, and
#   refusing requests without it is tests/security/test_web_authorization.py's;
# - positive_data_acceptance: the document declares 400 for what JSON Schema cannot say (a time
#   zone that exists, a ZIP code of the state, a day within the booking window).
EXCLUDED = [ignored_auth, positive_data_acceptance]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    folder: Path = tmp_path_factory.mktemp("schemathesis-stateful")
    with serving(folder, {"CASEBOT_ADMIN_TOKEN": ADMIN_TOKEN}, "--demo") as server:
        yield server


def test_the_api_keeps_to_its_document_through_its_links(served: Served) -> None:
    schema = schemathesis.openapi.from_url(f"{served.base}/api/openapi.json")
    # A text over its maxLength may also be over the body limit (8 KiB: 4,000 characters that
    # JSON escapes as \uXXXX): then the server refuses it with a 413 before reading the field,
    # as its document says; schemathesis's default list of refusals has no 413.
    rejection = schema.config.checks.negative_data_rejection
    rejection.expected_statuses = [*rejection.expected_statuses, "413"]
    base = schema.as_state_machine()
    followed: set[str] = set()

    class Stateful(base):  # type: ignore[valid-type, misc]
        tokens: ClassVar[dict[str, str]] = {}
        offices = 0
        closures = 0

        def before_call(self, case: Any) -> None:
            if "admin" in (case.operation.tags or []):
                token = ADMIN_TOKEN
            else:
                session = (case.path_parameters or {}).get("session_id")
                token = self.tokens.get(str(session), "")
            case.headers = {k: v for k, v in (case.headers or {}).items() if k != "Authorization"}
            if token:
                case.headers["Authorization"] = f"Bearer {token}"
            if case.operation.label == "POST /api/admin/offices" and isinstance(case.body, dict):
                # Random text is rarely an address and a time zone: every other new office is
                # a real one (under a fresh code), so the links from it are followed too.
                self.offices += 1
                if self.offices % 2:
                    case.body = {**OFFICE, "code": f"FZ{self.offices}"}
            if case.operation.label == "PUT /api/admin/offices/{code}/closures/{day}":
                # Likewise a day to close: every other one is within the booking window.
                self.closures += 1
                if self.closures % 2:
                    day = date.today() + timedelta(days=1 + self.closures % 60)
                    case.path_parameters = {**case.path_parameters, "day": day.isoformat()}

        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"base_url": served.base, "timeout": 15}

        def after_call(self, response: Any, case: Any) -> None:
            super().after_call(response, case)
            label = case.operation.label
            followed.add(f"{label} {response.status_code}")
            if label == "POST /api/chat/sessions" and response.status_code == 201:
                session = response.json()
                self.tokens[session["session_id"]] = session["token"]

        def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
            case.validate_response(
                response,
                excluded_checks=EXCLUDED,
                headers=kwargs.get("headers"),
                recorder=self.recorder,
            )

    Stateful.run(
        settings=settings(
            max_examples=examples(30),
            stateful_step_count=8,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
    )
    # The links were followed: a created session was written to and read with its token.
    assert "POST /api/chat/sessions 201" in followed, sorted(followed)
    assert "POST /api/chat/sessions/{session_id}/messages 200" in followed, sorted(followed)
    assert "GET /api/chat/sessions/{session_id}/messages 200" in followed, sorted(followed)
    assert "POST /api/admin/offices 201" in followed, sorted(followed)
    assert "PUT /api/admin/offices/{code}/closures/{day} 200" in followed, sorted(followed)
    log = served.log_text()
    for failure in ("unexpected error on", "turn failed", "Error handling request", "Traceback"):
        assert failure not in log, log[log.index(failure) - 200 :][:3000]
