/*
 * sp_assets.c - the two scripts of the status site; see sp_site.h.
 *
 * embed/page.js runs on the status pages: it keeps every relative time
 * ("in 20 minutes") current while a page stays open, with the same rules
 * as common/human.c, and when the copy in the browser is older than the
 * out-of-date threshold (plus two minutes for clock skew) it says so and
 * asks for a reload.
 *
 * embed/banner.js runs inside the product, included with one tag:
 *   <script src="https://status.example.com/embed/banner.js" async></script>
 * It finds the status page from its own address, fetches
 * api/v2/banner.json (served with Access-Control-Allow-Origin: *), and
 * while something is wrong shows a dismissible bar at the top of the page.
 * It writes text only (textContent, never HTML), links only http(s)
 * addresses, needs nothing else, and keeps nothing but the dismissal of
 * the update it was shown for (sessionStorage), so a newer update shows
 * again. It checks again every minute.
 *
 * Both are plain ES5 so that old browsers inside customers' products run
 * them; neither sets a cookie or sends credentials.
 */
#include "sp_site.h"

/* clang-format off */
const char tc_sp_page_js[] =
    "/* tocsin status page: relative times stay current while the page is open. */\n"
    "(function () {\n"
    "  'use strict';\n"
    "  var D = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];\n"
    "  var M = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];\n"
    "  function p2(n) { return (n < 10 ? '0' : '') + n; }\n"
    "  function human(ms) {\n"
    "    var d = new Date(ms);\n"
    "    return D[d.getUTCDay()] + ' ' + d.getUTCDate() + ' ' + M[d.getUTCMonth()] + ' ' +\n"
    "      d.getUTCFullYear() + ', ' + p2(d.getUTCHours()) + ':' + p2(d.getUTCMinutes()) + ' UTC';\n"
    "  }\n"
    "  function rel(ms, now) {\n"
    "    var d = ms - now, f = d > 0, a = f ? d : -d, n, u;\n"
    "    if (a < 60000) return f ? 'in less than a minute' : 'just now';\n"
    "    if (a < 5400000) { n = Math.floor((a + 30000) / 60000); u = 'minute'; }\n"
    "    else if (a < 172800000) { n = Math.floor((a + 1800000) / 3600000); u = 'hour'; }\n"
    "    else { n = Math.floor((a + 43200000) / 86400000); u = 'day'; }\n"
    "    return (f ? 'in ' : '') + n + ' ' + u + (n === 1 ? '' : 's') + (f ? '' : ' ago');\n"
    "  }\n"
    "  function tick() {\n"
    "    var now = Date.now(), els = document.querySelectorAll('.rel[data-t]'), i;\n"
    "    for (i = 0; i < els.length; i++)\n"
    "      els[i].textContent = rel(Number(els[i].getAttribute('data-t')), now);\n"
    "    var b = document.body, r = Number(b.getAttribute('data-rendered'));\n"
    "    var s = Number(b.getAttribute('data-stale'));\n"
    "    if (r > 0 && s > 0 && now - r > s + 120000 && !document.getElementById('stale')) {\n"
    "      var div = document.createElement('div'), main = document.querySelector('main');\n"
    "      div.className = 'stale'; div.id = 'stale'; div.setAttribute('role', 'alert');\n"
    "      div.textContent = 'This page was last updated ' + human(r) +\n"
    "        ' and may be out of date. Reload it for the latest status.';\n"
    "      var h = main && main.querySelector('header');\n"
    "      if (h) main.insertBefore(div, h.nextSibling); else if (main) main.insertBefore(div, main.firstChild);\n"
    "    }\n"
    "  }\n"
    "  tick();\n"
    "  setInterval(tick, 30000);\n"
    "})();\n";

