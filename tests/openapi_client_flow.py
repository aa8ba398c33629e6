"""The README's flow through a client generated from /openapi.json.

Run by tests/openapi_conformance.rs after `openapi-python-client generate` has written
the client package (named by TRICKLE_CLIENT_PACKAGE) to a folder on PYTHONPATH. Every
request goes through the generated code; nothing here speaks HTTP itself. Needs
TRICKLE_BASE_URL and TRICKLE_SECRET_KEY (from `trickle site create`).
"""

import importlib
import io
import json
import os
import sys

package = os.environ["TRICKLE_CLIENT_PACKAGE"]
client_module = importlib.import_module(package)
models = importlib.import_module(f"{package}.models")
types = importlib.import_module(f"{package}.types")


class Operations:
    """The generated modules of one tag, e.g. `users.get_user`."""

    def __init__(self, tag):
        self.tag = tag

    def __getattr__(self, operation):
        return importlib.import_module(f"{package}.api.{self.tag}.{operation}")


logins = Operations("logins")
users = Operations("users")
question_sets = Operations("question_sets")

QUESTION_SET = """\
slug: client-flow
title: Client flow
default_locale: en
stages:
  - at_login: 1
    questions:
      - key: role
        type: single_choice
        title: "Your role?"
        options: [dev, pm]
"""


def check(condition, message):
    if not condition:
        sys.exit(f"client flow: {message}")


client = client_module.AuthenticatedClient(
    base_url=os.environ["TRICKLE_BASE_URL"],
    token=os.environ["TRICKLE_SECRET_KEY"],
    raise_on_unexpected_status=True,
)

# 1. Report logins: three users, one of them twice.
for user_id, event_id in [("ada", "e1"), ("ada", "e2"), ("grace", "e3"), ("linus", "e4")]:
    receipt = logins.record_login.sync(
        client=client,
        body=models.LoginRequest(user_id=user_id, event_id=event_id, email=f"{user_id}@example.com"),
    )
    check(isinstance(receipt, models.LoginReceipt), f"record_login gave {receipt!r}")
check(receipt.login_count == 1 and receipt.signed_up, f"linus: {receipt!r}")

# 2. Read a profile.
profile = users.get_user.sync(id="ada", client=client)
check(isinstance(profile, models.ProfileView), f"get_user gave {profile!r}")
check(profile.login_count == 2, f"ada logged in twice: {profile!r}")
check(profile.email == "ada@example.com", f"ada's e-mail: {profile!r}")

# 3. Push a question set (YAML) and publish it.
draft = question_sets.save_question_set_draft.sync(
    slug="client-flow",
    client=client,
    body=types.File(payload=io.BytesIO(QUESTION_SET.encode()), mime_type="application/yaml"),
)
check(isinstance(draft, models.QuestionSetVersion), f"save_question_set_draft gave {draft!r}")
check(not draft.published, f"a draft: {draft!r}")
published = question_sets.publish_question_set_version.sync(
    slug="client-flow", version=draft.version, client=client
)
check(isinstance(published, models.QuestionSetVersion) and published.published, f"{published!r}")

# 4. Page through users with `where`: the two who logged in once, one per page.
where = json.dumps({"key": "login_count", "lte": 1})
seen, after = [], types.UNSET
while True:
    page = users.list_users.sync(client=client, where=where, limit=1, after=after)
    check(isinstance(page, models.UserPage), f"list_users gave {page!r}")
    seen += [user.user_id for user in page.users]
    if not page.next_cursor:
        break
    after = page.next_cursor
# The server is shared with the schemathesis runs before, whose generated logins may
# add users of their own: of this flow's users, exactly grace and linus are listed.
ours = [user_id for user_id in seen if user_id in ("ada", "grace", "linus")]
check(ours == ["grace", "linus"], f"users with one login: {seen}")
check(len(seen) == len(set(seen)), f"no user twice across pages: {seen}")

# 5. A bad request gets a typed error.
refused = logins.record_login.sync_detailed(client=client, body=models.LoginRequest(user_id=""))
check(refused.status_code == 400, f"an empty user id: {refused.status_code}")
error = refused.parsed
check(isinstance(error, models.ErrorBody), f"a typed error: {error!r}")
check(error.error.code == "invalid_user_id", f"the code: {error!r}")

print(
    f"client flow: 4 logins, profile of ada, question set v{published.version} published, "
    f"{len(seen)} users paged with where, typed error {error.error.code}: ok"
)
