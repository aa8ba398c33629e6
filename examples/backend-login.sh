#!/usr/bin/env sh
# Report a successful login to Trickle from any backend: one POST per login.
#
#   TRICKLE_URL=http://127.0.0.1:8080 TRICKLE_SECRET_KEY=sk_… ./backend-login.sh u_123 login-evt-42
#
# The event id (your login's own id) makes retries safe: Trickle counts it once.
set -eu
user_id=${1:?user id}
event_id=${2:?event id}
curl -sS --fail-with-body "${TRICKLE_URL:?}/v1/logins" \
  -H "Authorization: Bearer ${TRICKLE_SECRET_KEY:?}" \
  -H 'Content-Type: application/json' \
  -d "{\"user_id\": \"${user_id}\", \"event_id\": \"${event_id}\"}"
echo