const char tc_sp_banner_js[] =
    "/* tocsin status banner. Include it with one tag:\n"
    " *   <script src=\"https://status.example.com/embed/banner.js\" async></script>\n"
    " * While something is wrong it shows a dismissible bar at the top of the page,\n"
    " * from api/v2/banner.json of the same status page. Text only, no dependencies. */\n"
    "(function () {\n"
    "  'use strict';\n"
    "  var me = document.currentScript;\n"
    "  if (!me || !me.src || !window.fetch) return;\n"
    "  var base = me.src.replace(/embed\\/banner\\.js([?#].*)?$/, '');\n"
    "  var KEY = 'tocsin-banner-dismissed:' + base;\n"
    "  var COLORS = { minor: '#9a6700', major: '#bc4c00', critical: '#b42318', maintenance: '#1f6feb' };\n"
    "  var D = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];\n"
    "  var M = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];\n"
    "  var bar = null;\n"
    "  function p2(n) { return (n < 10 ? '0' : '') + n; }\n"
    "  function human(ms) {\n"
    "    var d = new Date(ms);\n"
    "    return D[d.getUTCDay()] + ' ' + d.getUTCDate() + ' ' + M[d.getUTCMonth()] + ' ' +\n"
    "      d.getUTCFullYear() + ', ' + p2(d.getUTCHours()) + ':' + p2(d.getUTCMinutes()) + ' UTC';\n"
    "  }\n"
    "  function make(tag, css, text) {\n"
    "    var e = document.createElement(tag);\n"
    "    e.style.cssText = css;\n"
    "    if (text) e.textContent = text;\n"
    "    return e;\n"
    "  }\n"
    "  function hide() {\n"
    "    if (bar && bar.parentNode) bar.parentNode.removeChild(bar);\n"
    "    bar = null;\n"
    "  }\n"
    "  function dismissed(id) {\n"
    "    try { return window.sessionStorage.getItem(KEY) === id; } catch (e) { return false; }\n"
    "  }\n"
    "  function show(b) {\n"
    "    var id = String(b.updated_at || '') + '|' + String(b.indicator);\n"
    "    if (dismissed(id)) { hide(); return; }\n"
    "    if (bar && bar.getAttribute('data-id') === id) return;\n"
    "    hide();\n"
    "    bar = make('div', 'box-sizing:border-box;width:100%;margin:0;padding:10px 48px 10px 16px;' +\n"
    "      'position:relative;z-index:2147483647;font:15px/1.4 system-ui,sans-serif;color:#fff;' +\n"
    "      'background:' + (COLORS[b.indicator] || '#57606a'));\n"
    "    bar.id = 'tocsin-status-banner';\n"
    "    bar.setAttribute('role', 'status');\n"
    "    bar.setAttribute('data-id', id);\n"
    "    var names = [], i, c = b.components instanceof Array ? b.components : [];\n"
    "    for (i = 0; i < c.length && i < 8; i++) names.push(String(c[i].name));\n"
    "    bar.appendChild(make('strong', 'margin-right:8px',\n"
    "      String(b.description) + (names.length ? ': ' + names.join(', ') : '')));\n"
    "    if (b.text) bar.appendChild(make('span', 'margin-right:8px', String(b.text)));\n"
    "    var eta = b.eta ? Date.parse(b.eta) : NaN;\n"
    "    if (!isNaN(eta)) bar.appendChild(make('span', 'margin-right:8px', 'Expected back by ' + human(eta) + '.'));\n"
    "    if (typeof b.url === 'string' && /^https?:\\/\\//i.test(b.url)) {\n"
    "      var a = make('a', 'color:#fff;text-decoration:underline', 'Status page');\n"
    "      a.href = b.url; a.target = '_blank'; a.rel = 'noopener';\n"
    "      bar.appendChild(a);\n"
    "    }\n"
    "    var x = make('button', 'position:absolute;top:4px;right:6px;background:transparent;border:0;' +\n"
    "      'color:#fff;font-size:22px;line-height:1;cursor:pointer;padding:4px 8px', '\\u00d7');\n"
    "    x.type = 'button';\n"
    "    x.setAttribute('aria-label', 'Dismiss');\n"
    "    x.onclick = function () {\n"
    "      try { window.sessionStorage.setItem(KEY, id); } catch (e) {}\n"
    "      hide();\n"
    "    };\n"
    "    bar.appendChild(x);\n"
    "    document.body.insertBefore(bar, document.body.firstChild);\n"
    "  }\n"
    "  function poll() {\n"
    "    fetch(base + 'api/v2/banner.json', { credentials: 'omit', cache: 'no-cache' })\n"
    "      .then(function (r) { return r.ok ? r.json() : null; })\n"
    "      .then(function (b) { if (b && b.active === true) show(b); else hide(); }, function () {});\n"
    "  }\n"
    "  function start() { poll(); setInterval(poll, 60000); }\n"
    "  if (document.body) start(); else document.addEventListener('DOMContentLoaded', start);\n"
    "})();\n";
/* clang-format on */
