/**
 * Authgear blocking hook (Deno) on `authentication.pre_authenticated`: reports each
 * login and signup to Trickle. It always allows the authentication: a Trickle outage
 * must never lock users out.
 *
 * In the Authgear portal: Advanced → Hooks → Blocking Events → authentication.pre_authenticated
 * → TypeScript, and set TRICKLE_URL and TRICKLE_SECRET_KEY below (Authgear Deno hooks
 * have no secret store; keep this hook's source private).
 *
 * Render the user hash in your own backend (see backend_axum.rs): HMAC-SHA256 of the
 * Authgear user id under the site's identity secret.
 */
const TRICKLE_URL = "https://trickle.example.com";
const TRICKLE_SECRET_KEY = "sk_…";

/**
 * The OIDC standard attributes worth keeping as claims. Only short strings (and the
 * address's locality and country) are sent, so Trickle's limits (64 claims of
 * [A-Za-z0-9_-] keys, 3 levels, 16 KiB) always hold.
 */
// deno-lint-ignore no-explicit-any
function idpProfile(attributes: any): Record<string, string> {
  const claims: Record<string, unknown> = {
    given_name: attributes.given_name,
    family_name: attributes.family_name,
    nickname: attributes.nickname,
    picture: attributes.picture,
    gender: attributes.gender,
    birthdate: attributes.birthdate,
    locale: attributes.locale,
    zoneinfo: attributes.zoneinfo,
    location: attributes.address?.locality,
    country: attributes.address?.country,
  };
  return Object.fromEntries(
    Object.entries(claims).filter(
      (entry): entry is [string, string] =>
        typeof entry[1] === "string" && entry[1] !== "" && entry[1].length <= 1024,
    ),
  );
}

// deno-lint-ignore no-explicit-any
export default async function (e: any): Promise<{ is_allowed: boolean }> {
  const user = e.payload?.authentication_context?.user;
  if (!user?.id) return { is_allowed: true };
  try {
    const response = await fetch(`${TRICKLE_URL}/v1/logins`, {
      method: "POST",
      headers: {
        Authorization: `Bearer ${TRICKLE_SECRET_KEY}`,
        "Content-Type": "application/json",
      },
      body: JSON.stringify({
        user_id: user.id,
        event_id: `authgear:${e.id}`, // the event id: retries of this hook count once
        ip: e.context?.ip_address,
        user_agent: e.context?.user_agent,
        email: user.standard_attributes?.email,
        name: user.standard_attributes?.name,
        // Lands at app_metadata.idp, for prefill / skip_if_known (app_metadata.idp.birthdate).
        profile: idpProfile(user.standard_attributes ?? {}),
      }),
      signal: AbortSignal.timeout(2000),
    });
    if (!response.ok) console.log(`trickle: login not counted (${response.status})`);
  } catch (error) {
    console.log(`trickle: login not reported: ${error}`);
  }
  return { is_allowed: true };
}
