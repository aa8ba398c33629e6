'use client';
// Next.js (app router): rendered once by app/layout.jsx, which passes the user and the
// hash from the server. `router.refresh()` after a login or logout re-renders the layout
// with the new user, and the widget follows.
import { useTrickle } from '../../react/useTrickle.js';

export default function Trickle({ src, publishableKey, user }) {
  useTrickle({ src, publishableKey }, user);
  return null;
}
