/**
 * Auth0 post-login Action: report every login to Trickle and put the user hash in the
 * ID token, so your front end can render the widget's script tag.
 *
 * Add as a Login / Post Login Action with these secrets:
 *   TRICKLE_URL               https://trickle.example.com
 *   TRICKLE_SECRET_KEY        sk_…  (from `trickle site create`)
 *   TRICKLE_IDENTITY_SECRET   the site's identity_secret
 *
 * The front end then renders:
 *   <script src="https://trickle.example.com/widget.js" data-key="pk_…"
 *           data-user="{sub}" data-user-hash="{https://trickle/user_hash claim}" async></script>
 */
const crypto = require("crypto");

exports.onExecutePostLogin = async (event, api) => {
  const userId = event.user.user_id;
  const body = {
    user_id: userId,
    // Stable for this login, so Auth0 retrying the Action counts it once.
    event_id: `auth0:${userId}:${event.stats.logins_count}`,
    ip: event.request.ip,
    user_agent: event.request.user_agent,
    email: event.user.email,
    name: event.user.name,
  };
  try {
    const response = await fetch(`${event.secrets.TRICKLE_URL}/v1/logins`, {
      method: "POST",
      headers: {
        Authorization: `Bearer ${event.secrets.TRICKLE_SECRET_KEY}`,
        "Content-Type": "application/json",
      },
      body: JSON.stringify(body),
      // Never hold up a login for Trickle.
      signal: AbortSignal.timeout(2000),
    });
    if (!response.ok) console.log(`trickle: login not counted (${response.status})`);
  } catch (error) {
    console.log(`trickle: login not reported: ${error.message}`);
  }
  const userHash = crypto
    .createHmac("sha256", event.secrets.TRICKLE_IDENTITY_SECRET)
    .update(userId)
    .digest("hex");
  api.idToken.setCustomClaim("https://trickle/user_hash", userHash);
};
