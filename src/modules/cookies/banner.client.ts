/**
 * The banner script that runs on the provider's own website (docs/decisions/0140): plain ES2017,
 * no framework, no dependency. It is kept here as text (it never runs in Node) and served with the
 * tenant's configuration in place of __KLUIS_CONFIG__ (banner.script.ts). No backtick and no
 * dollar-brace may appear below: the text is a template literal.
 *
 * What it does: shows the banner at the first visit (accept, refuse and a choice per category,
 * nothing ticked, the page stays usable); records every choice on the server and keeps the receipt's
 * consent id in the first-party cookie kluis_consent; runs scripts marked
 * type="text/plain" data-category="…" only after consent for their category, and removes the cookies
 * of a category that is refused or withdrawn (reloading the page when scripts of it already ran);
 * treats Global Privacy Control as a refusal without showing the banner (also of an acceptance given
 * before the browser sent it); asks again when the
 * policy's cookie section changed or the choice expired; keeps a "cookie settings" control at hand.
 */
export const BANNER_SOURCE = String.raw`(function () {
  'use strict';
  var C = __KLUIS_CONFIG__;
  var d = document, w = window;
  if (w.KluisConsent) return;
  var lang = (d.documentElement.getAttribute('lang') || '').slice(0, 2).toLowerCase();
  if (!C.texts[lang]) lang = C.languages[0];
  var T = C.texts[lang];
  var gpc = navigator.globalPrivacyControl === true;
  var ALIASES = { analytics: 'analytical', statistics: 'analytical', marketing: 'tracking', advertising: 'tracking' };
  var state = read();
  var applied = null;
  var root = null, opener = null, reopen = null, styled = false, cssReady = false;

  function read() {
    var m = new RegExp('(?:^|;\\s*)' + C.cookie + '=([^;]*)').exec(d.cookie);
    if (!m) return null;
    var p;
    try { p = decodeURIComponent(m[1]).split('.'); } catch (e) { return null; }
    if (p.length < 4 || p.length > 6) return null;
    // The sixth part 'g': the choice was made while the browser sent GPC (decision 0860).
    return { id: p[0], v: p[1], cats: p[2] === '-' ? [] : p[2].split('+'), exp: Number(p[3]), key: p[4] || '', g: p[5] === 'g' };
  }
  function valid(s) { return !!s && s.v === C.policyVersion && s.exp * 1000 > Date.now(); }
  // GPC switched on after an acceptance given without it withdraws that acceptance; one given
  // while GPC was on is the visitor's own explicit choice and holds (decision 0860).
  function holds(cats, chosenWithGpc) { return !gpc || cats.length === 0 || chosenWithGpc; }
  function write(r) {
    var exp = Math.floor(Date.parse(r.expiresAt) / 1000);
    // The id's secret (proof of possession, decision 0410) stays next to the id, never elsewhere.
    var key = r.consentKey || (state && state.id === r.consentId ? state.key : '');
    var tail = r.gpc ? [key, 'g'] : key ? [key] : [];
    var value = [r.consentId, r.policyVersion, r.categories.length ? r.categories.join('+') : '-', exp].concat(tail).join('.');
    d.cookie = C.cookie + '=' + encodeURIComponent(value) + '; Max-Age=' + Math.max(0, exp - Math.floor(Date.now() / 1000)) +
      '; Path=/; SameSite=Lax' + (location.protocol === 'https:' ? '; Secure' : '');
    state = { id: r.consentId, v: r.policyVersion, cats: r.categories.slice(), exp: exp, key: key, g: r.gpc === true };
  }
  function norm(c) { c = (c || '').toLowerCase(); return ALIASES[c] || c; }

  function run(c) {
    var list = d.querySelectorAll('script[type="text/plain"][data-category]');
    for (var i = 0; i < list.length; i++) {
      var old = list[i];
      if (norm(old.getAttribute('data-category')) !== c || old.hasAttribute('data-kluis-ran')) continue;
      old.setAttribute('data-kluis-ran', '');
      var s = d.createElement('script');
      for (var j = 0; j < old.attributes.length; j++) {
        var a = old.attributes[j];
        if (a.name !== 'type' && a.name !== 'data-category' && a.name !== 'data-kluis-ran' && a.name !== 'data-type') s.setAttribute(a.name, a.value);
      }
      if (old.nonce) s.nonce = old.nonce;
      if (old.getAttribute('data-type')) s.type = old.getAttribute('data-type');
      if (old.src) s.async = false; else s.text = old.text;
      old.parentNode.insertBefore(s, old.nextSibling);
    }
  }
  function expire(name) {
    var host = location.hostname.split('.');
    var domains = [''];
    for (var i = 0; i < host.length - 1; i++) domains.push('; Domain=' + host.slice(i).join('.'));
    domains.forEach(function (dm) { d.cookie = name + '=; Max-Age=0; Path=/' + dm; });
  }
  function removeCookies(c) {
    var names = d.cookie.split(';').map(function (p) { return p.split('=')[0].trim(); });
    C.cookies.forEach(function (k) {
      if (k.category !== c) return;
      var prefix = k.name.slice(-1) === '*' ? k.name.slice(0, -1) : null;
      names.forEach(function (n) { if (prefix !== null ? n.indexOf(prefix) === 0 : n === k.name) expire(n); });
    });
  }
  function apply(cats) {
    var withdrawn = false;
    C.categories.forEach(function (c) {
      if (cats.indexOf(c) >= 0) run(c);
      else {
        if (applied && applied.indexOf(c) >= 0) withdrawn = true;
        removeCookies(c);
      }
    });
    applied = cats.slice();
    return withdrawn;
  }

  function send(cats, source) {
    var body = { categories: cats, policyVersion: C.policyVersion, bannerVersion: C.bannerVersion, language: lang, source: source, gpc: gpc };
    if (state && /^[A-Za-z0-9_-]{22}$/.test(state.id)) body.consentId = state.id;
    if (state && /^[A-Za-z0-9_-]{43}$/.test(state.key)) body.consentKey = state.key;
    return fetch(C.receiptUrl, { method: 'POST', mode: 'cors', credentials: 'omit', keepalive: true,
      headers: { 'Content-Type': 'text/plain;charset=UTF-8' }, body: JSON.stringify(body) })
      .then(function (r) { if (!r.ok) throw new Error('receipt ' + r.status); return r.json(); });
  }
  function choose(cats) {
    status('');
    return send(cats, 'banner').then(function (r) {
      write(r);
      hide();
      if (apply(r.categories)) location.reload();
    }, function () {
      if (cats.length === 0) { apply([]); hide(); return; }
      status(T.error);
    });
  }

  function el(tag, attrs, kids) {
    var e = d.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === 'text') e.textContent = attrs[k]; else if (attrs[k] !== false) e.setAttribute(k, attrs[k] === true ? '' : attrs[k]);
    });
    (kids || []).forEach(function (k) { if (k) e.appendChild(k); });
    return e;
  }
  function status(text) { var s = root && root.querySelector('.kluis-cc-status'); if (s) s.textContent = text; }
  function loadStyle() {
    if (styled) return;
    styled = true;
    var link = el('link', { rel: 'stylesheet', href: C.cssUrl });
    link.onload = link.onerror = function () { cssReady = true; if (root) root.hidden = false; if (reopen) reopen.hidden = !!root; };
    (d.head || d.documentElement).appendChild(link);
  }
  function details() {
    var box = el('div', { id: 'kluis-cc-details', class: 'kluis-cc-details', hidden: true });
    ['functional'].concat(C.categories).forEach(function (c) {
      var rows = C.cookies.filter(function (k) { return k.category === c; }).map(function (k) {
        return el('tr', {}, [el('th', { scope: 'row', text: k.name }), el('td', { text: k.provider }),
          el('td', { text: k.lifetime[lang] }), el('td', { text: k.purpose[lang] })]);
      });
      if (rows.length === 0) return;
      box.appendChild(el('table', {}, [el('caption', { text: T.categories[c].label }),
        el('thead', {}, [el('tr', {}, [el('th', { scope: 'col', text: T.columns.name }), el('th', { scope: 'col', text: T.columns.provider }),
          el('th', { scope: 'col', text: T.columns.lifetime }), el('th', { scope: 'col', text: T.columns.purpose })])]),
        el('tbody', {}, rows)]));
    });
    return box;
  }
  function show(reopened) {
    hide();
    var granted = reopened && valid(state) ? state.cats : [];
    var boxes = [el('div', { class: 'kluis-cc-cat' }, [
      el('input', { type: 'checkbox', id: 'kluis-cc-functional', checked: true, disabled: true, 'aria-describedby': 'kluis-cc-functional-d' }),
      el('label', { for: 'kluis-cc-functional', text: T.categories.functional.label + ' (' + T.alwaysOn + ')' }),
      el('p', { id: 'kluis-cc-functional-d', text: T.categories.functional.description })])];
    C.categories.forEach(function (c) {
      boxes.push(el('div', { class: 'kluis-cc-cat' }, [
        el('input', { type: 'checkbox', id: 'kluis-cc-' + c, name: c, checked: granted.indexOf(c) >= 0, 'aria-describedby': 'kluis-cc-' + c + '-d' }),
        el('label', { for: 'kluis-cc-' + c, text: T.categories[c].label }),
        el('p', { id: 'kluis-cc-' + c + '-d', text: T.categories[c].description })]));
    });
    var more = el('button', { type: 'button', class: 'kluis-cc-link', 'aria-expanded': 'false', 'aria-controls': 'kluis-cc-details', text: T.details });
    var accept = el('button', { type: 'button', class: 'kluis-cc-btn', 'data-kluis': 'accept', text: T.accept });
    var refuse = el('button', { type: 'button', class: 'kluis-cc-btn', 'data-kluis': 'refuse', text: T.refuse });
    var save = el('button', { type: 'button', class: 'kluis-cc-btn', 'data-kluis': 'save', text: T.save });
    var id = state && state.id ? el('p', { class: 'kluis-cc-id' }, [d.createTextNode(T.consentId + ': '),
      el('a', { href: C.settingsUrl + '?consent=' + encodeURIComponent(state.id) + '&lang=' + lang, text: state.id })]) : null;
    var close = reopened ? el('button', { type: 'button', class: 'kluis-cc-close', 'aria-label': T.close, text: '\u00d7' }) : null;
    var detailBox = details();
    root = el('section', { id: 'kluis-cc', class: 'kluis-cc', role: 'dialog', 'aria-modal': 'false', 'aria-labelledby': 'kluis-cc-title',
      'aria-describedby': 'kluis-cc-intro', lang: lang }, [
      close,
      el('h2', { id: 'kluis-cc-title', tabindex: '-1', text: reopened ? T.settingsTitle : T.title }),
      el('p', { id: 'kluis-cc-intro', text: T.intro }),
      gpc ? el('p', { class: 'kluis-cc-gpc', text: T.gpc }) : null,
      el('fieldset', {}, [el('legend', { text: T.choose })].concat(boxes)),
      el('p', {}, [more]),
      detailBox,
      el('div', { class: 'kluis-cc-actions' }, [refuse, accept, save]),
      id,
      el('p', { class: 'kluis-cc-status', role: 'status' })]);
    root.hidden = !cssReady;
    more.onclick = function () {
      var open = detailBox.hidden;
      detailBox.hidden = !open;
      more.setAttribute('aria-expanded', String(open));
      more.textContent = open ? T.hideDetails : T.details;
    };
    accept.onclick = function () { choose(C.categories.slice()); };
    refuse.onclick = function () { choose([]); };
    save.onclick = function () {
      choose(C.categories.filter(function (c) { return d.getElementById('kluis-cc-' + c).checked; }));
    };
    if (close) close.onclick = function () { hide(); };
    root.addEventListener('keydown', function (e) { if (e.key === 'Escape' && reopened) hide(); });
    d.body.insertBefore(root, d.body.firstChild);
    if (reopen) reopen.hidden = true;
    if (reopened) root.querySelector('h2').focus();
  }
  function hide() {
    if (!root) return;
    var had = root.contains(d.activeElement);
    root.parentNode.removeChild(root);
    root = null;
    if (reopen) reopen.hidden = false;
    if (had && opener && opener.focus) opener.focus();
  }
  function open(from) { opener = from || d.activeElement; loadStyle(); show(true); }
  function links() {
    var found = d.querySelectorAll('[data-kluis-cookie-settings], a[href="#cookie-settings"]');
    for (var i = 0; i < found.length; i++) {
      found[i].addEventListener('click', function (e) { e.preventDefault(); open(e.currentTarget); });
    }
    if (found.length > 0) return;
    reopen = el('button', { type: 'button', class: 'kluis-cc-reopen', lang: lang, text: T.settingsLink });
    reopen.hidden = !cssReady;
    reopen.onclick = function () { open(reopen); };
    d.body.appendChild(reopen);
  }

  function visit() {
    if (!C.visitUrl) return;
    var ref;
    try { ref = d.referrer ? new URL(d.referrer).hostname : undefined; } catch (e) { ref = undefined; }
    var body = { page: location.pathname };
    if (ref) body.referrerHost = ref;
    if (valid(state)) body.consentId = state.id;
    fetch(C.visitUrl, { method: 'POST', mode: 'cors', credentials: 'omit', keepalive: true,
      headers: { 'Content-Type': 'text/plain;charset=UTF-8' }, body: JSON.stringify(body) })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (a) {
        var r = a && a.consent;
        if (!r || !state || r.consentId !== state.id || !holds(r.categories, r.gpc === true)) return;
        // The choice was changed elsewhere (the cookie-settings page): the newest one holds.
        if (r.policyVersion !== state.v || r.categories.join('+') !== state.cats.join('+')) {
          write(r);
          if (apply(r.categories)) location.reload();
        }
      })
      .catch(function () { return undefined; });
  }

  function start() {
    loadStyle();
    links();
    if (valid(state) && holds(state.cats, state.g)) { apply(state.cats); visit(); return; }
    apply([]);
    if (!gpc) { show(false); visit(); return; }
    // The visit is logged once the refusal is on record, so that it counts under the refusal.
    send([], 'gpc').then(write, function () { return undefined; }).then(visit);
  }
  w.KluisConsent = {
    open: function () { open(); },
    categories: function () { return valid(state) && holds(state.cats, state.g) ? state.cats.slice() : []; },
    consentId: function () { return state ? state.id : null; }
  };
  if (d.readyState === 'loading') d.addEventListener('DOMContentLoaded', start); else start();
})();
`;

