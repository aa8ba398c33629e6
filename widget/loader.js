/*! Trickle widget loader. Asks /v1/widget/next and loads the Wasm renderer only
 * when a prompt is due. Owns the network (retries, offline outbox, headless mode);
 * never throws into the page. Docs: README.md, "The widget". */
(function (w, d) {
  'use strict';
  var script = d.currentScript;
  if (!script || w.__trickle) return;
  var JS = '__TRICKLE_RENDERER_JS__', WASM = '__TRICKLE_RENDERER_WASM__';
  var origin = new URL(script.src).origin;
  var data = script.dataset;
  var state = {
    key: data.key,
    user: data.user || null,
    hash: data.userHash || '',
    locale: data.locale || navigator.language || '',
    headless: data.headless === 'true'
  };
  /* asking: the pending show(); due: the last `next` had a prompt; seen: the path checked */
  var settings = {}, host = null, renderer = null, asking = null, due = true, seen = where(), moving;
  var quiet = function () {};
  /* Each logout starts a new session: a request of an earlier one is never queued. */
  var session = 0, memory = {}, OUTBOX = 'trickle:outbox:' + state.key + ':';

  /* localStorage, or null where the page may not use it (reading it throws then). */
  function storage() {
    try { return w.localStorage; } catch (e) { return null; }
  }

  function call(method, path, body, who) {
    who = who || state;
    var query = path.indexOf('impressions') < 0 && state.locale ? '?locale=' + encodeURIComponent(state.locale) : '';
    /* Header values are ASCII: the id goes percent-encoded, flagged for the server. */
    var headers = {
      'X-Trickle-Key': state.key, 'X-Trickle-User': encodeURIComponent(who.user),
      'X-Trickle-User-Encoding': 'percent', 'X-Trickle-User-Hash': who.hash
    };
    if (body) headers['Content-Type'] = 'application/json';
    return fetch(origin + '/v1/widget/' + path + query, {
      method: method, headers: headers, body: body, mode: 'cors', credentials: 'omit'
    });
  }

  /* POST with retries; 4xx rejects with the server's message, a network failure
   * after three tries queues answers and skips in localStorage for the next page view. */
  function send(kind, body) {
    var who = { user: state.user, hash: state.hash }, mine = session;
    return new Promise(function (resolve, reject) {
      var tries = 0;
      (function attempt() {
        call('POST', kind, body, who).then(function (r) {
          if (r.ok) return r.text().then(resolve);
          if (r.status >= 500 || r.status === 429) throw r.status;
          return r.json().catch(quiet).then(function (j) {
            reject({ status: r.status, message: (j && j.error && j.error.message) || 'HTTP ' + r.status });
          });
        }).catch(function () {
          if (++tries < 3) return setTimeout(attempt, 500 * tries * tries);
          if (kind !== 'impressions' && mine === session) outbox(who.user, function (list) { list.push([kind, body]); });
          reject({ queued: true });
        });
      })();
    });
  }

  /* The user's queue of unsent answers and skips: in localStorage, or in this page's
   * memory where storage is blocked or full. */
  function outbox(user, change) {
    var name = OUTBOX + user, list;
    try { list = JSON.parse(storage().getItem(name) || '[]'); } catch (e) { list = memory[name] || []; }
    change(list);
    memory[name] = list;
    try {
      if (list.length) storage().setItem(name, JSON.stringify(list));
      else storage().removeItem(name);
    } catch (e) { /* memory keeps it */ }
  }

  function flush() {
    outbox(state.user, function (list) { list.splice(0).forEach(function (item) { send(item[0], item[1]).catch(quiet); }); });
  }

  /* Logout forgets every queued answer of this site on this device: they are personal data. */
  function forget() {
    session++;
    memory = {};
    try {
      var s = storage();
      for (var i = s.length; i--;) if (s.key(i).indexOf(OUTBOX) === 0) s.removeItem(s.key(i));
    } catch (e) { /* nothing stored */ }
  }

  function next() {
    if (!state.user) return Promise.resolve(null);
    return call('GET', 'next').then(function (r) {
      if (r.status === 204) return null;
      if (!r.ok) throw new Error('trickle: next failed with HTTP ' + r.status);
      return r.json().then(function (j) { settings = j.settings || settings; return j.prompt || null; });
    });
  }

  function nextOf(text) {
    return (JSON.parse(text || '{}').next) || null;
  }

  function glob(pattern, path) {
    var re = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*\*|\*|\?/g, function (m) {
      return m === '**' ? '.*' : m === '*' ? '[^/]*' : '[^/]';
    });
    return new RegExp('^' + re + '$').test(path);
  }

  function where() {
    return location.pathname + location.hash;
  }

  function allowedHere(s) {
    var path = location.pathname, match = function (g) { return glob(g, path); };
    var show = s.show_on || [], hide = s.hide_on || [];
    return (!show.length || show.some(match)) && !hide.some(match);
  }

  function emit(name, detail) {
    try { d.dispatchEvent(new CustomEvent('trickle:' + name, { detail: JSON.parse(detail) })); } catch (e) { /* the page's own listeners */ }
  }

  /* Removes the prompt (recording nothing) and forgets a pending show(). */
  function close() {
    if (host && host.parentNode) host.parentNode.removeChild(host);
    host = asking = null;
  }

  function load() {
    return renderer || (renderer = import(origin + '/widget/' + JS).then(function (m) {
      return m.default({ module_or_path: origin + '/widget/' + WASM }).then(function () { return m; });
    }));
  }

  function mount(prompt, s) {
    host = d.createElement('trickle-widget');
    host.setAttribute('data-corner', s.corner || 'bottom-right');
    var root = d.createElement('div');
    host.attachShadow({ mode: 'open' }).appendChild(root);
    d.body.appendChild(host);
    /* a closed prompt's late close() must not close the next one */
    var mine = host, shut = function () { if (host === mine) close(); };
    load().then(function (m) {
      if (host !== mine) return;
      m.mount(root, {
        prompt: prompt, settings: s, locale: state.locale,
        send: send, emit: emit, close: shut
      });
    }).catch(shut);
  }

  /* One at a time; the page rules are checked again when the delay is over. */
  function show() {
    if (state.headless || !state.user || host || asking) return;
    var mine = asking = {};
    next().then(function (prompt) {
      if (asking !== mine) return;
      var s = settings;
      due = !!prompt;
      if (!prompt || !allowedHere(s)) return (asking = null);
      setTimeout(function () {
        if (asking !== mine) return;
        asking = null;
        if (allowedHere(s)) mount(prompt, s);
      }, s.delay_ms == null ? 2000 : s.delay_ms);
    }).catch(function () { if (asking === mine) asking = null; });
  }

  /* In-app navigation: close on a hidden path (recording nothing), else ask again if due. */
  function page() {
    seen = where();
    if (!allowedHere(settings)) close(); else if (due) show();
  }

  /* Bursts count once; a change of the query alone not at all. */
  function moved() {
    clearTimeout(moving);
    moving = setTimeout(function () {
      try { if (where() !== seen) page(); } catch (e) { /* never into the page */ }
    }, 100);
  }

  /* The Navigation API, else pushState/replaceState wrapped where they are (the page's
   * own patch or History's), calling through with `this`, arguments and result. */
  function watch() {
    var nav = w.navigation;
    if (nav && nav.addEventListener) return nav.addEventListener('currententrychange', moved);
    ['pushState', 'replaceState'].forEach(function (name) {
      var owner = history.hasOwnProperty(name) ? history : Object.getPrototypeOf(history), original = owner[name];
      if (typeof original !== 'function' || original.trickle) return;
      owner[name] = function () {
        var result = original.apply(this, arguments);
        moved();
        return result;
      };
      owner[name].trickle = 1;
    });
    w.addEventListener('popstate', moved);
    w.addEventListener('hashchange', moved);
  }

  var commands = {
    identify: function (user, hash, locale) {
      if (user && typeof user === 'object') { hash = user.hash; locale = user.locale; user = user.user; }
      if (user !== state.user) close();
      state.user = user; state.hash = hash || '';
      if (locale) state.locale = locale;
      flush(); show();
    },
    logout: function () { close(); forget(); state.user = null; state.hash = ''; },
    /* a route change the loader cannot see */
    page: page,
    next: next,
    /* Headless sites report that they showed a prompt: it starts the site's minimum interval. */
    shown: function (target) {
      return send('impressions', JSON.stringify(ref(target))).then(function () { return null; });
    },
    answer: function (target, value) {
      var body = ref(target); body.value = value;
      return send('answers', JSON.stringify(body)).then(nextOf);
    },
    skip: function (target, forever) {
      var body = ref(target); body.forever = !!forever;
      return send('skips', JSON.stringify(body)).then(nextOf);
    }
  };

  /* {question_set, version, key} of a prompt (or of such an object itself). */
  function ref(target) {
    return { question_set: target.question_set, version: target.version, key: (target.question || target).key };
  }

  function trickle(name) {
    var args = [].slice.call(arguments, 1);
    try {
      if (!commands[name]) throw new Error('trickle: unknown command ' + name);
      return Promise.resolve(commands[name].apply(null, args));
    } catch (e) { return Promise.reject(e); }
  }

  try {
    var queued = (w.trickle && w.trickle.q) || [];
    w.__trickle = true;
    w.trickle = trickle;
    watch();
    if (state.user) { flush(); show(); }
    queued.forEach(function (item) {
      /* item: the stub's arguments, or [arguments, resolve, reject] from a promise stub */
      var args = item.length === 3 && typeof item[1] === 'function' ? item[0] : item;
      var p = trickle.apply(null, [].slice.call(args));
      if (args !== item) p.then(item[1], item[2]); else p.catch(quiet);
    });
  } catch (e) { /* never break the host page */ }
})(window, document);
