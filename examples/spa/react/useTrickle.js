// React: call once, high in the tree, with the logged-in user or null.
//   useTrickle({ src: 'https://trickle.example.com/widget.js', publishableKey: 'pk_…' }, user)
// `user` is `{ id, hash }`, the hash rendered by your server (README, step 4).
import { useEffect } from 'react';
import { loadTrickle, setUser } from '../trickle.js';

export function useTrickle(options, user) {
  const id = user ? user.id : null;
  const hash = user ? user.hash : null;
  useEffect(() => {
    loadTrickle(options);
    setUser(id ? { id, hash } : null);
  }, [id, hash]);
}
