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

/**
 * The identity provider's claims worth keeping: the standard ones and, from a social
 * connection's `profileData` (Facebook, Twitter, Google, …), birthday, gender, location
 * and handle. Only short strings are sent, so Trickle's limits (64 claims of
 * [A-Za-z0-9_-] keys, 3 levels, 16 KiB) always hold and a login is never refused.
 */
function idpProfile(user) {
  const social = (user.identities || []).find((i) => i.isSocial && i.profileData) || {};
  const data = social.profileData || {};
  const claims = {
    given_name: user.given_name,
    family_name: user.family_name,
    nickname: user.nickname,
    picture: user.picture,
    locale: data.locale,
    birthdate: isoDate(data.birthday),
    gender: data.gender,
    location: typeof data.location === "object" ? data.location?.name : data.location,
    hometown: data.hometown?.name,
    twitter: social.provider === "twitter" ? data.screen_name : undefined,
    social_provider: social.provider,
  };
  return Object.fromEntries(
    Object.entries(claims).filter(([, v]) => typeof v === "string" && v && v.length <= 1024),
  );
}

/** Facebook's `MM/DD/YYYY` (or a date already in ISO form) as `YYYY-MM-DD`. */
function isoDate(text) {
  if (typeof text !== "string") return undefined;
  const us = /^(\d{2})\/(\d{2})\/(\d{4})$/.exec(text);
  if (us) return `${us[3]}-${us[1]}-${us[2]}`;
  return /^\d{4}-\d{2}-\d{2}$/.test(text) ? text : undefined;
}

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
    // Lands at app_metadata.idp, for prefill / skip_if_known (e.g. app_metadata.idp.birthdate).
    profile: idpProfile(event.user),
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
