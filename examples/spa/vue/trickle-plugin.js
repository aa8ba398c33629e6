// Vue 3: app.use(trickle, { src: 'https://trickle.example.com/widget.js', publishableKey: 'pk_…' })
// then, where your app logs in and out:
//   this.$trickle.setUser({ id, hash })   /  this.$trickle.setUser(null)
// or `const trickle = inject('trickle')` in setup().
import { loadTrickle, setUser } from '../trickle.js';

export default {
  install(app, options) {
    loadTrickle(options);
    const api = { setUser, page: () => window.trickle('page') };
    app.config.globalProperties.$trickle = api;
    app.provide('trickle', api);
  },
};
