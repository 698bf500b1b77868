"""Property-based requests generated from /openapi.json (Schemathesis): no input may cause a 5xx."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

schemathesis = pytest.importorskip("schemathesis")

#: Examples per operation: enough to vary every field, small enough to keep the run well under a minute.
EXAMPLES = 5


def test_no_server_errors_on_any_operation(server):
    schema = schemathesis.openapi.from_url(f"{server.url}/openapi.json")
    headers = {"Authorization": f"Bearer {server.keys['admin']}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 13
    failures: list[str] = []
    seen: dict[str, int] = {}

    def checker(operation):
        label = f"{operation.method.upper()} {operation.path}"

        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def check(case):
            response = case.call(base_url=server.url, headers=headers, timeout=30)
            seen[label] = seen.get(label, 0) + 1
            if response.status_code >= 500:
                failures.append(f"{label}: {response.status_code} {response.text[:200]}")
            elif response.status_code >= 400:
                body = response.json()
                if not {"code", "message"} <= set(body) or "Traceback" in response.text:
                    failures.append(f"{label}: error body is not {{code, message}}: {response.text[:200]}")

        return check

    for operation in operations:
        checker(operation)()

    assert failures == []
    assert set(seen) == {f"{op.method.upper()} {op.path}" for op in operations}
