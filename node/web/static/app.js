/* The console's pages: one script, no libraries, no build step (plain ES2017).
 *
 * The server returns the same shell (index.html) for every page path; this script reads
 * location.pathname, asks the JSON API (/api/..., described in openapi.json) and draws the
 * page. Links inside the console change the path with the History API, so a page opens
 * without reloading.
 * Nothing is written as HTML text: every element is made with h() and every value set as
 * text, so that a venue's name can never become markup. No inline script or style exists
 * (the Content-Security-Policy forbids them): looks are classes in app.css. */
'use strict';

(function () {
  /* --- state ------------------------------------------------------------------------ */

  const S = {
    session: null, /* GET /api/session */
    csrf: '',
    cleanup: [], /* what the open page must stop when another opens (EventSource...) */
    categories: null
  };

  const ROLE_VI = {
    operator: 'Quản trị',
    clerk: 'Cán bộ văn phòng',
    health: 'Cán bộ y tế',
    guard: 'Bảo vệ cổng',
    controller: 'Chủ địa điểm'
  };

  const NODE_ROLE_VI = { commune: 'Xã, phường', district: 'Huyện, quận', province: 'Tỉnh, thành phố' };

  /* --- DOM helpers ------------------------------------------------------------------- */

  /* h('p', {class: 'x', text: 'y'}, child...) -> element. Attributes are set as attributes
   * (never innerHTML); `text` sets textContent; `on` takes {event: handler}. */
  function h(tag, attrs) {
    const el = document.createElement(tag);
    const a = attrs || {};
    for (const k of Object.keys(a)) {
      const v = a[k];
      if (v === undefined || v === null || v === false) continue;
      if (k === 'text') el.textContent = String(v);
      else if (k === 'on') for (const ev of Object.keys(v)) el.addEventListener(ev, v[ev]);
      else if (k === 'value') el.value = v;
      else if (k === 'checked' || k === 'selected' || k === 'disabled') el[k] = !!v;
      else el.setAttribute(k, v === true ? '' : String(v));
    }
    for (let i = 2; i < arguments.length; i++) add(el, arguments[i]);
    return el;
  }

  function add(el, child) {
    if (child === undefined || child === null || child === false) return;
    if (Array.isArray(child)) child.forEach(function (c) { add(el, c); });
    else el.appendChild(typeof child === 'object' ? child : document.createTextNode(String(child)));
  }

  function clear(el) {
    while (el.firstChild) el.removeChild(el.firstChild);
    return el;
  }

  function $(id) { return document.getElementById(id); }

  /* A labelled form field: field('venue-name', 'Tên địa điểm', input) */
  function field(id, label, control, hint) {
    control.id = id;
    if (!control.name) control.name = id;
    const hintId = hint ? id + '-hint' : null;
    if (hintId) control.setAttribute('aria-describedby', hintId);
    return h('div', { class: 'field' },
      h('label', { for: id, text: label }),
      hint ? h('span', { class: 'hint', id: hintId, text: hint }) : null,
      control);
  }

  function input(type, attrs) {
    return h('input', Object.assign({ type: type, autocomplete: 'off' }, attrs || {}));
  }

  function select(options, value) {
    /* options: [[value, label], ...] */
    const s = h('select');
    for (const o of options) s.appendChild(h('option', { value: o[0], text: o[1], selected: String(o[0]) === String(value) }));
    return s;
  }

  function link(href, text, attrs) {
    return h('a', Object.assign({ href: href, text: text }, attrs || {}));
  }

  function table(caption, heads, rows, id) {
    const thead = h('thead', null, h('tr', null, heads.map(function (t) {
      return h('th', { scope: 'col', class: t.num ? 'num' : null, text: t.text || t });
    })));
    /* on a phone each row is drawn as a card, each cell after its column's name */
    (Array.isArray(rows) ? rows : [rows]).forEach(function (tr) {
      if (!tr || !tr.children) return;
      for (let i = 0; i < tr.children.length && i < heads.length; i++) {
        const th = heads[i].text || heads[i];
        if (th) tr.children[i].setAttribute('data-label', th);
      }
    });
    return h('div', { class: 'table-wrap' },
      h('table', { id: id || null }, caption ? h('caption', { text: caption }) : null, thead,
        h('tbody', null, rows)));
  }

  function facts(pairs) {
    const dl = h('dl', { class: 'facts' });
    for (const p of pairs) {
      if (p[1] === undefined || p[1] === null || p[1] === '') continue;
      dl.appendChild(h('dt', { text: p[0] }));
      dl.appendChild(h('dd', null, p[1]));
    }
    return dl;
  }

  /* --- times (the API gives ISO 8601 with +07:00: shown as Vietnam time, as written) ---- */

  /* "2021-10-05T08:03:00+07:00" -> "05/10/2021 08:03"; anything else as given. */
  function when(iso) {
    if (!iso) return '—';
    const m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2}))?/.exec(String(iso));
    if (!m) return String(iso);
    return m[3] + '/' + m[2] + '/' + m[1] + (m[4] ? ' ' + m[4] + ':' + m[5] : '');
  }

  /* "08:03" of an ISO time ("08:03:27" with seconds). */
  function clock(iso, seconds) {
    const m = /T(\d{2}):(\d{2})(?::(\d{2}))?/.exec(String(iso || ''));
    return m ? m[1] + ':' + m[2] + (seconds && m[3] ? ':' + m[3] : '') : when(iso);
  }

  /* The freshness line of a page whose answer r carries as_of: the newest data this node
   * received from other nodes (null: none yet; its own data is always current), and now,
   * the node's clock when it answered. Nothing when r has no as_of. */
  function fresh(r) {
    if (!r || !('as_of' in r)) return null;
    const p = h('p', { class: 'fresh' });
    if (r.as_of) p.appendChild(h('span', null, 'Dữ liệu nhận từ trạm khác mới nhất lúc ', h('time', { datetime: r.as_of, text: when(r.as_of) }), '.'));
    else p.appendChild(h('span', { text: 'Chưa nhận dữ liệu nào từ trạm khác; chỉ có dữ liệu của trạm này.' }));
    if (r.now) p.appendChild(h('span', null, ' Xem lúc ', h('time', { datetime: r.now, text: when(r.now) }), '.'));
    return p;
  }

  /* The current ISO week, "2021-W40" (by the browser's date, which is the clerk's). */
  function isoWeek(d) {
    const t = new Date(Date.UTC(d.getFullYear(), d.getMonth(), d.getDate()));
    const day = t.getUTCDay() || 7;
    t.setUTCDate(t.getUTCDate() + 4 - day);
    const y = t.getUTCFullYear();
    const w = Math.ceil(((t - Date.UTC(y, 0, 1)) / 86400000 + 1) / 7);
    return y + '-W' + (w < 10 ? '0' : '') + w;
  }

  /* --- messages ---------------------------------------------------------------------- */

  function showError(text) {
    const e = $('error');
    e.textContent = '';
    if (text) e.textContent = text; /* a new text node: read again by screen readers */
  }

  function notice(text) { $('notice').textContent = text || ''; }

  /* --- the API ----------------------------------------------------------------------- */

  /* An API error: status, code and the Vietnamese sentence to show. */
  function ApiError(status, body) {
    this.status = status;
    this.body = body || {};
    this.code = this.body.error || 'http_' + status;
    this.message = this.body.message_vi || this.body.message || 'Máy chủ trả lỗi ' + status + '.';
  }

  function query(params) {
    const q = new URLSearchParams();
    for (const k of Object.keys(params || {})) {
      const v = params[k];
      if (v !== undefined && v !== null && v !== '') q.append(k, v);
    }
    const s = q.toString();
    return s ? '?' + s : '';
  }

  /* api('GET', '/api/venues', {q: 'chợ'}) -> the JSON answer. GET parameters go in the query,
   * others as a form-urlencoded body with the CSRF token in X-CSRF-Token. On an error the
   * Vietnamese message is shown in #error (unless opts.quiet) and an ApiError thrown; 401
   * (login required) opens the login page. */
  async function api(method, path, params, opts) {
    const o = opts || {};
    const init = { method: method, credentials: 'same-origin', headers: { Accept: 'application/json' } };
    let url = path;
    if (method === 'GET') {
      url += query(params);
    } else {
      init.headers['X-CSRF-Token'] = S.csrf;
      init.headers['Content-Type'] = 'application/x-www-form-urlencoded';
      const body = new URLSearchParams();
      for (const k of Object.keys(params || {})) {
        const v = params[k];
        if (v !== undefined && v !== null) body.append(k, v);
      }
      init.body = body.toString();
    }
    let res;
    try {
      res = await fetch(url, init);
    } catch (e) {
      const err = new ApiError(0, { message_vi: 'Không kết nối được với máy chủ của trạm. Hãy kiểm tra mạng rồi thử lại.' });
      if (!o.quiet) showError(err.message);
      throw err;
    }
    let body = null;
    const type = res.headers.get('Content-Type') || '';
    if (type.indexOf('application/json') === 0) {
      const text = await res.text();
      try { body = JSON.parse(text); } catch (e) { body = jsonLines(text); }
    }
    if (!res.ok) {
      const err = new ApiError(res.status, body);
      if (res.status === 401 && path !== '/api/login' && !o.quiet) {
        S.session = null;
        go('/login' + query({ next: location.pathname + location.search }));
        showError(err.message);
        throw err;
      }
      if (!o.quiet) showError(err.message);
      throw err;
    }
    return body || {};
  }

  /* A body of one JSON object per line (as the CLI's --json lists print): {lines: [...]},
   * or null when it is not that either. */
  function jsonLines(text) {
    try {
      return { lines: text.split('\n').filter(function (l) { return l.trim(); }).map(function (l) { return JSON.parse(l); }) };
    } catch (e) { return null; }
  }

  /* A POST whose body is given as it is (a file, or a form answered by a file): fetch with
   * the CSRF token. Resolves to the Response when it is 2xx; else shows the Vietnamese
   * message and throws the ApiError, as api() does. */
  async function send(url, body, type) {
    let res;
    try {
      res = await fetch(url, { method: 'POST', credentials: 'same-origin', body: body,
        headers: { 'X-CSRF-Token': S.csrf, 'Content-Type': type, Accept: 'application/json' } });
    } catch (e) {
      res = null;
    }
    if (res && res.ok) return res;
    let b = res ? {} : { message_vi: 'Không kết nối được với máy chủ của trạm. Hãy kiểm tra mạng rồi thử lại.' };
    if (res) try { b = await res.json(); } catch (e) { /* not JSON: the status says it */ }
    const err = new ApiError(res ? res.status : 0, b);
    showError(err.message);
    throw err;
  }

  /* The file name a download answer gives in its Content-Disposition, else fallback. */
  function fileName(res, fallback) {
    const m = /filename="?([^";]+)"?/.exec(res.headers.get('Content-Disposition') || '');
    return m ? m[1] : fallback;
  }

  async function loadSession() {
    S.session = await api('GET', '/api/session', null, { quiet: true });
    S.csrf = S.session.csrf || '';
    return S.session;
  }

  function role() { return S.session && S.session.user ? S.session.role : null; }
  function isHealthNode() { return !!(S.session && S.session.node && S.session.node.health); }

  async function categories() {
    if (!S.categories) S.categories = (await api('GET', '/api/categories')).categories || [];
    return S.categories;
  }

  /* --- router ------------------------------------------------------------------------ */

  /* [pattern, page function, roles allowed ('public': no login; null: anyone logged in),
   * node needed ('commune', 'health' or none)]: the same as the server's routes
   * (node/web/routes.c), so that a link the menu shows is one the server opens. */
  const STAFF = ['operator', 'clerk', 'health'];
  const ROUTES = [
    [/^\/login$/, pageLogin, 'public'],
    [/^\/$/, pageHome, null],
    [/^\/venues$/, pageVenues, STAFF.concat('controller')],
    [/^\/venues\/new$/, pageVenueNew, ['clerk', 'operator'], 'commune'],
    [/^\/venues\/([0-9a-fA-F]+)$/, pageVenue, STAFF.concat('controller')],
    [/^\/venues\/([0-9a-fA-F]+)\/live$/, pageLive, ['clerk', 'operator', 'controller']],
    [/^\/gate$/, pageGate, ['guard', 'clerk', 'operator'], 'commune'],
    [/^\/noncompliant$/, pageNoncompliant, STAFF],
    [/^\/cards$/, pageCards, STAFF],
    [/^\/units$/, pageUnits, ['clerk', 'operator']], /* the server opens it to staff; its API to these */
    [/^\/health\/trace$/, pageTrace, ['health'], 'health'],
    [/^\/health\/cases$/, pageCases, ['health'], 'health'],
    [/^\/health\/risk$/, pageRisk, ['health'], 'health'],
    [/^\/health\/alerts$/, pageAlerts, ['health'], 'health'],
    [/^\/report$/, pageReport, STAFF],
    [/^\/sync$/, pageSync, STAFF],
    [/^\/users$/, pageUsers, ['operator', 'clerk']],
    [/^\/enroll$/, pageEnroll, ['operator']],
    [/^\/status$/, pageStatus, STAFF]
  ];

  /* Registering and editing venues: the commune's clerk (or its operator). */
  function canEditVenues() { return (role() === 'clerk' || role() === 'operator') && isCommuneNode(); }

  function isCommuneNode() { return !!(S.session && S.session.node && S.session.node.role === 'commune'); }

  /* Whether the session may open the route (its role, and the node it needs). */
  function allowed(route) {
    if (route[2] === 'public') return true;
    if (!role()) return false;
    if (Array.isArray(route[2]) && route[2].indexOf(role()) < 0) return false;
    if (route[3] === 'commune' && !isCommuneNode()) return false;
    if (route[3] === 'health' && !isHealthNode()) return false;
    return true;
  }

  /* The menu: [path, label] for each page the session may open, in the order of its work. */
  const MENU = [
    ['/', 'Trang chủ'],
    ['/gate', 'Cổng kiểm soát'],
    ['/venues', 'Địa điểm'],
    ['/venues/new', 'Đăng ký địa điểm'],
    ['/noncompliant', 'Chưa tuân thủ'],
    ['/cards', 'Thẻ QR cá nhân'],
    ['/health/trace', 'Truy vết'],
    ['/health/cases', 'Ca bệnh'],
    ['/health/risk', 'Mức nguy cơ'],
    ['/health/alerts', 'Cảnh báo'],
    ['/units', 'Đơn vị, thôn'],
    ['/report', 'Báo cáo tuần'],
    ['/sync', 'Đồng bộ'],
    ['/users', 'Tài khoản'],
    ['/enroll', 'Cấp chứng chỉ'],
    ['/status', 'Trạng thái']
  ];

  function routeOf(path) {
    for (const r of ROUTES) if (r[0].test(path)) return r;
    return null;
  }

  function menu() {
    return MENU.filter(function (m) { return allowed(routeOf(m[0])); }).map(function (m) {
      return m[0] === '/venues' && role() === 'controller' ? ['/venues', 'Địa điểm của tôi'] : m;
    });
  }

  function drawNav() {
    const nav = clear($('nav'));
    const s = S.session || {};
    const node = s.node || {};
    $('node-name').textContent = [node.name, node.unit_name].filter(Boolean).join(' — ');
    clear($('fresh'));
    add($('fresh'), fresh(s));
    if (!role()) return;
    const ul = h('ul');
    for (const item of menu()) {
      const a = link(item[0], item[1]);
      if (item[0] === location.pathname) a.setAttribute('aria-current', 'page');
      a.addEventListener('focus', function () { a.scrollIntoView({ block: 'nearest', inline: 'nearest' }); });
      ul.appendChild(h('li', null, a));
    }
    ul.appendChild(h('li', null, h('button', { type: 'button', id: 'logout', text: 'Đăng xuất (' + s.user + ')', on: { click: logout } })));
    nav.appendChild(ul);
    const cur = ul.querySelector('[aria-current]');
    if (cur) cur.scrollIntoView({ block: 'nearest', inline: 'center' });
  }

  async function logout() {
    try { await api('POST', '/api/logout'); } catch (e) { return; }
    S.session = null;
    try { await loadSession(); } catch (e) { /* the login page asks again */ }
    go('/login');
  }

  function go(path) {
    if (path !== location.pathname + location.search) history.pushState(null, '', path);
    render();
  }

  /* Links inside the console open without reloading; downloads, the API, other windows
   * and modified clicks are left to the browser. */
  function onClick(ev) {
    if (ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return;
    const a = ev.target.closest ? ev.target.closest('a') : null;
    if (!a || a.target || a.hasAttribute('download')) return;
    const url = new URL(a.href, location.href);
    if (url.origin !== location.origin || url.pathname.indexOf('/api/') === 0 || url.pathname.indexOf('/static/') === 0) return;
    if (url.pathname === location.pathname && url.hash) return; /* in-page anchor */
    ev.preventDefault();
    go(url.pathname + url.search);
  }

  /* Starts a page: a new container in a clean <main>, with its heading, which takes the
   * focus. A page still waiting for the API when another opens finds its container gone
   * from the document (onScreen()) and draws nothing more. */
  function page(title) {
    document.title = title + ' — Truy vết';
    const box = h('div', { class: 'page' }, h('h1', { tabindex: '-1', text: title }));
    clear($('main')).appendChild(box);
    return box;
  }

  function onScreen(box) { return document.body.contains(box); }

  function stopPage() {
    for (const f of S.cleanup) { try { f(); } catch (e) { /* already stopped */ } }
    S.cleanup = [];
    document.body.classList.remove('gate', 'out-mode');
  }

  let renderSeq = 0;
  async function render() {
    stopPage();
    showError('');
    notice('');
    const seq = ++renderSeq;
    /* asked again at each page: the account may have changed, and the header says how
     * fresh the node's data is */
    try { await loadSession(); } catch (e) {
      if (seq !== renderSeq) return;
      page('Không kết nối được');
      showError(e.message);
      return;
    }
    if (seq !== renderSeq) return;
    const path = location.pathname.replace(/\/+$/, '') || '/';
    let route = null, m = null;
    for (const r of ROUTES) { m = r[0].exec(path); if (m) { route = r; break; } }
    drawNav();
    if (!route) { pageNotFound(); return focusHeading(); }
    if (route[2] !== 'public' && !role()) {
      history.replaceState(null, '', '/login' + query({ next: location.pathname + location.search }));
      drawNav();
      pageLogin();
      return focusHeading();
    }
    if (!allowed(route)) { pageForbidden(); return focusHeading(); }
    try {
      const p = route[1].apply(null, m.slice(1));
      focusHeading();
      await p;
    } catch (e) {
      if (!(e instanceof ApiError)) { showError('Lỗi trên trang: ' + (e && e.message)); throw e; }
    }
  }

  function focusHeading() {
    const h1 = document.querySelector('main h1');
    if (h1 && !document.body.classList.contains('gate')) h1.focus();
  }

  function pageNotFound() {
    const main = page('Không tìm thấy trang');
    main.appendChild(h('p', null, 'Địa chỉ này không có trong bảng điều khiển. ', link('/', 'Về trang chủ')));
  }

  function pageForbidden() {
    const main = page('Không có quyền');
    main.appendChild(h('p', null, 'Tài khoản của bạn không được mở trang này. ', link('/', 'Về trang chủ')));
  }

  /* A venue's page or API refused (403) shows the same plain sentence. */
  function forbiddenOr(e, main) {
    if (e instanceof ApiError && e.status === 403) {
      clear(main).appendChild(h('h1', { tabindex: '-1', text: 'Không có quyền' }));
      main.appendChild(h('p', { text: e.message }));
      showError('');
      focusHeading();
      return true;
    }
    return false;
  }

  /* A form that calls submit(values) on Enter or its button; the button is disabled while
   * the call runs. */
  function form(id, children, submitId, submitText, submit) {
    const btn = h('button', { type: 'submit', id: submitId, text: submitText });
    const f = h('form', { id: id, novalidate: true }, children, h('div', { class: 'actions' }, btn));
    f.addEventListener('submit', async function (ev) {
      ev.preventDefault();
      if (btn.disabled) return;
      btn.disabled = true;
      showError('');
      try { await submit(f); } catch (e) { if (!(e instanceof ApiError)) throw e; } finally { btn.disabled = false; }
    });
    return f;
  }

  function val(f, name) {
    const el = f.elements[name];
    if (!el) return '';
    return el.type === 'checkbox' ? (el.checked ? '1' : '') : el.value.trim();
  }

  /* --- /login ------------------------------------------------------------------------- */

  function pageLogin() {
    const main = page('Đăng nhập');
    if (role()) {
      main.appendChild(h('p', null, 'Bạn đã đăng nhập là ' + S.session.user + '. ', link('/', 'Về trang chủ')));
      return;
    }
    main.appendChild(h('p', { class: 'muted', text: 'Cán bộ đăng nhập bằng tên tài khoản; chủ địa điểm bằng số điện thoại và mã PIN xã cấp.' }));
    const name = input('text', { autocomplete: 'username', autocapitalize: 'none', spellcheck: 'false', required: true });
    const pass = input('password', { autocomplete: 'current-password', required: true });
    main.appendChild(form('login-form', [
      field('login-name', 'Tên tài khoản hoặc số điện thoại', name),
      field('login-password', 'Mật khẩu hoặc mã PIN', pass)
    ], 'login-submit', 'Đăng nhập', async function (f) {
      try {
        await api('POST', '/api/login', { name: val(f, 'login-name'), password: pass.value });
      } catch (e) {
        pass.value = '';
        if (e.status === 423 && e.body.until) showError(e.message + ' Mở lại lúc ' + when(e.body.until) + '.');
        pass.focus();
        throw e;
      }
      pass.value = '';
      await loadSession();
      const next = new URLSearchParams(location.search).get('next');
      /* back where the login was asked for, else the role's first page (a guard's is the gate) */
      const home = role() === 'guard' && isCommuneNode() ? '/gate' : '/';
      /* only a path of this console: never another origin ("//x", "/\\x"), never /login */
      const here = next && next.charAt(0) === '/' && new URL(next, location.href).origin === location.origin;
      go(here && next.charAt(1) !== '/' && next.indexOf('\\') < 0 && next.indexOf('/login') !== 0 ? next : home);
    }));
  }

  /* --- / (home by role) --------------------------------------------------------------- */

  async function pageHome() {
    const s = S.session;
    const node = s.node || {};
    const main = page('Xin chào, ' + s.user);
    main.appendChild(facts([
      ['Vai trò', ROLE_VI[s.role] || s.role],
      ['Trạm', [node.name, node.unit_name, node.unit ? '(' + node.unit + ')' : ''].filter(Boolean).join(' ')],
      ['Loại trạm', NODE_ROLE_VI[node.role] || node.role]
    ]));
    const tiles = h('ul', { class: 'tiles' });
    for (const item of menu().slice(1)) tiles.appendChild(h('li', null, link(item[0], item[1])));
    main.appendChild(tiles);
    if (s.role === 'controller') {
      main.appendChild(h('h2', { text: 'Địa điểm của tôi' }));
      const list = h('ul', { class: 'cards', id: 'my-venues' });
      main.appendChild(list);
      const r = await api('GET', '/api/venues');
      main.insertBefore(fresh(r) || document.createTextNode(''), list);
      for (const v of r.venues || []) {
        list.appendChild(h('li', null,
          h('div', { class: 'title' }, link('/venues/' + v.id, v.name)),
          h('div', { class: 'actions' }, link('/venues/' + v.id + '/live', 'Danh sách trực tiếp', { class: 'button' }))));
      }
    }
  }

  /* --- /venues ------------------------------------------------------------------------ */

  function venueCard(v) {
    const st = [];
    if (v.suspended) st.push(h('span', { class: 'badge stop', text: 'Tạm ngừng' }), ' ');
    return h('li', null,
      h('div', { class: 'title' }, link('/venues/' + v.id, v.name || v.id)),
      h('div', null, st, [v.category_name, v.village, v.short_code ? 'Mã ' + v.short_code : ''].filter(Boolean).join(' · ')),
      v.last_scan !== undefined ? h('div', { class: 'muted', text: 'Lần quét cuối: ' + (v.last_scan ? when(v.last_scan) : 'chưa có') }) : null);
  }

  async function pageVenues() {
    const main = page(role() === 'controller' ? 'Địa điểm của tôi' : 'Địa điểm');
    const params = new URLSearchParams(location.search);
    const q = input('search', { value: params.get('q') || '', enterkeyhint: 'search' });
    const list = h('ul', { class: 'cards', id: 'venue-list' });
    const freshBox = h('div');
    async function load(text) {
      const r = await api('GET', '/api/venues', { q: text });
      clear(freshBox).appendChild(fresh(r) || document.createTextNode(''));
      clear(list);
      const vs = r.venues || [];
      if (!vs.length) list.appendChild(h('li', { class: 'muted', text: text ? 'Không có địa điểm nào khớp.' : 'Chưa có địa điểm nào.' }));
      for (const v of vs) list.appendChild(venueCard(v));
    }
    const search = form('venue-search', field('venue-q', 'Tìm theo tên, mã hoặc thôn', q), 'venue-q-submit', 'Tìm', async function () {
      history.replaceState(null, '', '/venues' + query({ q: q.value.trim() }));
      await load(q.value.trim());
    });
    search.classList.add('row-form');
    main.appendChild(search);
    main.appendChild(freshBox);
    main.appendChild(list);
    if (canEditVenues()) {
      main.appendChild(h('h2', { text: 'Đăng ký địa điểm' }));
      main.appendChild(await venueForm(null));
    }
    await load(q.value.trim());
  }

  async function pageVenueNew() {
    const main = page('Đăng ký địa điểm');
    main.appendChild(await venueForm(null));
  }

  /* The register form (v null) or the edit form of venue v. */
  async function venueForm(v) {
    const cats = await categories();
    const catOpts = [['', '— Chọn loại địa điểm —']].concat(cats.map(function (c) { return [c.code, c.name_vi]; }));
    let current = '';
    if (v) for (const c of cats) if (c.slug === v.category || String(c.code) === String(v.category)) current = c.code;
    const forceBox = h('div', { class: 'check', hidden: true },
      h('input', { type: 'checkbox', id: 'venue-force', name: 'venue-force' }),
      h('label', { for: 'venue-force', text: 'Vẫn đăng ký dù trùng tên ở cùng thôn' }));
    const fields = [
      field('venue-name', 'Tên địa điểm', input('text', { value: v ? v.name : '', required: true, maxlength: 200 })),
      field('venue-category', 'Loại địa điểm', select(catOpts, current)),
      field('venue-village', 'Thôn, tổ dân phố', input('text', { value: v ? v.village : '', maxlength: 200 })),
      field('venue-owner-phone', 'Số điện thoại chủ địa điểm', input('tel', { value: v ? v.owner_phone : '', inputmode: 'tel', maxlength: 20 })),
      field('venue-closes', 'Giờ đóng cửa (không bắt buộc)', input('time', { value: v && v.closes ? v.closes : '' }),
        'Lượt vào chưa quét ra được kết thúc lúc đóng cửa.'),
      v ? null : forceBox
    ];
    return form(v ? 'venue-edit-form' : 'venue-form', fields, 'venue-submit', v ? 'Lưu thay đổi' : 'Đăng ký địa điểm', async function (f) {
      /* what the clerk typed; empty fields are left out (the server refuses an empty
       * phone or time as the CLI does), so that its sentences are the ones shown */
      const p = {};
      const fields = [['name', 'venue-name'], ['category', 'venue-category'], ['village', 'venue-village'],
        ['owner_phone', 'venue-owner-phone'], ['closes', 'venue-closes']];
      for (const k of fields) if (val(f, k[1])) p[k[0]] = val(f, k[1]);
      if (v) {
        /* an edit sends what changed; a cleared closing time is 'none' */
        const was = { name: v.name, category: String(current), village: v.village, owner_phone: v.owner_phone, closes: v.closes || '' };
        const change = {};
        for (const k of fields) {
          const now = val(f, k[1]);
          if (now !== (was[k[0]] || '')) change[k[0]] = now || (k[0] === 'closes' ? 'none' : '');
        }
        if (!Object.keys(change).length) { notice('Không có gì thay đổi.'); return; }
        await api('POST', '/api/venues/' + v.id, change);
        await render();
        notice('Đã lưu thay đổi của địa điểm.');
        return;
      }
      if (val(f, 'venue-force')) p.force = '1';
      try {
        const r = await api('POST', '/api/venues', p);
        go('/venues/' + r.id);
        notice('Đã đăng ký địa điểm ' + p.name + (r.short_code ? ' (mã ' + r.short_code + ')' : '') + '.');
      } catch (e) {
        if (e.code === 'venue_duplicate') forceBox.hidden = false;
        throw e;
      }
    });
  }

  /* --- /venues/{id} ------------------------------------------------------------------- */

  async function pageVenue(id) {
    const main = page('Địa điểm');
    let v;
    try { v = await api('GET', '/api/venues/' + id); } catch (e) { if (forbiddenOr(e, main)) return; throw e; }
    const h1 = main.querySelector('h1');
    h1.textContent = v.name || 'Địa điểm';
    document.title = h1.textContent + ' — Truy vết';
    add(main, fresh(v));
    if (v.suspended) main.appendChild(h('p', { class: 'warn' }, h('strong', { text: 'Địa điểm đang bị tạm ngừng: ' }),
      'trạm quét từ chối lượt quét cho đến khi xã khôi phục.'));
    main.appendChild(facts([
      ['Mã địa điểm', v.short_code],
      ['Loại', v.category_name || v.category],
      ['Đơn vị', [v.unit_name, v.unit ? '(' + v.unit + ')' : ''].filter(Boolean).join(' ')],
      ['Thôn, tổ', v.village],
      ['Điện thoại chủ', v.owner_phone],
      ['Giờ đóng cửa', v.closes || 'không đặt'],
      ['Đăng ký lúc', when(v.registered)],
      ['Cập nhật lúc', when(v.updated)],
      ['Lần quét cuối', v.last_scan ? when(v.last_scan) : 'chưa có'],
      ['Nhắc nhở', v.reminders !== undefined ? v.reminders + ' (' + (v.reminders_active || 0) + ' từ lần quét cuối)' : null]
    ]));
    main.appendChild(h('div', { class: 'actions' },
      link('/venues/' + v.id + '/live', 'Danh sách trực tiếp', { class: 'button' }),
      link('/api/venues/' + v.id + '/poster.pdf', 'Tải áp phích PDF', { class: 'button secondary', download: 'ap-phich-' + (v.short_code || v.id) + '.pdf', id: 'poster-pdf' }),
      link('/api/venues/' + v.id + '/poster.png', 'Tải áp phích PNG', { class: 'button secondary', download: 'ap-phich-' + (v.short_code || v.id) + '.png', id: 'poster-png' })));
    await venueVisits(main, v);
    if (!canEditVenues()) return;
    venueControllers(main, v);
    venueReminders(main, v);
    main.appendChild(h('h2', { text: 'Sửa thông tin' }));
    main.appendChild(await venueForm(v));
  }

  const END_VI = { 'check-out': 'quét ra', 'next check-in': 'lượt vào sau', 'default stay': 'thời gian ở thường lệ',
    'closing time': 'giờ đóng cửa', 'end of day': 'hết ngày', open: 'đang ở' };

  /* The day's visits, check-outs inferred where none was scanned (`venue visits`): today's
   * first, another day chosen on the page (?day=YYYY-MM-DD). */
  async function venueVisits(main, v) {
    main.appendChild(h('h2', { text: 'Lượt ghé trong ngày' }));
    const day = input('date', { value: new URLSearchParams(location.search).get('day') || '' });
    const box = h('div', { id: 'visits' });
    async function load() {
      const d = day.value || 'today';
      let r;
      try { r = await api('GET', '/api/venues/' + v.id + '/visits', { day: d }, { quiet: true }); } catch (e) {
        clear(box).appendChild(h('p', { class: e.status === 403 ? 'muted' : 'warn', text: e.message }));
        return;
      }
      if (!onScreen(main)) return;
      const rows = r.visits || [];
      clear(box);
      add(box, fresh(r));
      const people = r.people !== undefined ? ', ' + r.people + ' người' : '';
      box.appendChild(table((d === 'today' ? 'Hôm nay' : 'Ngày ' + when(r.day || d)) + ': ' + rows.length + ' lượt ghé' + people,
        ['Người', 'Vào', 'Ra', 'Ra theo', { text: 'Lượt quét', num: true }], rows.map(function (x) {
          const inferred = x.end && x.end !== 'check-out' && x.end !== 'open';
          return h('tr', { class: inferred ? 'inferred' : null }, h('td', { text: x.person }), h('td', { text: clock(x.from) }),
            h('td', { text: x.to ? clock(x.to) + (inferred ? ' (ước tính)' : '') : '—' }),
            h('td', { text: END_VI[x.end] || x.end || '' }), h('td', { class: 'num', text: x.scans }));
        }), 'visits-table'));
    }
    const f = filterForm('visits-filter', field('visits-day', 'Ngày (để trống: hôm nay)', day), async function () {
      history.replaceState(null, '', location.pathname + query({ day: day.value }));
      await load();
    });
    main.appendChild(f);
    main.appendChild(box);
    await load();
  }

  function venueControllers(main, v) {
    main.appendChild(h('h2', { text: 'Người quản lý địa điểm' }));
    const list = h('ul', { class: 'cards', id: 'ctrl-list' });
    const ctrls = v.controllers || [];
    if (!ctrls.length) list.appendChild(h('li', { class: 'muted', text: 'Chưa có người quản lý.' }));
    for (const c of ctrls) {
      list.appendChild(h('li', null,
        h('span', { class: 'title', text: c.phone }), ' ',
        h('span', { class: 'muted', text: 'thêm lúc ' + when(c.added) }),
        h('div', { class: 'actions' }, h('button', {
          type: 'button', class: 'danger', text: 'Gỡ ' + c.phone,
          on: { click: async function () {
            if (!window.confirm('Gỡ số ' + c.phone + ' khỏi địa điểm này?')) return;
            try { await api('POST', '/api/venues/' + v.id + '/controllers/' + encodeURIComponent(c.phone) + '/remove'); } catch (e) { return; }
            await render();
            notice('Đã gỡ ' + c.phone + '.');
          } }
        }))));
    }
    main.appendChild(list);
    main.appendChild(form('ctrl-form', [
      field('ctrl-phone', 'Số điện thoại', input('tel', { inputmode: 'tel', maxlength: 20, required: true })),
      field('ctrl-pin', 'Mã PIN đăng nhập (6 chữ số, không bắt buộc)', input('text', { inputmode: 'numeric', pattern: '[0-9]{6}', maxlength: 6 }),
        'Đưa mã này cho người quản lý để họ đăng nhập bằng số điện thoại.')
    ], 'ctrl-submit', 'Thêm người quản lý', async function (f) {
      const phone = val(f, 'ctrl-phone'), pin = val(f, 'ctrl-pin');
      await api('POST', '/api/venues/' + v.id + '/controllers', { phone: phone, pin: pin });
      await render();
      notice('Đã thêm ' + phone + ' quản lý địa điểm.');
    }));
  }

  function venueReminders(main, v) {
    main.appendChild(h('h2', { text: 'Nhắc nhở và khôi phục' }));
    const hist = v.reminder_history || [];
    if (hist.length) {
      main.appendChild(table('Lịch sử nhắc nhở', ['Thời gian', 'Việc', 'Ghi chú'], hist.map(function (r) {
        return h('tr', null, h('td', { text: when(r.time) }), h('td', { text: r.action === 'reinstate' ? 'Khôi phục' : 'Nhắc nhở' }), h('td', { text: r.note || '' }));
      })));
    }
    const note = input('text', { maxlength: 200 });
    const f = h('form', { id: 'remind-form', novalidate: true }, field('remind-note', 'Ghi chú', note));
    async function act(kind) {
      const r = await api('POST', '/api/venues/' + v.id + '/' + kind, { note: note.value.trim() });
      await render();
      notice(kind === 'remind'
        ? 'Đã ghi nhắc nhở.' + (r.suspended ? ' Địa điểm đang bị tạm ngừng.' : '')
        : 'Đã khôi phục địa điểm.');
    }
    f.addEventListener('submit', function (ev) { ev.preventDefault(); act('remind').catch(function () {}); });
    f.appendChild(h('div', { class: 'actions' },
      h('button', { type: 'submit', id: 'remind-submit', text: 'Ghi nhắc nhở' }),
      h('button', { type: 'button', id: 'reinstate-submit', class: 'secondary', text: 'Khôi phục địa điểm',
        on: { click: function () { act('reinstate').catch(function () {}); } } })));
    main.appendChild(f);
  }

  /* --- /noncompliant ------------------------------------------------------------------ */

  async function pageNoncompliant() {
    const main = page('Địa điểm chưa tuân thủ');
    main.appendChild(h('p', { class: 'muted', text: 'Địa điểm không có lượt quét nào trong số ngày đã chọn.' }));
    const days = input('number', { min: 1, max: 365, value: new URLSearchParams(location.search).get('days') || '3', inputmode: 'numeric' });
    const box = h('div');
    async function load() {
      const r = await api('GET', '/api/venues', { noncompliant: 1, days: days.value });
      clear(box);
      add(box, fresh(r));
      const vs = r.venues || [];
      if (!vs.length) { box.appendChild(h('p', { text: 'Không có địa điểm nào chưa tuân thủ.' })); return; }
      box.appendChild(table(vs.length + ' địa điểm', ['Địa điểm', 'Thôn, tổ', 'Lần quét cuối', { text: 'Nhắc nhở', num: true }, 'Trạng thái'], vs.map(function (v) {
        return h('tr', null, h('td', null, link('/venues/' + v.id, v.name || v.id)), h('td', { text: v.village || '' }),
          h('td', { text: v.last_scan ? when(v.last_scan) : 'chưa có' }), h('td', { class: 'num', text: v.reminders || 0 }),
          h('td', null, v.suspended ? h('span', { class: 'badge stop', text: 'Tạm ngừng' }) : '—'));
      })));
    }
    const f = form('noncompliant-form', field('noncompliant-days', 'Số ngày không có lượt quét', days), 'noncompliant-submit', 'Xem', async function () {
      history.replaceState(null, '', '/noncompliant' + query({ days: days.value }));
      await load();
    });
    f.classList.add('row-form');
    main.appendChild(f);
    main.appendChild(box);
    await load();
  }

  /* --- /cards: personal QR cards for people without a phone ---------------------------- */

  function pageCards() {
    const main = page('Thẻ QR cá nhân');
    main.appendChild(h('p', { class: 'muted', text: 'Cho người không có điện thoại: mỗi thẻ có mã QR 5 × 5 cm, in chín thẻ trên một tờ A4. ' +
      'Nhập số CCCD, quét mã trên CCCD/BHYT, hoặc nhập số điện thoại kèm họ tên.' }));
    const rows = h('div', { id: 'cards-rows' });
    let n = 0;
    function addRow() {
      n++;
      rows.appendChild(h('div', { class: 'row-form' },
        field('card-person-' + n, 'Người thứ ' + n + ': số CCCD, số điện thoại hoặc mã quét', input('text', { name: 'person' })),
        field('card-name-' + n, 'Họ tên (khi nhập số điện thoại)', input('text', { name: 'name' }))));
    }
    for (let i = 0; i < 3; i++) addRow();
    const more = h('button', { type: 'button', class: 'secondary', id: 'cards-more', text: 'Thêm người', on: { click: function () { addRow(); $('card-person-' + n).focus(); } } });
    const out = h('p', { id: 'cards-out', 'aria-live': 'polite' });
    const f = form('cards-form', [rows, more], 'cards-submit', 'Cấp thẻ và tải PDF', async function () {
      const body = new URLSearchParams();
      for (let i = 1; i <= n; i++) {
        const p = $('card-person-' + i).value.trim();
        if (!p) continue;
        body.append('person', p);
        const nm = $('card-name-' + i).value.trim();
        if (nm) body.append('name', nm);
      }
      const res = await send('/api/cards', body.toString(), 'application/x-www-form-urlencoded');
      const url = URL.createObjectURL(await res.blob());
      clear(out);
      out.appendChild(link(url, 'Tải tệp thẻ (PDF)', { download: 'the-ca-nhan.pdf', id: 'cards-download' }));
      notice('Đã cấp thẻ; người được cấp đã được ghi nhận ở trạm này.');
      $('cards-download').click();
    });
    main.appendChild(f);
    main.appendChild(out);
  }

  /* --- /gate (full screen, a USB QR reader types into #gate-input) --------------------- */

  const GATE_HISTORY_MAX = 10;

  /* How an answer looks: ok (green), already (amber), stop (red, with a beep). */
  function gateClass(r) {
    if (r.stop || r.result === 'suspended' || r.result === 'unreadable' || r.result === 'failed') return 'stop';
    if (r.result === 'already') return 'already';
    return r.result === 'ok' ? 'ok' : 'stop';
  }

  /* The sound is made ready while the reader's keystrokes count as a user gesture. */
  let audio = null;
  function audioReady() {
    try {
      const Ctx = window.AudioContext || window.webkitAudioContext;
      if (Ctx && !audio) audio = new Ctx();
      if (audio && audio.state === 'suspended') audio.resume();
    } catch (e) { audio = null; }
    return audio;
  }

  function beep() {
    try {
      if (!audioReady()) return;
      const o = audio.createOscillator(), g = audio.createGain();
      o.type = 'square';
      o.frequency.value = 880;
      g.gain.value = 0.2;
      o.connect(g);
      g.connect(audio.destination);
      o.start();
      o.stop(audio.currentTime + 0.35);
    } catch (e) { /* no sound on this device: the red answer stays */ }
  }

  async function pageGate() {
    document.body.classList.add('gate');
    const main = page('Cổng kiểm soát');
    const params = new URLSearchParams(location.search);
    let saved = '';
    try { saved = params.get('change') ? '' : localStorage.getItem('tv_gate_venue') || ''; } catch (e) { saved = ''; }
    const state = { venue: params.get('venue') || saved, name: '', out: params.get('direction') === 'out', queue: [], busy: false };
    const bar = h('div', { class: 'gate-bar' });
    main.insertBefore(bar, main.firstChild);
    bar.appendChild(main.querySelector('h1'));
    const venueLabel = h('span', { class: 'gate-venue', id: 'gate-venue' });
    bar.appendChild(venueLabel);
    bar.appendChild(h('span', { class: 'actions' }, link('/gate?change=1', 'Đổi địa điểm', { class: 'button secondary', id: 'gate-change' }),
      link('/', 'Thoát', { class: 'button secondary' })));
    const setup = h('div', { id: 'gate-setup' });
    main.appendChild(setup);
    let vs = null; /* the venues this account may list (null: it may not) */
    try { vs = (await api('GET', '/api/venues', null, { quiet: true })).venues || []; } catch (e) { vs = null; }
    const known = vs && vs.filter(function (v) { return v.id === state.venue; })[0];
    if (vs && state.venue && !known) state.venue = ''; /* gone, or not of this node: ask again */
    if (!onScreen(main)) return;
    if (!state.venue) {
      state.venue = await chooseGateVenue(setup, vs || []);
      if (!state.venue || !onScreen(main)) return;
    }
    const v = vs && vs.filter(function (x) { return x.id === state.venue; })[0];
    venueLabel.textContent = v ? v.name : 'Địa điểm ' + state.venue;
    try { localStorage.setItem('tv_gate_venue', state.venue); } catch (e) { /* private mode: chosen again next time */ }
    history.replaceState(null, '', '/gate' + query({ venue: state.venue, direction: state.out ? 'out' : '' }));
    drawGate(main, state);
  }

  /* Asks which venue this gate is, once: from the list vs, or the venue's ID typed in when
   * the account may not list venues. Resolves to the ID (the form stays until chosen). */
  function chooseGateVenue(box, vs) {
    const control = vs.length
      ? select([['', '— Chọn địa điểm —']].concat(vs.map(function (v) { return [v.id, v.name + (v.village ? ' — ' + v.village : '')]; })), '')
      : input('text', { autocapitalize: 'none', spellcheck: 'false' });
    return new Promise(function (resolve) {
      box.appendChild(form('gate-venue-form', field('gate-venue-choice', 'Cổng này thuộc địa điểm nào?', control,
        vs.length ? null : 'Nhập mã địa điểm (ID) do xã cấp.'), 'gate-venue-submit', 'Bắt đầu', async function () {
        const id = control.value.trim();
        if (!id) { showError('Hãy chọn địa điểm cho cổng này.'); return; }
        clear(box);
        resolve(id);
      }));
      control.focus();
    });
  }

  function drawGate(main, state) {
    const inBtn = h('button', { type: 'button', id: 'gate-in', 'aria-pressed': String(!state.out), text: 'Quét vào' });
    const outBtn = h('button', { type: 'button', id: 'gate-out', 'aria-pressed': String(state.out), text: 'Quét ra' });
    const gateInput = h('input', { type: 'text', id: 'gate-input', name: 'line', autocomplete: 'off', autocapitalize: 'none',
      spellcheck: 'false', 'aria-label': 'Mã QR từ máy quét', enterkeyhint: 'send' });
    const answer = h('div', { id: 'gate-answer', class: 'waiting', 'aria-live': 'assertive', 'aria-atomic': 'true' },
      h('div', { class: 'big', text: 'Sẵn sàng' }), h('div', { class: 'reason', text: 'Đưa mã QR vào máy quét.' }));
    const history = h('ol', { class: 'gate-history', id: 'gate-history', 'aria-label': 'Các lượt quét vừa rồi' });
    function setMode(out) {
      state.out = out;
      inBtn.setAttribute('aria-pressed', String(!out));
      outBtn.setAttribute('aria-pressed', String(out));
      document.body.classList.toggle('out-mode', out);
      window.history.replaceState(null, '', '/gate' + query({ venue: state.venue, direction: out ? 'out' : '' }));
      gateInput.focus();
    }
    inBtn.addEventListener('click', function () { setMode(false); });
    outBtn.addEventListener('click', function () { setMode(true); });
    const f = h('form', { class: 'gate-form', id: 'gate-form', autocomplete: 'off' }, gateInput,
      h('button', { type: 'submit', id: 'gate-submit', text: 'Gửi' }));
    f.addEventListener('submit', function (ev) {
      ev.preventDefault();
      const line = gateInput.value;
      gateInput.value = '';
      audioReady();
      if (line.trim()) { state.queue.push({ line: line, out: state.out }); gateNext(state, answer, history, gateInput); }
      gateInput.focus();
    });
    main.appendChild(h('div', { class: 'mode', role: 'group', 'aria-label': 'Chiều quét' }, inBtn, outBtn));
    main.appendChild(f);
    main.appendChild(answer);
    main.appendChild(h('h2', { text: 'Các lượt vừa rồi' }));
    main.appendChild(history);
    setMode(state.out);
    /* A key typed anywhere on the page (the reader after a click elsewhere) goes to the input. */
    function refocus(ev) {
      const t = ev.target;
      if (t === gateInput || (t && (t.tagName === 'INPUT' || t.tagName === 'SELECT' || t.tagName === 'TEXTAREA'))) return;
      if (ev.key && ev.key.length === 1 && !ev.ctrlKey && !ev.metaKey && !ev.altKey) gateInput.focus();
    }
    document.addEventListener('keydown', refocus, true);
    S.cleanup.push(function () { document.removeEventListener('keydown', refocus, true); });
  }

  /* Sends the scans one after another, in the order the reader typed them. */
  async function gateNext(state, answer, history, gateInput) {
    if (state.busy) return;
    state.busy = true;
    while (state.queue.length) {
      const s = state.queue.shift();
      let r;
      try {
        r = await api('POST', '/api/scan', { venue: state.venue, line: s.line, direction: s.out ? 'out' : 'in' }, { quiet: true });
      } catch (e) {
        r = { result: 'failed', stop: true, text: 'CHƯA GHI ĐƯỢC', reason: e.message };
      }
      gateShow(r, s.out, answer, history);
      if (document.body.classList.contains('gate')) gateInput.focus();
    }
    state.busy = false;
  }

  function gateShow(r, out, answer, history) {
    const cls = gateClass(r);
    const fallback = { ok: out ? 'ĐÃ RA' : 'MỜI VÀO', already: 'ĐÃ QUÉT RỒI', stop: 'DỪNG LẠI' }[cls];
    answer.className = cls;
    clear(answer);
    answer.appendChild(h('div', { class: 'big', text: r.text || fallback }));
    if (r.reason) answer.appendChild(h('div', { class: 'reason', text: r.reason }));
    if (r.warning) answer.appendChild(h('div', { class: 'reason', text: r.warning }));
    if (r.person) answer.appendChild(h('div', { class: 'who', text: r.person }));
    if (cls === 'stop') beep();
    history.insertBefore(h('li', { class: cls },
      h('strong', { text: (r.at ? clock(r.at, true) : new Date().toTimeString().slice(0, 8)) + ' ' + (out ? 'ra' : 'vào') + ' — ' + (r.text || fallback) }),
      r.person ? ' ' + r.person : '', r.reason ? ' · ' + r.reason : ''), history.firstChild);
    while (history.children.length > GATE_HISTORY_MAX) history.removeChild(history.lastChild);
  }

  /* --- /venues/{id}/live (Server-Sent Events) ------------------------------------------ */

  const LIVE_ROWS_MAX = 500;
  const METHOD_VI = { self: 'tự quét', staff: 'nhân viên quét', cccd: 'CCCD', bhyt: 'thẻ BHYT', paper: 'khai giấy', import: 'nhập tệp' };

  async function pageLive(id) {
    const main = page('Danh sách trực tiếp');
    let v;
    try { v = await api('GET', '/api/venues/' + id); } catch (e) { if (forbiddenOr(e, main)) return; throw e; }
    main.querySelector('h1').textContent = 'Danh sách trực tiếp — ' + (v.name || id);
    main.appendChild(h('p', { class: 'muted', text: 'Lượt vào và ra hiện lên ngay khi được ghi. Người quét được che bớt thông tin.' }));
    const conn = h('p', { id: 'live-state', class: 'conn', role: 'status', text: 'Đang kết nối…' });
    const list = h('ol', { id: 'live-list', reversed: true, 'aria-label': 'Lượt quét, mới nhất trước' });
    const count = h('p', { id: 'live-count', class: 'muted', text: 'Chưa có lượt nào từ khi mở trang.' });
    main.appendChild(conn);
    main.appendChild(count);
    main.appendChild(list);
    main.appendChild(h('div', { class: 'actions' }, link('/venues/' + id, 'Về trang địa điểm', { class: 'button secondary' })));
    let n = 0;
    if (!onScreen(main)) return;
    const es = new EventSource('/api/venues/' + encodeURIComponent(id) + '/live');
    S.cleanup.push(function () { es.close(); });
    es.onopen = function () { conn.textContent = 'Đã kết nối — đang nhận lượt quét'; conn.className = 'conn on'; };
    es.onerror = async function () {
      conn.className = 'conn off';
      conn.textContent = es.readyState === EventSource.CLOSED ? 'Mất kết nối.' : 'Mất kết nối — đang thử lại…';
      if (es.readyState !== EventSource.CLOSED) return;
      try { await api('GET', '/api/venues/' + id, null, { quiet: true }); } catch (e) {
        if (e.status === 403) { es.close(); forbiddenOr(e, main); }
        else if (e.status === 401) { es.close(); go('/login' + query({ next: location.pathname })); }
      }
    };
    const seen = new Set(); /* a reconnection may send the day's last rows again */
    es.addEventListener('scan', function (ev) {
      let d;
      try { d = JSON.parse(ev.data); } catch (e) { return; }
      const key = d.id || ev.lastEventId;
      if (key) { if (seen.has(key)) return; seen.add(key); }
      const out = d.direction === 'out';
      list.insertBefore(h('li', { class: d.stop ? 'stop' : null },
        h('time', { datetime: d.at || '', text: clock(d.at, true) }),
        h('span', { class: out ? 'dir-out' : 'dir-in', text: out ? 'ra' : 'vào' }),
        h('span', null, d.person || '',
          d.method ? h('span', { class: 'muted', text: ' · ' + (METHOD_VI[d.method] || d.method) }) : null,
          d.repeat ? h('span', { class: 'muted', text: ' · lặp lại' }) : null,
          d.stop ? [' ', h('span', { class: 'badge stop', text: 'Dừng' })] : null)),
      list.firstChild);
      while (list.children.length > LIVE_ROWS_MAX) list.removeChild(list.lastChild);
      n++;
      count.textContent = n + ' lượt từ khi mở trang.';
    });
  }

  /* --- /health/trace ------------------------------------------------------------------- */

  const DETAIL_VI = { name: 'Họ và tên', phone: 'Số điện thoại', cccd: 'Số CCCD', cmnd: 'Số CMND', bhyt: 'Số BHYT',
    birth: 'Ngày sinh', sex: 'Giới tính', address: 'Địa chỉ', id: 'Mã người', ref: 'Mã người' };

  async function pageTrace() {
    const main = page('Truy vết');
    const params = new URLSearchParams(location.search);
    const person = input('text', { spellcheck: 'false', autocapitalize: 'none', value: params.get('ref') || params.get('person') || '' });
    const depth = select([['2', 'F1 và F2'], ['1', 'Chỉ F1']], params.get('depth') || '2');
    const out = h('div', { id: 'trace-out' });
    const f = form('trace-form', [
      field('trace-person', 'Người bệnh (F0): mã định danh ẩn danh, số CCCD hoặc dòng mã QR trên CCCD', person),
      field('trace-depth', 'Độ sâu', depth)
    ], 'trace-submit', 'Truy vết', async function () {
      const p = person.value.trim();
      clear(out).appendChild(h('p', { class: 'muted', text: 'Đang truy vết…' }));
      /* 32 hex digits are a pseudonym (ref); anything else a card's line or a number */
      const who = /^[0-9a-fA-F]{32}$/.test(p) ? { ref: p } : { person: p };
      let r;
      try { r = await api('GET', '/api/trace', Object.assign(who, { depth: depth.value })); } catch (e) { clear(out); throw e; }
      traceShow(out, r);
    });
    main.appendChild(f);
    main.appendChild(out);
    if (person.value) f.requestSubmit(); /* opened from a case's link */
  }

  function traceShow(out, r) {
    clear(out);
    add(out, fresh(r));
    const c = r['case'] || {};
    out.appendChild(h('h2', { text: 'Ca bệnh' }));
    out.appendChild(facts([['Người', c.person], ['Mã người', c.ref], ['Khoảng thời gian', when(r.from) + ' – ' + when(r.to)]]));
    if (r.commune_only) out.appendChild(h('p', { class: 'warn', text: 'Đây là trạm xã: chỉ có lượt quét tại các địa điểm của xã này. Hãy truy vết ở huyện hoặc tỉnh để thấy các nơi khác.' }));
    traceStale(out, r.completeness || []);
    const contacts = (r.contacts || []).slice().sort(function (a, b) { return (b.shared_minutes || 0) - (a.shared_minutes || 0); });
    const reveal = revealBox();
    for (const level of ['F1', 'F2']) {
      const rows = contacts.filter(function (ct) { return ct.level === level; });
      if (level === 'F2' && !rows.length) continue;
      out.appendChild(h('h2', { text: level + ': ' + rows.length + ' người' }));
      out.appendChild(table(null, [{ text: 'Hạng', num: true }, 'Người', { text: 'Thời gian chung (phút)', num: true }, 'Nơi tiếp xúc', ''],
        rows.map(function (ct, i) { return contactRow(ct, i + 1, reveal); }), 'trace-' + level.toLowerCase()));
    }
    traceZones(out, r.visits || []);
    traceCompleteness(out, r.completeness || []);
    out.appendChild(reveal.box);
  }

  function contactRow(ct, rank, reveal) {
    const where = (ct.shared || []).map(function (s) {
      return h('div', { text: (s.venue_name || 'Địa điểm không có ở trạm này') + ', ' + when(s.from) + '–' + clock(s.to) + ' (' + s.minutes + ' phút)' });
    });
    const known = ct.details ? h('div', { class: 'muted', text: detailsLine(ct.details) }) : null;
    const btn = h('button', { type: 'button', class: 'reveal-button secondary', 'data-ref': ct.ref, text: 'Xem danh tính',
      'aria-label': 'Xem danh tính ' + (ct.person || ct.ref) });
    btn.addEventListener('click', function () { reveal.open(ct, btn); });
    return h('tr', { 'data-ref': ct.ref }, h('td', { class: 'num', text: rank }), h('td', null, ct.person || ct.ref, known),
      h('td', { class: 'num', text: ct.shared_minutes }), h('td', null, where), h('td', null, btn));
  }

  function detailsLine(d) {
    return Object.keys(d).filter(function (k) { return d[k]; }).map(function (k) { return (DETAIL_VI[k] || k) + ': ' + d[k]; }).join(' · ');
  }

  /* The communes not synced since the window began: the warning first. */
  function traceStale(out, comp) {
    const stale = comp.filter(function (u) { return u.stale; });
    if (!stale.length) return;
    out.appendChild(h('div', { class: 'warn', id: 'trace-stale' },
      h('strong', { text: 'Cảnh báo: ' + stale.length + ' xã chưa đồng bộ từ đầu khoảng truy vết. ' }),
      'Các tiếp xúc ở đó có thể chưa có trong bảng: ',
      stale.slice(0, 20).map(function (u) { return u.unit + (u.last_scan_day ? ' (quét cuối ' + when(u.last_scan_day) + ')' : ''); }).join(', '),
      stale.length > 20 ? ' và ' + (stale.length - 20) + ' xã khác.' : '.'));
  }

  /* Venues and villages to zone: the case's visits, then the villages they are in. */
  function traceZones(out, visits) {
    out.appendChild(h('h2', { text: 'Nơi cần khoanh vùng' }));
    out.appendChild(table('Địa điểm F0 đã đến', ['Địa điểm', 'Thôn, tổ', 'Đơn vị', 'Thời gian', { text: 'Phút', num: true }], visits.map(function (v) {
      return h('tr', null, h('td', { text: v.venue_name || 'Địa điểm không có ở trạm này' }), h('td', { text: v.village || '' }),
        h('td', { text: v.unit || '?' }), h('td', { text: when(v.from) + '–' + clock(v.to) }), h('td', { class: 'num', text: v.minutes }));
    }), 'trace-visits'));
    const villages = {};
    for (const v of visits) {
      if (!v.village) continue;
      const k = (v.unit || '?') + '|' + v.village;
      villages[k] = villages[k] || { unit: v.unit || '?', village: v.village, minutes: 0 };
      villages[k].minutes += v.minutes || 0;
    }
    const vk = Object.keys(villages);
    if (vk.length) {
      out.appendChild(table('Thôn, tổ cần khoanh vùng', ['Thôn, tổ', 'Đơn vị', { text: 'Phút F0 ở đó', num: true }], vk.map(function (k) {
        const x = villages[k];
        return h('tr', null, h('td', { text: x.village }), h('td', { text: x.unit }), h('td', { class: 'num', text: x.minutes }));
      }), 'trace-villages'));
    }
  }

  function traceCompleteness(out, comp) {
    const touched = comp.filter(function (u) { return u.touched; });
    out.appendChild(h('h2', { text: 'Độ đầy đủ của dữ liệu' }));
    out.appendChild(table('Bản sao của trạm này ở từng xã liên quan', ['Xã', 'Quét cuối', 'Sự kiện cuối', 'Nhận lúc', 'Tình trạng'], touched.map(function (u) {
      return h('tr', null, h('td', { text: u.unit }), h('td', { text: u.last_scan_day ? when(u.last_scan_day) : 'chưa có' }),
        h('td', { text: when(u.last_event) }), h('td', { text: when(u.received) }),
        h('td', null, u.stale ? h('span', { class: 'badge stop', text: 'Chưa đồng bộ từ đầu khoảng' }) : h('span', { class: 'badge ok', text: 'Đủ' })));
    }), 'trace-fresh'));
  }

  /* The reveal form: one on the page, opened by a row's button; asks the reason, POSTs
   * /api/reveal (audited) and shows the person's details. */
  function revealBox() {
    const reason = input('text', { maxlength: 300 });
    const who = h('p', { id: 'reveal-who' });
    const result = h('div', { id: 'reveal-result', 'aria-live': 'polite' });
    let current = null, opener = null;
    const f = form('reveal-form', [who, field('reveal-reason', 'Lý do xem danh tính (được ghi lại)', reason)], 'reveal-submit', 'Xem danh tính', async function () {
      const why = reason.value.trim();
      const r = await api('POST', '/api/reveal', { ref: current.ref, reason: why });
      const p = r.details && typeof r.details === 'object' ? r.details : r.person && typeof r.person === 'object' ? r.person : {};
      clear(result).appendChild(h('h3', { text: 'Danh tính' }));
      result.appendChild(facts(Object.keys(p).filter(function (k) { return typeof p[k] !== 'object'; }).map(function (k) { return [DETAIL_VI[k] || k, String(p[k])]; })));
      reason.value = '';
      if (opener) opener.disabled = true;
    });
    const close = h('button', { type: 'button', class: 'secondary', text: 'Đóng', on: { click: function () { box.hidden = true; if (opener) opener.focus(); } } });
    f.querySelector('.actions').appendChild(close);
    const box = h('section', { class: 'reveal-box', id: 'reveal-box', hidden: true, 'aria-labelledby': 'reveal-title' },
      h('h2', { id: 'reveal-title', text: 'Xem danh tính' }), f, result);
    return {
      box: box,
      open: function (ct, btn) {
        current = ct;
        opener = btn;
        who.textContent = 'Người: ' + (ct.person || ct.ref) + ' (' + ct.level + ', ' + ct.shared_minutes + ' phút chung)';
        clear(result);
        const wrap = btn.closest('.table-wrap'); /* under the table of the row */
        if (wrap) wrap.parentNode.insertBefore(box, wrap.nextSibling);
        box.hidden = false;
        reason.focus();
      }
    };
  }

  /* --- /report ------------------------------------------------------------------------ */

  async function pageReport() {
    const main = page('Báo cáo tuần');
    const params = new URLSearchParams(location.search);
    const node = (S.session && S.session.node) || {};
    const period = input('text', { value: params.get('week') || isoWeek(new Date()), pattern: '[0-9]{4}-W[0-9]{2}', inputmode: 'text' });
    const depth = select([['0', 'Chỉ đơn vị này'], ['1', '1 cấp dưới'], ['2', '2 cấp dưới'], ['3', '3 cấp dưới']], params.get('depth') || '1');
    const unit = input('text', { value: params.get('unit') || node.unit || '', inputmode: 'numeric', maxlength: 8 });
    const out = h('div', { id: 'report-out' });
    function show() {
      const q = { week: period.value.trim(), depth: depth.value, unit: unit.value.trim() };
      const file = 'bao-cao-' + (q.unit || 'don-vi') + '-' + q.week;
      clear(out);
      out.appendChild(h('div', { class: 'actions' },
        link('/api/report' + query(Object.assign({ format: 'csv', download: 1 }, q)), 'Tải CSV', { class: 'button secondary', download: file + '.csv', id: 'report-csv' }),
        link('/api/report' + query(Object.assign({ format: 'html', download: 1 }, q)), 'Tải HTML', { class: 'button secondary', download: file + '.html', id: 'report-html' })));
      out.appendChild(h('iframe', { class: 'report-frame', id: 'report-frame', title: 'Báo cáo tuần ' + q.week, src: '/api/report' + query(Object.assign({ format: 'html' }, q)) }));
    }
    const f = form('report-form', [
      field('report-period', 'Tuần (năm-Wsố tuần)', period, 'Ví dụ 2021-W40.'),
      field('report-depth', 'Hiện các đơn vị cấp dưới', depth),
      field('report-unit', 'Mã đơn vị', unit, 'Để trống: đơn vị của trạm này.')
    ], 'report-submit', 'Xem báo cáo', async function () {
      if (!/^[0-9]{4}-W[0-9]{2}$/.test(period.value.trim())) { showError('Tuần phải có dạng 2021-W40.'); period.focus(); return; }
      history.replaceState(null, '', '/report' + query({ week: period.value.trim(), depth: depth.value, unit: unit.value.trim() }));
      show();
    });
    f.classList.add('row-form');
    main.appendChild(f);
    main.appendChild(out);
    show();
  }

  /* --- /users (operator) --------------------------------------------------------------- */

  async function pageUsers() {
    const main = page('Tài khoản');
    const box = h('div');
    main.appendChild(box);
    /* the operator adds every role (health officers on a health node only); a clerk adds
     * guards and venue controllers (named by their phone, with a 6-digit PIN) */
    let roles = [['clerk', ROLE_VI.clerk], ['guard', ROLE_VI.guard], ['controller', ROLE_VI.controller], ['operator', ROLE_VI.operator]];
    if (isHealthNode()) roles.splice(1, 0, ['health', ROLE_VI.health]);
    if (role() === 'clerk') roles = [['guard', ROLE_VI.guard], ['controller', ROLE_VI.controller]];
    main.appendChild(h('h2', { text: 'Thêm tài khoản' }));
    main.appendChild(form('user-form', [
      field('user-name', 'Tên tài khoản', input('text', { autocapitalize: 'none', spellcheck: 'false', maxlength: 64 })),
      field('user-role', 'Vai trò', select(roles, roles[0][0])),
      field('user-password', 'Mật khẩu', input('password', { autocomplete: 'new-password' }), 'Từ 8 đến 128 ký tự; chủ địa điểm: mã PIN đúng 6 chữ số.')
    ], 'user-submit', 'Thêm tài khoản', async function (f) {
      const name = val(f, 'user-name');
      await api('POST', '/api/users', { name: name, role: val(f, 'user-role'), password: f.elements['user-password'].value });
      f.reset();
      await loadUsers(box);
      notice('Đã thêm tài khoản ' + name + '.');
    }));
    await loadUsers(box);
  }

  async function loadUsers(box) {
    const r = await api('GET', '/api/users');
    clear(box);
    add(box, fresh(r));
    const users = r.users || [];
    box.appendChild(table(users.length + ' tài khoản', ['Tên', 'Vai trò', 'Tình trạng', 'Việc'], users.map(function (u) {
      const locked = u.locked_until;
      const actions = h('div', { class: 'actions' });
      actions.appendChild(h('button', { type: 'button', class: 'secondary', text: 'Đặt lại mật khẩu', on: { click: function () { passwordForm(actions, u, box); } } }));
      if (locked) actions.appendChild(h('button', { type: 'button', class: 'secondary', text: 'Mở khóa', on: { click: function () {
        userAction(u, 'unlock', 'Đã mở khóa ' + u.name + '.', box);
      } } }));
      actions.appendChild(h('button', { type: 'button', class: 'danger', text: 'Xóa', on: { click: function () {
        if (window.confirm('Xóa tài khoản ' + u.name + '?')) userAction(u, 'remove', 'Đã xóa tài khoản ' + u.name + '.', box);
      } } }));
      return h('tr', null, h('td', { text: u.name }), h('td', { text: ROLE_VI[u.role] || u.role }),
        h('td', null, u.disabled ? h('span', { class: 'badge stop', text: 'Đã tắt' }) : locked ? h('span', { class: 'badge stop', text: 'Bị khóa đến ' + when(locked) })
          : u.failures ? 'Hoạt động (' + u.failures + ' lần sai)' : 'Hoạt động'),
        h('td', null, actions));
    })));
  }

  function userAction(u, what, done, box) {
    api('POST', '/api/users/' + encodeURIComponent(u.name) + '/' + what).then(function () {
      return loadUsers(box);
    }).then(function () { notice(done); }).catch(function () {});
  }

  function passwordForm(where, u, box) {
    if (where.querySelector('form')) return;
    const pw = input('password', { autocomplete: 'new-password' });
    const f = form('password-form-' + u.name, field('password-' + u.name, 'Mật khẩu mới cho ' + u.name, pw), 'password-submit-' + u.name, 'Lưu mật khẩu', async function () {
      await api('POST', '/api/users/' + encodeURIComponent(u.name) + '/password', { password: pw.value });
      await loadUsers(box);
      notice('Đã đặt lại mật khẩu của ' + u.name + '.');
    });
    where.appendChild(f);
    pw.focus();
  }

  /* --- pages whose API is not in this version yet (each its own function, to fill) ----- */

  function placeholder(title, what) {
    const main = page(title);
    main.appendChild(h('p', { class: 'placeholder' }, h('strong', { text: 'Chưa có trong phiên bản này.' }), ' ', what));
    main.appendChild(h('p', null, link('/', 'Về trang chủ')));
  }

  /* A read that a later version answers: the page is drawn when the API is there, else
   * it says plainly that it is not in this version. Resolves to the answer or null. */
  async function optional(main, path, title, what) {
    try { return await api('GET', path, null, { quiet: true }); } catch (e) {
      if (e.status === 404 && e.code === 'not_found') {
        if (onScreen(main)) { placeholder(title, what); focusHeading(); }
        return null;
      }
      if (onScreen(main)) showError(e.message);
      throw e;
    }
  }

  function shortId(hex) { return hex ? String(hex).slice(0, 12) + '…' : '—'; }

  const SYNC_STATE_VI = { idle: 'chờ', hello: 'chào hỏi', syncing: 'đang đồng bộ', live: 'đang theo dõi', done: 'xong', closed: 'đã đóng', error: 'lỗi' };

  /* /sync: each peer (last contact, how far behind each side is), forks, parked batches. */
  async function pageSync() {
    const what = 'Trạm ngang hàng, lần liên lạc cuối, độ chậm của mỗi bên và lô bị giữ sẽ hiện ở đây. Hiện dùng lệnh truyvet peers và truyvet status.';
    const main = page('Đồng bộ');
    const r = await optional(main, '/api/sync', 'Đồng bộ', what);
    if (!r || !onScreen(main)) return;
    const sess = r.sessions;
    if (!sess) {
      main.appendChild(h('p', { class: 'warn', text: 'Trạm chưa đồng bộ với trạm nào (chưa được cấp chứng chỉ, hoặc chưa có kết nối).' }));
    } else {
      main.appendChild(h('p', { class: 'fresh', text: 'Cập nhật lúc ' + when(sess.written) }));
      const peers = sess.peers || [];
      main.appendChild(table(peers.length + ' phiên đồng bộ', ['Trạm', 'Chiều', 'Địa chỉ', 'Trạng thái', 'Liên lạc cuối',
        { text: 'Trạm này còn thiếu', num: true }, { text: 'Bên kia còn thiếu', num: true }, { text: 'Bị từ chối', num: true }, 'Lỗi'], peers.map(function (p) {
        return h('tr', null, h('td', { text: shortId(p.node_id), title: p.node_id }), h('td', { text: p.direction === 'outbound' ? 'đi' : 'đến' }),
          h('td', { text: p.endpoint || '—' }), h('td', { text: SYNC_STATE_VI[p.state] || p.state }), h('td', { text: when(p.last_contact) }),
          h('td', { class: 'num', text: p.we_lack }), h('td', { class: 'num', text: p.peer_lacks }), h('td', { class: 'num', text: p.refused }),
          h('td', { text: p.error || '' }));
      }), 'sync-peers'));
    }
    let st = null;
    try { st = await api('GET', '/api/status', null, { quiet: true }); } catch (e) { st = null; }
    if (!st || !onScreen(main)) return;
    statusForks(main, st);
    statusParked(main, st);
  }

  function statusForks(main, st) {
    const forks = st.fork_origins || [];
    main.appendChild(h('h2', { text: 'Bằng chứng rẽ nhánh' }));
    if (!forks.length) { main.appendChild(h('p', { text: 'Không có trạm nào ký hai nội dung khác nhau cho cùng một số thứ tự.' })); return; }
    main.appendChild(h('p', { class: 'warn', text: 'Các trạm dưới đây đã ký hai lô khác nhau cho cùng một vị trí: dữ liệu của chúng bị dừng lại cho đến khi cấp trên xử lý.' }));
    main.appendChild(table(null, ['Trạm', 'Số bằng chứng', 'Bị dừng'], forks.map(function (f) {
      return h('tr', null, h('td', { text: shortId(f.origin), title: f.origin }), h('td', { text: f.evidence }), h('td', { text: f.frozen ? 'có' : 'không' }));
    }), 'sync-forks'));
  }

  function statusParked(main, st) {
    const parked = st.parked || [];
    main.appendChild(h('h2', { text: 'Lô đang chờ' }));
    if (!parked.length) { main.appendChild(h('p', { text: 'Không có lô nào phải chờ.' })); return; }
    main.appendChild(table(parked.length + ' lô chờ phần trước của nó', ['Trạm', { text: 'Số thứ tự', num: true }, { text: 'Sự kiện', num: true }, 'Chờ'], parked.map(function (b) {
      return h('tr', null, h('td', { text: shortId(b.origin), title: b.origin }), h('td', { class: 'num', text: b.seq }), h('td', { class: 'num', text: b.events }),
        h('td', { text: typeof b.waits_for === 'object' ? JSON.stringify(b.waits_for) : String(b.waits_for) }));
    }), 'sync-parked'));
  }
  /* A filter form on a list page: its fields, then load() on Enter or the button. */
  function filterForm(id, fields, load) {
    const f = form(id, fields, id + '-submit', 'Xem', load);
    f.classList.add('row-form');
    return f;
  }

  const STATUS_VI = { F0: 'F0 (ca bệnh)', F1: 'F1', F2: 'F2', cleared: 'Đã khỏi' };

  /* A moment typed in a datetime-local field ("2021-10-05T08:03") as the API takes it, in
   * Vietnam time; '' stays ''. */
  function vnTime(v) {
    if (!v) return '';
    return (v.length === 16 ? v + ':00' : v) + '+07:00';
  }

  /* The form that records a case (`truyvet case add`); done() after each one recorded. */
  function caseForm(done) {
    const person = input('text', { spellcheck: 'false', autocapitalize: 'none', maxlength: 400 });
    const f = form('case-form', [
      field('case-person', 'Người: số CCCD, số điện thoại, dòng mã QR trên CCCD, hoặc mã định danh ẩn danh', person),
      field('case-status', 'Tình trạng', select([['F0', STATUS_VI.F0], ['F1', 'F1 (tiếp xúc gần)'], ['F2', 'F2 (tiếp xúc với F1)'], ['cleared', STATUS_VI.cleared]], 'F0')),
      field('case-onset', 'Ngày khởi phát hoặc ngày tiếp xúc', input('date'), 'Ca F0 cần ngày khởi phát hoặc ngày lấy mẫu.'),
      field('case-sampled', 'Ngày lấy mẫu dương tính (không bắt buộc)', input('date')),
      field('case-at', 'Có hiệu lực từ (để trống: bây giờ)', input('datetime-local')),
      field('case-unit', 'Tính cho đơn vị (không bắt buộc)', input('text', { inputmode: 'decimal', maxlength: 32 }),
        'Để trống: đơn vị nơi người này được ghi nhận, nếu không thì đơn vị của trạm này.')
    ], 'case-submit', 'Ghi ca bệnh', async function () {
      const p = person.value.trim();
      const who = /^[0-9a-fA-F]{32}$/.test(p) ? { ref: p } : { person: p };
      const r = await api('POST', '/api/cases', Object.assign(who, { status: val(f, 'case-status'), onset: val(f, 'case-onset'),
        sampled: val(f, 'case-sampled'), at: vnTime(val(f, 'case-at')), unit: val(f, 'case-unit') }));
      f.reset();
      await done();
      notice('Đã ghi ' + (r.person || r.ref || p) + ': ' + (STATUS_VI[r.status] || r.status) + '.');
    });
    return f;
  }

  /* /health/cases: a case recorded, then the cases and their infectious windows (`truyvet
   * case list`). */
  async function pageCases() {
    const main = page('Ca bệnh');
    const status = select([['', 'Tất cả'], ['F0', 'F0'], ['F1', 'F1'], ['F2', 'F2'], ['cleared', 'Đã khỏi']], new URLSearchParams(location.search).get('status') || '');
    const box = h('div', { id: 'cases-out' });
    async function load() {
      const r = await api('GET', '/api/cases', { status: status.value });
      if (!onScreen(main)) return;
      clear(box);
      add(box, fresh(r));
      const cs = r.cases || [];
      box.appendChild(table(cs.length + ' người', ['Người', 'Tình trạng', 'Đơn vị', 'Khởi phát', 'Lấy mẫu', 'Thời gian lây', 'Ghi lúc', ''], cs.map(function (c) {
        /* '?': a person this node never saw scanned, known by the pseudonym alone */
        return h('tr', { 'data-ref': c.ref }, h('td', { text: c.person && c.person !== '?' ? c.person : shortId(c.ref), title: c.ref }),
          h('td', null, h('span', { class: 'badge ' + (c.status === 'F0' ? 'stop' : c.status === 'cleared' ? 'ok' : 'already'), text: STATUS_VI[c.status] || c.status })),
          h('td', { text: [c.unit_name, c.unit ? '(' + c.unit + ')' : ''].filter(Boolean).join(' ') }),
          h('td', { text: c.onset ? when(c.onset) : '—' }), h('td', { text: c.sampled ? when(c.sampled) : '—' }),
          h('td', { text: c.window_from ? when(c.window_from) + ' – ' + (c.window_to ? when(c.window_to) : 'nay') : '—' }),
          h('td', { text: when(c.set_at) }),
          h('td', null, c.status === 'F0' ? link('/health/trace' + query({ ref: c.ref }), 'Truy vết') : null));
      }), 'cases-table'));
    }
    main.appendChild(h('h2', { text: 'Ghi ca bệnh, F1, F2 hoặc khỏi bệnh' }));
    main.appendChild(caseForm(load));
    main.appendChild(h('h2', { text: 'Danh sách' }));
    main.appendChild(filterForm('cases-filter', field('cases-status', 'Tình trạng', status), async function () {
      history.replaceState(null, '', '/health/cases' + query({ status: status.value }));
      await load();
    }));
    main.appendChild(box);
    await load();
  }

  const RISK_VI = ['', '1 — thấp (xanh)', '2 — trung bình (vàng)', '3 — cao (cam)', '4 — rất cao (đỏ)'];

  /* The form that sets a unit's level from a day (`truyvet risk set`); done(unit) after. */
  function riskForm(done) {
    const today = new Date();
    const iso = today.getFullYear() + '-' + String(today.getMonth() + 1).padStart(2, '0') + '-' + String(today.getDate()).padStart(2, '0');
    const from = input('date', { value: iso });
    const f = form('risk-form', [
      field('risk-set-unit', 'Mã đơn vị hoặc thôn', input('text', { inputmode: 'decimal', maxlength: 32 }), 'Thôn: mã xã, dấu chấm, số thôn (ví dụ 22333.03).'),
      field('risk-level', 'Mức nguy cơ', select([1, 2, 3, 4].map(function (n) { return [n, RISK_VI[n]]; }), 1)),
      field('risk-from', 'Áp dụng từ ngày', from),
      field('risk-note', 'Ghi chú (không bắt buộc)', input('text', { maxlength: 200 }))
    ], 'risk-submit', 'Đặt mức nguy cơ', async function () {
      const unit = val(f, 'risk-set-unit');
      await api('POST', '/api/risk', { unit: unit, level: val(f, 'risk-level'), from: val(f, 'risk-from'), note: val(f, 'risk-note') });
      f.reset();
      from.value = iso;
      await done(unit);
      notice('Đã đặt mức nguy cơ cho ' + unit + '.');
    });
    return f;
  }

  /* /health/risk: a level set, then each unit's level in force and those set for later
   * (`truyvet risk`). */
  async function pageRisk() {
    const main = page('Mức nguy cơ');
    const unit = input('text', { value: new URLSearchParams(location.search).get('unit') || '', maxlength: 32 });
    const box = h('div', { id: 'risk-out' });
    async function load() {
      const r = await api('GET', '/api/risk', { unit: unit.value.trim() });
      if (!onScreen(main)) return;
      clear(box);
      add(box, fresh(r));
      const rows = r.risk || [];
      if (!rows.length) { box.appendChild(h('p', { text: 'Chưa đơn vị nào có mức nguy cơ.' })); return; }
      box.appendChild(table(null, ['Đơn vị', 'Mức', 'Hiệu lực', 'Từ', 'Đặt cho', 'Ghi chú'], rows.map(function (x) {
        return h('tr', { 'data-unit': x.unit }, h('td', { text: [x.unit, x.unit_name].filter(Boolean).join(' ') }),
          h('td', null, h('span', { class: 'badge ' + (x.level >= 3 ? 'stop' : x.level === 2 ? 'already' : 'ok'), text: RISK_VI[x.level] || x.level })),
          h('td', { text: x.state === 'in force' ? 'đang áp dụng' : 'từ ngày đặt' }), h('td', { text: when(x.from) }),
          h('td', { text: x.set_for }), h('td', { text: x.note || '' }));
      }), 'risk-table'));
    }
    main.appendChild(h('h2', { text: 'Đặt mức nguy cơ' }));
    main.appendChild(riskForm(async function () { await load(); }));
    main.appendChild(h('h2', { text: 'Mức đang áp dụng' }));
    main.appendChild(filterForm('risk-filter', field('risk-unit', 'Mã đơn vị (để trống: mọi đơn vị có mức)', unit), async function () {
      history.replaceState(null, '', '/health/risk' + query({ unit: unit.value.trim() }));
      await load();
    }));
    main.appendChild(box);
    await load();
  }

  /* /health/alerts: the venues and windows where a case was (`truyvet alerts`). */
  async function pageAlerts() {
    const main = page('Cảnh báo');
    const what = 'Các cảnh báo sẽ hiện ở đây. Hiện dùng lệnh truyvet alerts.';
    const all = h('input', { type: 'checkbox', id: 'alerts-all', name: 'alerts-all', checked: new URLSearchParams(location.search).get('all') === '1' });
    const box = h('div', { id: 'alerts-out' });
    async function load() {
      const r = await optional(main, '/api/alerts' + query({ all: all.checked ? 1 : '' }), 'Cảnh báo', what);
      if (!r || !onScreen(main)) return false;
      clear(box);
      add(box, fresh(r));
      const rows = r.alerts || r.lines || [];
      if (!rows.length) { box.appendChild(h('p', { text: 'Không có cảnh báo nào.' })); return true; }
      box.appendChild(table(rows.length + ' cảnh báo', ['Ca', 'Địa điểm', 'Thôn, tổ', 'Đơn vị', 'Thời gian', 'Điện thoại chủ'], rows.map(function (a) {
        return h('tr', null, h('td', { text: a['case'] ? '#' + a['case'] + (a.declared ? ', ' + when(a.declared) : '') : '—' }),
          h('td', { text: a.venue_name || a.venue }), h('td', { text: a.village || '' }), h('td', { text: a.unit || '' }),
          h('td', { text: when(a.from) + ' – ' + clock(a.to) }), h('td', { text: a.owner_phone || '—' }));
      }), 'alerts-table'));
      return true;
    }
    if (!(await load())) return;
    const f = filterForm('alerts-filter', h('div', { class: 'check' }, all, h('label', { for: 'alerts-all', text: 'Cả cảnh báo đã hết hạn' })), async function () {
      history.replaceState(null, '', '/health/alerts' + query({ all: all.checked ? 1 : '' }));
      await load();
    });
    main.appendChild(box);
    main.insertBefore(f, box);
  }

  /* /status: the node itself (`truyvet status`). */
  async function pageStatus() {
    const main = page('Trạng thái trạm');
    const st = await optional(main, '/api/status', 'Trạng thái trạm', 'Trạng thái của trạm sẽ hiện ở đây. Hiện dùng lệnh truyvet status.');
    if (!st || !onScreen(main)) return;
    add(main, fresh(st));
    const ev = st.events || {};
    const ret = st.retention || {};
    const store = st.store || {};
    main.appendChild(facts([
      ['Tên trạm', st.name],
      ['Cấp', NODE_ROLE_VI[st.role] || st.role],
      ['Đơn vị', st.unit],
      ['Mã trạm', st.node_id],
      ['Chứng chỉ', st.cert ? 'đã được cấp' : 'chưa được cấp'],
      ['Bị thu hồi', st.revoked ? 'CÓ' : 'không'],
      ['Số sự kiện', ev.total],
      ['Số lượt quét', ev.scan],
      ['Số lô', st.batches],
      ['Giữ dữ liệu', ret.days !== undefined ? ret.days + ' ngày' : null],
      ['Dung lượng kho', store.used_bytes !== undefined ? Math.round(store.used_bytes / 1024) + ' KB' : null],
      ['Cần đồng bộ lại', st.resync && st.resync.required ? 'CÓ, từ ' + when(st.resync.since) : 'không']
    ]));
    const fr = st.frontier || [];
    main.appendChild(h('h2', { text: 'Dữ liệu theo trạm nguồn' }));
    main.appendChild(table(fr.length + ' trạm nguồn', ['Trạm', { text: 'Số thứ tự', num: true }, 'Sự kiện cuối', 'Nhận lúc'], fr.map(function (f) {
      return h('tr', null, h('td', { text: shortId(f.origin), title: f.origin }), h('td', { class: 'num', text: f.seq }),
        h('td', { text: when(f.last_event) }), h('td', { text: when(f.received) }));
    }), 'status-frontier'));
    statusForks(main, st);
    statusParked(main, st);
  }
  /* --- /enroll (operator): the node's request, certificates issued and accepted, revocation */

  function pageEnroll() {
    const main = page('Cấp chứng chỉ');
    const node = (S.session && S.session.node) || {};
    main.appendChild(h('h2', { text: 'Yêu cầu cấp chứng chỉ của trạm này' }));
    if (node.role === 'province') {
      main.appendChild(h('p', { id: 'enroll-request-root', text: 'Trạm cấp tỉnh là gốc tin cậy: không cần ai cấp chứng chỉ. Trạm này cấp chứng chỉ cho các trạm cấp dưới.' }));
    } else {
      main.appendChild(h('p', { class: 'muted', text: 'Tải tệp yêu cầu, mang (USB) đến người quản trị trạm cấp trên để họ cấp chứng chỉ, rồi nhận chứng chỉ ở mục dưới.' }));
      main.appendChild(h('div', { class: 'actions' }, link('/api/enroll/request', 'Tải tệp yêu cầu', {
        class: 'button', id: 'enroll-request', download: 'yeu-cau-' + (node.role || 'tram') + '-' + (node.unit || '') + '.txt' })));
    }
    enrollIssue(main);
    enrollAccept(main);
    enrollRevoke(main);
  }

  /* A file chosen in the form, read whole (null, with the message shown, when none is). */
  async function chosenFile(el) {
    const file = el.files && el.files[0];
    if (!file) { showError('Hãy chọn tệp cần gửi.'); el.focus(); return null; }
    return file.arrayBuffer();
  }

  function enrollIssue(main) {
    main.appendChild(h('h2', { text: 'Cấp chứng chỉ cho trạm cấp dưới' }));
    const file = h('input', { type: 'file', accept: '.txt,text/plain' });
    const out = h('p', { id: 'enroll-issue-out', 'aria-live': 'polite' });
    const f = form('enroll-issue-form', [
      field('enroll-issue-file', 'Tệp yêu cầu của trạm cấp dưới', file),
      field('enroll-issue-scope', 'Phạm vi thêm (không bắt buộc)', input('text', { inputmode: 'decimal', maxlength: 400 }),
        'Các mã đơn vị trạm mới được ghi thêm ngoài đơn vị của nó, cách nhau bởi dấu phẩy.'),
      field('enroll-issue-days', 'Hiệu lực (số ngày, không bắt buộc)', input('number', { min: 1, max: 36500, inputmode: 'numeric' })),
      h('div', { class: 'check' }, h('input', { type: 'checkbox', id: 'enroll-issue-health', name: 'enroll-issue-health' }),
        h('label', { for: 'enroll-issue-health', text: 'Trạm y tế (được truy vết)' })),
      h('div', { class: 'check' }, h('input', { type: 'checkbox', id: 'enroll-issue-reissue', name: 'enroll-issue-reissue' }),
        h('label', { for: 'enroll-issue-reissue', text: 'Cấp lại dù trạm đã có chứng chỉ khác' }))
    ], 'enroll-issue-submit', 'Cấp chứng chỉ', async function () {
      const body = await chosenFile(file);
      if (!body) return;
      clear(out);
      const q = query({ scope: val(f, 'enroll-issue-scope'), days: val(f, 'enroll-issue-days'),
        health: val(f, 'enroll-issue-health') ? 1 : '', reissue: val(f, 'enroll-issue-reissue') ? 1 : '' });
      const res = await send('/api/enroll/issue' + q, body, 'application/octet-stream');
      const name = fileName(res, 'chung-chi.txt');
      const url = URL.createObjectURL(await res.blob());
      out.appendChild(link(url, 'Tải chứng chỉ (' + name + ')', { download: name, id: 'enroll-issue-download', class: 'button' }));
      notice(res.headers.get('X-Truyvet-Issued') === 'again'
        ? 'Chứng chỉ này đã được cấp trước đây; không ghi thêm gì. Hãy tải lại và mang về trạm cấp dưới.'
        : 'Đã cấp chứng chỉ. Hãy tải về và mang đến trạm cấp dưới.');
      $('enroll-issue-download').click();
    });
    main.appendChild(f);
    main.appendChild(out);
  }

  function enrollAccept(main) {
    main.appendChild(h('h2', { text: 'Nhận chứng chỉ cho trạm này' }));
    const file = h('input', { type: 'file', accept: '.txt,text/plain' });
    const out = h('div', { id: 'enroll-accept-out', 'aria-live': 'polite' });
    main.appendChild(form('enroll-accept-form', field('enroll-accept-file', 'Tệp chứng chỉ do trạm cấp trên cấp', file),
      'enroll-accept-submit', 'Nhận chứng chỉ', async function () {
        const body = await chosenFile(file);
        if (!body) return;
        const r = await (await send('/api/enroll/accept', body, 'application/octet-stream')).json();
        const c = r.cert || {};
        clear(out).appendChild(h('h3', { text: 'Chứng chỉ đã nhận' }));
        out.appendChild(facts([
          ['Cấp', NODE_ROLE_VI[c.role] || c.role],
          ['Đơn vị', c.unit],
          ['Phạm vi', (c.scope || []).join(', ') || c.unit],
          ['Trạm y tế', c.health ? 'có' : 'không'],
          ['Hiệu lực', when(c.not_before) + ' – ' + (c.not_after ? when(c.not_after) : 'không hạn')],
          ['Trạm cấp', shortId(c.issuer)],
          ['Gốc tin cậy', shortId(r.root)],
          ['Địa chỉ đồng bộ', r.endpoints || 'chưa có'],
          ['Khóa truy vết', r.tracing_key_changed ? 'đã đổi (' + r.tracing_key_kind + ')' : 'không đổi'],
          ['Dữ liệu khóa lại', r.resealed ? r.resealed + ' mục' : null]
        ]));
        file.value = '';
        notice('Đã nhận chứng chỉ: trạm này đã thuộc cây tin cậy của tỉnh.');
      }));
    main.appendChild(out);
  }

  function enrollRevoke(main) {
    main.appendChild(h('h2', { text: 'Thu hồi chứng chỉ của một trạm' }));
    main.appendChild(h('p', { class: 'muted', text: 'Dữ liệu trạm đó ký sau khi thu hồi sẽ bị các trạm khác từ chối. Việc này không hoàn tác được.' }));
    const f = form('revoke-form', [
      field('revoke-node', 'Mã trạm (64 chữ số hệ 16)', input('text', { autocapitalize: 'none', spellcheck: 'false', maxlength: 64 })),
      field('revoke-reason', 'Lý do (được ghi lại)', input('text', { maxlength: 255 }))
    ], 'revoke-submit', 'Thu hồi chứng chỉ', async function () {
      const nodeId = val(f, 'revoke-node');
      if (nodeId && !window.confirm('Thu hồi chứng chỉ của trạm ' + shortId(nodeId) + '? Việc này không hoàn tác được.')) return;
      const r = await api('POST', '/api/revoke', { node: nodeId, reason: val(f, 'revoke-reason') });
      f.reset();
      notice('Đã thu hồi chứng chỉ của trạm ' + shortId(r.node) + '.');
    });
    f.querySelector('button[type=submit]').classList.add('danger');
    main.appendChild(f);
  }

  /* --- /units: the unit tree under this node, and villages added by the clerk ---------- */

  async function pageUnits() {
    const main = page('Thôn, tổ và đơn vị');
    const node = (S.session && S.session.node) || {};
    const box = h('div', { id: 'units-out' });
    const code = input('text', { inputmode: 'decimal', autocapitalize: 'none', spellcheck: 'false', maxlength: 32,
      placeholder: node.unit ? node.unit + '.01' : '' });
    const f = form('unit-form', [
      field('unit-code', 'Mã thôn, tổ', code, 'Mã xã, dấu chấm, rồi số của thôn: ví dụ ' + (node.unit || '22333') + '.03.'),
      field('unit-name', 'Tên thôn, tổ', input('text', { maxlength: 200 })),
      field('unit-parent', 'Thuộc đơn vị (không bắt buộc)', input('text', { inputmode: 'decimal', maxlength: 32 }),
        'Để trống: thôn thuộc xã có mã đứng trước dấu chấm.')
    ], 'unit-submit', 'Thêm thôn, tổ', async function () {
      const r = await api('POST', '/api/units', { code: val(f, 'unit-code'), name: val(f, 'unit-name'), parent: val(f, 'unit-parent') });
      f.reset();
      await loadUnits(box);
      notice('Đã thêm ' + (r.name || r.code) + ' (mã ' + r.code + ') thuộc ' + r.parent + '.');
    });
    main.appendChild(box);
    main.appendChild(h('h2', { text: 'Thêm thôn, tổ dân phố' }));
    main.appendChild(f);
    try { await loadUnits(box); } catch (e) { if (forbiddenOr(e, main)) return; throw e; }
  }

  /* The tree in the order the API gives it, each unit indented under its parent. */
  async function loadUnits(box) {
    const r = await api('GET', '/api/units');
    clear(box);
    add(box, fresh(r));
    const us = r.units || [];
    const depth = {};
    depth[r.under] = 0;
    box.appendChild(table((r.name ? r.name + ' (' + r.under + ')' : r.under) + ': ' + us.length + ' đơn vị cấp dưới',
      ['Mã', 'Tên', 'Thuộc', 'Loại'], us.map(function (u) {
        depth[u.code] = (depth[u.parent] || 0) + 1;
        return h('tr', { 'data-code': u.code }, h('td', { text: u.code }),
          h('td', { class: 'depth-' + Math.min(depth[u.code], 4), text: u.name || '—' }),
          h('td', { text: u.parent }), h('td', { text: u.official ? 'Đơn vị hành chính' : 'Thôn, tổ do xã đặt' }));
      }), 'units-table'));
  }

  /* --- start ------------------------------------------------------------------------- */

  document.addEventListener('click', onClick);
  window.addEventListener('popstate', render);
  render();
})();
