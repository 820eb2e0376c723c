"""Schemathesis: generated requests against a live server conform to the published OpenAPI document
(documented status codes, content types and response schemas; no 5xx). Skipped when schemathesis is absent (it is
in the ``dev`` extra that ``make setup`` installs, so CI's ``make test`` runs it).

Bounded for CI's fast path: 15 examples per operation, derandomized (the same cases every run, a few seconds).

Driven programmatically (hypothesis ``@given`` per operation) because schemathesis' pytest plugin does not
support this pytest version.
"""

from __future__ import annotations

import pytest

schemathesis = pytest.importorskip("schemathesis", reason="schemathesis is not installed (optional dev dependency)")
from hypothesis import HealthCheck, given, settings  # noqa: E402  (hypothesis comes with schemathesis)
from schemathesis.specs.openapi.checks import positive_data_acceptance  # noqa: E402


def test_api_conforms_to_its_openapi(make_settings, live):
    with live(make_settings(queue_size=64)) as base:
        schema = schemathesis.openapi.from_url(f"{base}/openapi.json")
        operations = [r.ok() for r in schema.get_all_operations()]
        assert {op.label for op in operations} >= {"POST /v1/run", "GET /v1/status/{job_id}", "GET /v1/models",
                                                   "DELETE /v1/status/{job_id}", "GET /healthz", "GET /readyz"}
        for op in operations:
            @given(case=op.as_strategy())
            @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), database=None,
                      derandomize=True)
            def check(case):
                # A schema-valid string need not be a decodable photo, so 4xx for valid-looking data is right here.
                case.call_and_validate(base_url=base, excluded_checks=[positive_data_acceptance])

            check()
