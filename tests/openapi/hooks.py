"""schemathesis hooks of tests/openapi_conformance.rs (see its doc comment).

`POST /v1/logins` refuses an `occurred_at` more than 5 minutes in the future: a bound
relative to the clock, which a schema cannot state. Generated times past that bound are
moved into the past; every other value, valid or not, is sent as generated.
"""

from datetime import datetime, timezone

import schemathesis

PAST = "2026-01-01T00:00:00Z"


@schemathesis.hook("map_body").apply_to(operation_id="record_login")
def map_body(context, body):
    if not isinstance(body, dict) or not isinstance(body.get("occurred_at"), str):
        return body
    try:
        at = datetime.fromisoformat(body["occurred_at"].replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return body
    if at.tzinfo is not None and at > datetime.now(timezone.utc):
        return {**body, "occurred_at": PAST}
    return body
