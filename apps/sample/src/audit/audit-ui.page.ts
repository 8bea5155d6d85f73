/**
 * The audit viewer: one static page (no build step) that signs in through POST /auth/login and reads the JSON
 * API with the token. Everything it shows comes from GET /audit and GET /audit/verify; owners get a revert
 * button per entry (POST /audit/:id/revert). Values are inserted as text, never as HTML.
 */
export const AUDIT_UI_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Bulkhead audit viewer</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 0; background: #f6f7f9; color: #1d232b; }
  header { background: #1d232b; color: #fff; padding: 10px 20px; display: flex; gap: 16px; align-items: center; }
  header h1 { font-size: 16px; margin: 0; flex: 1; }
  main { padding: 20px; max-width: 1100px; margin: auto; }
  form.card, .card { background: #fff; border: 1px solid #dde1e6; border-radius: 6px; padding: 16px; margin-bottom: 16px; }
  label { display: inline-block; margin-right: 12px; }
  input, select, button { font: inherit; padding: 4px 8px; }
  .error { color: #b00020; }
  #verify.ok { color: #0a7d32; } #verify.broken { color: #b00020; font-weight: bold; }
  table { width: 100%; border-collapse: collapse; background: #fff; }
  th, td { text-align: left; vertical-align: top; padding: 6px 8px; border-bottom: 1px solid #e6e8eb; }
  td pre { margin: 0; white-space: pre-wrap; font-size: 12px; }
  .changed { background: #fff3c4; font-weight: bold; }
  .muted { color: #6b7280; }
  [hidden] { display: none !important; }
</style>
</head>
<body>
<header><h1>Bulkhead audit viewer</h1><span id="who"></span><button id="logout" hidden>Sign out</button></header>
<main>
  <form id="login" class="card">
    <label>E-mail <input id="email" type="email" value="alice@acme.test" required></label>
    <label>Password <input id="password" type="password" value="demo" required></label>
    <label>Tenant <input id="tenant" placeholder="(token tenant)" size="10"></label>
    <button type="submit">Sign in</button>
    <span id="login-error" class="error"></span>
  </form>
  <section id="app" hidden>
    <div class="card">
      <strong>Chain verification:</strong> <span id="verify">checking...</span>
      <button id="reverify" type="button">Verify again</button>
    </div>
    <form id="filter" class="card">
      <label>Entity <select id="entityType"><option value="">all</option><option>Invoice</option><option>RulesMembership</option></select></label>
      <label>Id <input id="entityId" size="38" placeholder="entity id (optional)"></label>
      <button type="submit">Filter</button>
      <button type="button" id="clear">Clear</button>
      <span id="error" class="error"></span>
    </form>
    <table>
      <thead><tr><th>#</th><th>When</th><th>Who</th><th>What</th><th>Before</th><th>After</th><th></th></tr></thead>
      <tbody id="entries"></tbody>
    </table>
    <p id="empty" class="muted" hidden>No audit entries.</p>
  </section>
</main>
<script>
(() => {
  const $ = (id) => document.getElementById(id);
  const state = { token: sessionStorage.getItem('bh.token'), tenant: sessionStorage.getItem('bh.tenant') || '', role: null };

  function headers() {
    const h = { authorization: 'Bearer ' + state.token };
    if (state.tenant) h['x-tenant-id'] = state.tenant;
    return h;
  }
  async function api(method, path) {
    const res = await fetch(path, { method, headers: headers() });
    const body = res.headers.get('content-type')?.includes('json') ? await res.json() : null;
    if (!res.ok) {
      const msg = body && body.message ? [].concat(body.message).join(', ') : res.statusText;
      const err = new Error(res.status + ': ' + msg);
      err.status = res.status;
      throw err;
    }
    return body;
  }
  function claims(token) {
    try { return JSON.parse(atob(token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/'))); } catch { return {}; }
  }
  function el(tag, text, cls) {
    const e = document.createElement(tag);
    if (text !== undefined) e.textContent = text;
    if (cls) e.className = cls;
    return e;
  }
  function fields(obj, changed) {
    const pre = el('pre');
    if (!obj) { pre.textContent = '-'; return pre; }
    for (const [k, v] of Object.entries(obj)) {
      const line = el('div', k + ': ' + JSON.stringify(v), changed.includes(k) ? 'changed' : '');
      line.dataset.field = k;
      pre.appendChild(line);
    }
    return pre;
  }

  async function verify() {
    const v = $('verify');
    v.className = ''; v.textContent = 'checking...';
    try {
      const r = await api('GET', '/audit/verify');
      v.className = r.valid ? 'ok' : 'broken';
      v.textContent = r.valid
        ? 'valid (' + r.checked + ' entries, head ' + r.digest.hash.slice(0, 12) + ')'
        : 'BROKEN at position ' + r.firstBrokenAt + ': ' + r.reason;
    } catch (e) { v.className = 'broken'; v.textContent = e.message; }
  }

  async function load() {
    $('error').textContent = '';
    const q = new URLSearchParams();
    if ($('entityType').value) q.set('entityType', $('entityType').value);
    if ($('entityId').value.trim()) q.set('entityId', $('entityId').value.trim());
    let entries;
    try { entries = await api('GET', '/audit' + (q.toString() ? '?' + q : '')); }
    catch (e) { $('error').textContent = e.message; return; }
    const tbody = $('entries');
    tbody.replaceChildren();
    $('empty').hidden = entries.length > 0;
    for (const e of entries.slice().reverse()) {
      const tr = el('tr');
      tr.dataset.entryId = e.id;
      tr.className = 'entry';
      tr.appendChild(el('td', e.position === null ? '(sealing)' : String(e.position)));
      tr.appendChild(el('td', new Date(e.occurredAt).toLocaleString()));
      tr.appendChild(el('td', (state.users[e.actor.id] || e.actor.id) + ' (' + e.actor.type + ')'));
      const what = el('td');
      what.appendChild(el('div', e.action + ' ' + e.entity, 'action'));
      what.appendChild(el('div', Object.values(e.entityId).join(', '), 'muted'));
      if (e.reverts) what.appendChild(el('div', 'reverts #' + e.reverts, 'muted'));
      tr.appendChild(what);
      const changed = e.changed || [];
      const before = el('td'); before.className = 'before'; before.appendChild(fields(e.before, changed));
      const after = el('td'); after.className = 'after'; after.appendChild(fields(e.after, changed));
      tr.appendChild(before); tr.appendChild(after);
      const actions = el('td');
      if (state.role === 'owner') {
        const b = el('button', 'Revert', 'revert');
        b.type = 'button';
        b.onclick = async () => {
          if (!confirm('Revert entry #' + e.id + '?')) return;
          try { await api('POST', '/audit/' + e.id + '/revert'); await load(); await verify(); }
          catch (err) { $('error').textContent = err.message; }
        };
        actions.appendChild(b);
      }
      tr.appendChild(actions);
      tbody.appendChild(tr);
    }
  }

  async function start() {
    const c = claims(state.token);
    state.users = {};
    let members;
    try { members = await api('GET', '/members'); }
    catch (e) {
      if (e.status === 401) return logout();
      $('login-error').textContent = e.status === 403 ? 'Only admins and owners can see the audit.' : e.message;
      return showLogin();
    }
    for (const m of members) state.users[m.userId] = m.email;
    const me = members.find((m) => m.userId === c.sub);
    state.role = me ? me.role : null;
    $('who').textContent = (state.users[c.sub] || c.sub) + ' - ' + (state.tenant || c.tid) + ' (' + state.role + ')';
    $('login').hidden = true; $('app').hidden = false; $('logout').hidden = false;
    await Promise.all([load(), verify()]);
  }
  function showLogin() { $('login').hidden = false; $('app').hidden = true; $('logout').hidden = true; $('who').textContent = ''; }
  function logout() {
    sessionStorage.removeItem('bh.token'); sessionStorage.removeItem('bh.tenant');
    state.token = null; state.tenant = ''; showLogin();
  }

  $('login').onsubmit = async (ev) => {
    ev.preventDefault();
    $('login-error').textContent = '';
    const res = await fetch('/auth/login', {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: $('email').value, password: $('password').value }),
    });
    if (!res.ok) { $('login-error').textContent = res.status === 401 ? 'Wrong e-mail or password.' : 'Sign-in failed (' + res.status + ').'; return; }
    state.token = (await res.json()).accessToken;
    state.tenant = $('tenant').value.trim();
    sessionStorage.setItem('bh.token', state.token); sessionStorage.setItem('bh.tenant', state.tenant);
    await start();
  };
  $('filter').onsubmit = (ev) => { ev.preventDefault(); void load(); };
  $('clear').onclick = () => { $('entityType').value = ''; $('entityId').value = ''; void load(); };
  $('reverify').onclick = () => void verify();
  $('logout').onclick = logout;
  if (state.token) void start(); else showLogin();
})();
</script>
</body>
</html>
`;
