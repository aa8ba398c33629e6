// Trickle in a single-page app, whatever the framework: load /widget.js once and tell it
// who is logged in. The loader follows client-side navigation (pushState, popstate, the
// Navigation API) by itself; call `trickle('page')` only for a router that changes what
// the page shows without changing the URL's path.

let current = null;

/** Adds the script tag once (later calls do nothing) and the stub that queues calls
 * until it has loaded. `options`: `{ src, publishableKey, locale? }`. */
export function loadTrickle(options) {
  if (typeof window === 'undefined') return; // server rendering: nothing to load
  window.trickle = window.trickle || function () {
    const a = arguments;
    return new Promise((resolve, reject) => (window.trickle.q = window.trickle.q || []).push([a, resolve, reject]));
  };
  if (document.querySelector('script[data-trickle]')) return;
  const script = document.createElement('script');
  script.src = options.src;
  script.async = true;
  script.dataset.trickle = '';
  script.dataset.key = options.publishableKey;
  if (options.locale) script.dataset.locale = options.locale;
  document.head.appendChild(script);
}

/** The logged-in user, `{ id, hash, locale? }` with the hash computed by your server, or
 * null. A login gets the user's due question without a page load; a logout (a user
 * before, none now) closes the prompt and deletes the answers still queued on this
 * device. Setting the same user again does nothing. */
export function setUser(user) {
  const id = user ? user.id : null;
  if (id === current || typeof window === 'undefined') return Promise.resolve();
  const before = current;
  current = id;
  if (id) return window.trickle('identify', id, user.hash, user.locale);
  return before ? window.trickle('logout') : Promise.resolve();
}
