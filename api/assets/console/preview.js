/*! Trickle console: the live widget preview. Mounts the real widget renderer (the
 * Wasm the loader fetches) into every
 *   <div class="trickle-preview" data-next="{prompt, settings}" data-settings="{…}"
 *        data-locale="xx" data-theme="light|dark" data-width="desktop|phone">
 * on load, after htmx swaps and whenever those attributes change. The host object it
 * gives the renderer records nothing and makes no request: an answer (checked by the
 * renderer's own rules) or a skip only says what would have been stored. */
(function (w, d) {
  'use strict';
  var script = d.currentScript;
  if (!script || w.__tricklePreview) return;
  w.__tricklePreview = true;
  var JS = script.getAttribute('data-renderer'), WASM = script.getAttribute('data-wasm');
  var ATTRS = ['data-next', 'data-settings', 'data-locale', 'data-theme', 'data-width'];
  var renderer = null, mounted = [], queued = false;

  function load() {
    return renderer || (renderer = import(JS).then(function (m) {
      return m.default({ module_or_path: WASM }).then(function () { return m; });
    }));
  }

  function el(tag, cls, text) {
    var e = d.createElement(tag);
    if (cls) e.className = cls;
    if (text) e.textContent = text;
    return e;
  }

  function key(box) {
    return ATTRS.map(function (a) { return box.getAttribute(a) || ''; }).join('\u0000');
  }

  function describe(body) {
    var b = JSON.parse(body);
    return b.key + ' = ' + JSON.stringify(b.value);
  }

  function unmount(record) {
    record.token = null;
    if (record.stop) { try { record.stop(); } catch (e) { /* already gone */ } }
    record.stop = null;
    if (record.observer) record.observer.disconnect();
  }

  /* Renders one preview box from its attributes; `record` keeps what undoes it. */
  function mount(box, record) {
    var mine = record.token = {};
    var note = el('p', 'trickle-note');
    note.setAttribute('role', 'status');
    var say = function (text) { note.textContent = text; };
    var width = box.getAttribute('data-width') === 'phone' ? 'phone' : 'desktop';
    var scheme = box.getAttribute('data-theme') === 'dark' ? 'dark' : 'light';
    var frame = el('div', 'trickle-frame ' + width + ' ' + scheme);
    box.textContent = '';
    box.appendChild(frame);
    box.appendChild(note);
    if (!JS || !WASM) return say('This server was built without the widget (cargo xtask build-widget), so there is nothing to preview.');
    var next, settings;
    try {
      next = JSON.parse(box.getAttribute('data-next') || '{}');
      settings = JSON.parse(box.getAttribute('data-settings') || 'null') || next.settings || {};
    } catch (e) { return say('The preview could not be shown: ' + e.message); }
    settings = JSON.parse(JSON.stringify(settings));
    var theme = settings.theme = settings.theme || {};
    /* "auto" follows the visitor's colour scheme: the one chosen beside the preview. */
    if (!theme.mode || theme.mode === 'auto') theme.mode = scheme;
    var host = el('trickle-widget');
    host.setAttribute('data-corner', settings.corner || 'bottom-right');
    host.setAttribute('data-width', width);
    var root = el('div');
    host.attachShadow({ mode: 'open' }).appendChild(root);
    frame.appendChild(host);
    /* The card is fixed to a corner of the frame: the frame grows to hold it. */
    if (w.ResizeObserver) {
      record.observer = new ResizeObserver(function () { frame.style.minHeight = host.offsetHeight + 32 + 'px'; });
      record.observer.observe(host);
    }
    var again = function (text) {
      unmount(record);
      frame.textContent = '';
      say(text + ' ');
      var button = el('button', 'quiet', 'Show the question again');
      button.type = 'button';
      button.onclick = function () { mount(box, record); };
      note.appendChild(button);
    };
    var preview = {
      prompt: next.prompt, settings: settings, locale: box.getAttribute('data-locale') || '',
      send: function (kind, body) {
        if (kind === 'answers') say('Would be saved: ' + describe(body) + '. Nothing is stored in a preview.');
        if (kind === 'skips') say((JSON.parse(body).forever ? 'Would never be asked again' : 'Would be skipped') + '. Nothing is stored in a preview.');
        return Promise.resolve(kind === 'impressions' ? '' : '{"next":null}');
      },
      emit: function () {},
      /* after the renderer's own handler has returned */
      close: function () { setTimeout(function () { if (record.token === mine) again(note.textContent || 'Closed; nothing is recorded.'); }); }
    };
    load().then(function (m) {
      if (record.token !== mine || !box.isConnected) return;
      record.stop = m.mount(root, preview);
    }).catch(function (e) { say('The preview could not be shown: ' + (e && e.message || e)); });
  }

  function scan() {
    queued = false;
    mounted = mounted.filter(function (record) {
      if (record.box.isConnected) return true;
      unmount(record);
      return false;
    });
    [].forEach.call(d.querySelectorAll('.trickle-preview'), function (box) {
      var record = mounted.filter(function (r) { return r.box === box; })[0];
      if (record && record.key === key(box)) return;
      if (record) unmount(record); else mounted.push(record = { box: box });
      record.key = key(box);
      mount(box, record);
    });
  }

  function later() {
    if (!queued) { queued = true; setTimeout(scan, 0); }
  }

  d.addEventListener('htmx:afterSettle', later);
  new MutationObserver(later).observe(d.documentElement, { subtree: true, childList: true, attributes: true, attributeFilter: ATTRS });
  scan();
})(window, document);
