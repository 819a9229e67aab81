"""Schemathesis against the live OpenAPI schema: every endpoint, a bounded number of examples.

Fails on any 5xx and on any response that does not match the schema (status code, content
type, headers, body), with Hypothesis generating MAX_EXAMPLES requests per operation. Runs in-process through the WSGI application on the test database.
(schemathesis' pytest fixture loader does not support pytest 9, so each operation's
Hypothesis strategy is driven directly.)
"""

import os

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

#: Examples per operation: enough to find mismatches, small enough for a 5-minute suite
#: (SCHEMATHESIS_MAX_EXAMPLES=500 for a deeper run).
MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "25"))

RESOURCES = [
    "districts",
    "incubators",
    "institutions",
    "platforms",
    "projects",
    "indicators",
    "milestones",
    "fields",
    "sources",
]
WITH_CSV = {"districts", "incubators", "institutions", "platforms", "projects", "indicators", "milestones"}
OPERATIONS = sorted(
    [f"GET /api/{name}/" for name in RESOURCES]
    + [f"GET /api/{name}/{{id}}/" for name in RESOURCES]
    + [f"GET /api/{name}/csv/" for name in sorted(WITH_CSV)]
)


@pytest.fixture
def api_schema(db, settings):
    settings.API_ANON_RATE = "100000/minute"
    settings.ALLOWED_HOSTS = ["localhost"]
    call_command("load_portal_data", verbosity=0)
    # As Django's test client does: a request must not close the connection that holds the
    # test's transaction.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        # A handler made after the test settings are in place (static files from the source folders).
        yield schemathesis.openapi.from_wsgi("/api/schema/?format=json", WSGIHandler())
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def test_every_operation_is_fuzzed(api_schema):
    labels = sorted(result.ok().label for result in api_schema.get_all_operations())
    assert labels == OPERATIONS


@pytest.mark.parametrize("label", OPERATIONS)
def test_api_matches_its_schema(api_schema, label):
    operation = api_schema.find_operation_by_label(label)

    @given(case=operation.as_strategy())
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    def check(case):
        # Every check but "schema-valid input is accepted": some rules span parameters (a year
        # range must not be inverted) and OpenAPI cannot state them; those answer 400.
        case.call_and_validate(excluded_checks=[positive_data_acceptance])

    check()
