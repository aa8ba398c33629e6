// Next.js (app router), a server component: the user hash needs the identity secret,
// so it is computed here and never reaches the browser. `currentUser` is your session.
import { createHmac } from 'node:crypto';
import Trickle from './trickle.js';
import { currentUser } from './session.js';

export default async function RootLayout({ children }) {
  const user = await currentUser();
  const trickleUser = user && {
    id: user.id,
    hash: createHmac('sha256', process.env.TRICKLE_IDENTITY_SECRET).update(user.id).digest('hex'),
  };
  return (
    <html lang="en">
      <body>
        {children}
        <Trickle src={process.env.NEXT_PUBLIC_TRICKLE_SRC}
                 publishableKey={process.env.NEXT_PUBLIC_TRICKLE_KEY} user={trickleUser} />
      </body>
    </html>
  );
}