/** The banner's stylesheet: equal weight for accept and refuse, visible focus, no cookie wall. */
export const BANNER_CSS = `.kluis-cc{position:fixed;z-index:2147483000;left:1rem;right:1rem;bottom:1rem;max-width:44rem;max-height:calc(100vh - 2rem);overflow:auto;margin:0 auto;padding:1.25rem;background:#fff;color:#1a1a1a;border:2px solid #1a1a1a;border-radius:.5rem;box-shadow:0 .5rem 2rem rgba(0,0,0,.25);font:16px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;text-align:left}
.kluis-cc[hidden],.kluis-cc-reopen[hidden],.kluis-cc-details[hidden]{display:none}
.kluis-cc h2{margin:0 0 .5rem;font-size:1.25rem}
.kluis-cc p{margin:.25rem 0 .75rem}
.kluis-cc fieldset{border:1px solid #767676;border-radius:.25rem;margin:0 0 .5rem;padding:.5rem .75rem}
.kluis-cc legend{font-weight:600;padding:0 .25rem}
.kluis-cc-cat{margin:.25rem 0}
.kluis-cc-cat input{width:1.1rem;height:1.1rem;margin:0 .5rem 0 0;vertical-align:middle}
.kluis-cc-cat label{font-weight:600;vertical-align:middle}
.kluis-cc-cat p{margin:0 0 .25rem 1.6rem;font-size:.9rem;color:#333}
.kluis-cc-actions{display:flex;flex-wrap:wrap;gap:.5rem;margin:.75rem 0 .25rem}
.kluis-cc-btn{flex:1 1 10rem;min-height:2.75rem;padding:.5rem 1rem;border:2px solid #1a1a1a;border-radius:.25rem;background:#1a1a1a;color:#fff;font:inherit;font-weight:600;cursor:pointer}
.kluis-cc-btn[data-kluis=save]{background:#fff;color:#1a1a1a}
.kluis-cc-link{padding:0;border:0;background:none;color:#0b4f9c;text-decoration:underline;font:inherit;cursor:pointer}
.kluis-cc a{color:#0b4f9c}
.kluis-cc-close{float:right;min-width:2.75rem;min-height:2.75rem;border:0;background:none;font-size:1.5rem;cursor:pointer;color:#1a1a1a}
.kluis-cc table{width:100%;border-collapse:collapse;margin:.5rem 0;font-size:.875rem}
.kluis-cc caption{text-align:left;font-weight:600;padding:.25rem 0}
.kluis-cc th,.kluis-cc td{border:1px solid #bbb;padding:.25rem .4rem;text-align:left;vertical-align:top}
.kluis-cc-id{font-size:.875rem;word-break:break-all}
.kluis-cc button:focus-visible,.kluis-cc input:focus-visible,.kluis-cc a:focus-visible,.kluis-cc h2:focus-visible,.kluis-cc-reopen:focus-visible{outline:3px solid #0b4f9c;outline-offset:2px}
.kluis-cc-reopen{position:fixed;z-index:2147482999;left:1rem;bottom:1rem;padding:.5rem .75rem;border:2px solid #1a1a1a;border-radius:.25rem;background:#fff;color:#1a1a1a;font:14px/1.2 system-ui,sans-serif;cursor:pointer}
`;
