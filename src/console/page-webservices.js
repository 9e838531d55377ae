// Web Services: REST endpoint and Identity URLs, API calls of the last 7 days per API
// user (bar charts built as SVG), the IP allowlist, the limits, the gateway's routes
// (read-only), and the email queue.
import { del, get, post, put, qs } from './api.js';
import {
  announce, clear, clearErrors, field, formError, h, openDialog, secretBox, svg, table,
} from './dom.js';
import { showApiError, whenSubmitted } from './forms.js';
import { fmtDate, fmtDay, fmtNumber, fmtTime, t, tOr } from './i18n.js';
import { pagedList } from './list.js';

export async function webservicesPage(page) {
  const body = h('div', { class: 'ws' });
  page.append(h('h1', {}, t('nav.webservices')), body);
  let mailFilter = '';
  const reload = async () => {
    const [ws, mail] = await Promise.all([get('/admin/api/webservices'), get(`/admin/api/mail${qs({ status: mailFilter })}`)]);
    clear(body).append(
      endpoints(ws),
      usageSection(ws.usage || []),
      allowlistSection(ws.allowlist || { enabled: false, entries: [] }, reload),
      limitsSection(ws.limits || {}, reload),
      routesSection(ws.routes || []),
      mailSection(mail, mailFilter, (f) => { mailFilter = f; }));
  };
  await reload();
}

function section(id, titleKey, ...content) {
  return h('section', { class: 'panel', id, 'aria-labelledby': `${id}-h` }, h('h2', { id: `${id}-h` }, t(titleKey)), content);
}

function endpoints(ws) {
  return section('rest-api', 'ws.restApi',
    secretBox(t('ws.endpoint'), ws.restEndpoint, { id: 'rest-endpoint' }),
    secretBox(t('ws.identity'), ws.identityEndpoint, { id: 'identity-endpoint' }),
    h('p', { class: 'hint' }, t('ws.endpointHint')));
}

/* ------------------------------------------------------------ usage */

function usageSection(usage) {
  const total = usage.reduce((a, d) => a + (d.total || 0), 0);
  const perUser = new Map();
  for (const d of usage) for (const u of d.users || []) perUser.set(u.userId, (perUser.get(u.userId) || 0) + u.count);
  const rows = [...perUser.entries()].sort((a, b) => b[1] - a[1]).map(([userId, count]) => ({ userId, count }));
  const max = Math.max(1, ...rows.map((r) => r.count));
  const bar = (count) => {
    const w = 200;
    const len = Math.max(count > 0 ? 2 : 0, Math.round((count / max) * w));
    return svg('svg', { class: 'bar', width: w, height: 14, viewBox: `0 0 ${w} 14`, 'aria-hidden': 'true', focusable: 'false' },
      svg('rect', { x: 0, y: 0, width: w, height: 14, class: 'bar-bg' }),
      svg('rect', { x: 0, y: 0, width: len, height: 14, class: 'bar-fg' }));
  };
  const userTable = table([
    { key: 'user', label: t('ws.apiUser'), data: true, cell: (r) => r.userId },
    { key: 'calls', label: t('ws.calls'), class: 'num', cell: (r) => fmtNumber(r.count) },
    { key: 'bar', label: t('ws.share'), cell: (r) => bar(r.count) },
  ], rows, { caption: t('ws.perUser'), empty: t('ws.noCalls') });
  userTable.querySelectorAll('tbody tr').forEach((tr, i) => { if (rows[i]) tr.dataset.user = rows[i].userId; });
  return section('api-calls', 'ws.callInfo',
    h('p', { class: 'big-number', id: 'calls-7d' }, t('ws.requests7d', { n: fmtNumber(total) })),
    dayChart(usage),
    h('h3', { class: 'subhead' }, t('ws.perUser')),
    userTable);
}

// one column per day, labelled; the numbers are in the <title>s and the aria-label
function dayChart(usage) {
  const W = 560;
  const H = 160;
  const pad = 24;
  const n = Math.max(usage.length, 1);
  const colW = (W - pad) / n;
  const max = Math.max(1, ...usage.map((d) => d.total || 0));
  const label = usage.map((d) => `${fmtDate(d.date)}: ${fmtNumber(d.total || 0)}`).join('; ');
  const chart = svg('svg', { class: 'day-chart', viewBox: `0 0 ${W} ${H + 36}`, role: 'img', 'aria-label': `${t('ws.perDay')}: ${label}` },
    svg('line', { x1: pad / 2, y1: H, x2: W, y2: H, class: 'axis' }));
  usage.forEach((d, i) => {
    const v = d.total || 0;
    const bh = v ? Math.max(2, Math.round((v / max) * (H - 20))) : 0;
    const x = pad / 2 + i * colW + colW * 0.15;
    const g = svg('g', {}, svg('title', { text: `${fmtDate(d.date)}: ${fmtNumber(v)}` }),
      svg('rect', { x, y: H - bh, width: colW * 0.7, height: bh, class: 'bar-fg' }),
      svg('text', { x: x + colW * 0.35, y: H - bh - 4, 'text-anchor': 'middle', class: 'bar-value', text: fmtNumber(v) }),
      svg('text', { x: x + colW * 0.35, y: H + 16, 'text-anchor': 'middle', class: 'bar-label', text: fmtDay(d.date) }));
    chart.append(g);
  });
  return h('figure', { class: 'chart' }, chart, h('figcaption', {}, t('ws.perDay')));
}

/* ------------------------------------------------------------ IP allowlist */

function allowlistSection(al, reload) {
  const edit = h('button', { type: 'button', class: 'secondary', id: 'edit-allowlist' }, t('ws.editIp'));
  edit.addEventListener('click', () => allowlistDialog(al, reload));
  return section('ip-restrictions', 'ws.ipTitle',
    h('p', { id: 'ip-status', class: `badge ${al.enabled ? 'ok' : 'info'}` }, t(al.enabled ? 'ws.ipEnabled' : 'ws.ipDisabled')),
    h('p', { class: 'hint' }, t('ws.ipHint')),
    al.entries.length
      ? h('ul', { class: 'cidr-list', id: 'ip-list' }, al.entries.map((c) => h('li', {}, h('code', { translate: 'no' }, c))))
      : h('p', { id: 'ip-list', class: 'empty' }, t('ws.ipEmpty')),
    h('div', { class: 'toolbar' }, edit));
}

function allowlistDialog(al, reload) {
  const enabled = field({ name: 'enabled', label: t('ws.ipEnable'), type: 'checkbox', value: al.enabled });
  const entries = field({ name: 'cidr', label: t('ws.ipEntries'), type: 'textarea', rows: 6, value: al.entries.join('\n'), hint: t('ws.ipEntriesHint') });
  const err = formError();
  const save = h('button', { type: 'submit', class: 'primary' }, t('action.save'));
  const cancel = h('button', { type: 'button', class: 'secondary' }, t('action.cancel'));
  const dlg = openDialog({
    title: t('ws.editIp'), form: true,
    body: [enabled, entries, h('p', { class: 'hint' }, t('ws.ipHint')), err], actions: [cancel, save],
  });
  cancel.addEventListener('click', () => dlg.close());
  dlg.form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(dlg.form);
    const wanted = entries.input.value.split(/[\s,]+/).map((s) => s.trim()).filter(Boolean);
    let current = al.entries.slice();
    save.disabled = true;
    try {
      // entries are kept in canonical form, always with a prefix ("127.0.0.1/32")
      const norm = (c) => {
        const x = c.toLowerCase();
        return x.includes('/') ? x : `${x}/${x.includes(':') ? 128 : 32}`;
      };
      const keep = new Set();
      for (const c of wanted) {
        if (current.map(norm).includes(norm(c))) { keep.add(norm(c)); continue; }
        const before = current;
        const r = await post('/admin/api/allowlist', { cidr: c });
        current = r.entries;
        const added = current.filter((x) => !before.includes(x));
        for (const x of (added.length ? added : [c])) keep.add(norm(x));
      }
      for (const c of current) {
        if (keep.has(norm(c))) continue;
        const r = await del(`/admin/api/allowlist?cidr=${encodeURIComponent(c)}`);
        current = r.entries;
      }
      if (enabled.input.checked !== al.enabled) await put('/admin/api/allowlist', { enabled: enabled.input.checked });
      dlg.close();
      announce(t('ws.ipSaved'));
      await reload();
    } catch (e) {
      showApiError(dlg.form, e, { cidr: 'cidr', enabled: 'enabled' });
      // what did change stays changed: the page behind shows it
      al.entries = current;
      reload().catch(() => {});
    } finally {
      save.disabled = false;
    }
  });
}

/* ------------------------------------------------------------ limits */

function limitText(n, key) {
  return n ? t(key, { n: fmtNumber(n) }) : t('ws.noLimit');
}

function limitsSection(l, reload) {
  const edit = h('button', { type: 'button', class: 'secondary', id: 'edit-limits' }, t('ws.editLimits'));
  edit.addEventListener('click', () => limitsDialog(l, reload));
  return section('limits', 'ws.limits',
    h('dl', { class: 'details', id: 'limits-list' },
      h('dt', {}, t('ws.rate')), h('dd', { dataset: { limit: 'rate' } },
        l.rateCalls ? t('ws.rateValue', { n: fmtNumber(l.rateCalls), s: fmtNumber(l.rateSeconds) }) : t('ws.noLimit')),
      h('dt', {}, t('ws.daily')), h('dd', { dataset: { limit: 'daily' } }, limitText(l.daily, 'ws.dailyValue')),
      h('dt', {}, t('ws.concurrent')), h('dd', { dataset: { limit: 'concurrent' } }, limitText(l.concurrent, 'ws.concurrentValue'))),
    h('p', { class: 'hint' }, t('ws.limitsHint')),
    h('div', { class: 'toolbar' }, edit));
}

function limitsDialog(l, reload) {
  const num = (name, label, value, hint) => field({ name, label, type: 'number', required: true, value: String(value ?? 0), hint, attrs: { min: '0', step: '1', inputmode: 'numeric' } });
  const err = formError();
  const save = h('button', { type: 'submit', class: 'primary' }, t('action.save'));
  const cancel = h('button', { type: 'button', class: 'secondary' }, t('action.cancel'));
  const dlg = openDialog({
    title: t('ws.editLimits'), form: true,
    body: [
      h('div', { class: 'row2' },
        num('rateCalls', t('ws.rateCalls'), l.rateCalls),
        num('rateSeconds', t('ws.rateSeconds'), l.rateSeconds || 20)),
      num('daily', t('ws.daily'), l.daily, t('ws.zeroNoLimit')),
      num('concurrent', t('ws.concurrent'), l.concurrent, t('ws.zeroNoLimit')),
      err],
    actions: [cancel, save],
  });
  cancel.addEventListener('click', () => dlg.close());
  whenSubmitted(dlg.form, save, async (v) => {
    await put('/admin/api/limits', {
      rate: Number(v.rateCalls) ? `${Number(v.rateCalls)}/${Number(v.rateSeconds)}` : '0',
      daily: Number(v.daily), concurrent: Number(v.concurrent),
    });
    dlg.close();
    announce(t('ws.limitsSaved'));
    await reload();
  }, { fieldMap: { rate: 'rateCalls' } });
}

/* ------------------------------------------------------------ the gateway's routes */

// read-only: the table is managed with `latchkey route` (docs/gateway.md)
function routesSection(routes) {
  const perms = (r) => (r.permissions.length
    ? h('span', {}, r.permissions.map((p, i) => [i ? ` ${t('ws.routeOr')} ` : '', h('span', { class: 'perm', translate: 'no' }, p)]))
    : h('span', { class: 'perm-none' }, t('ws.routeNone')));
  const tbl = table([
    { key: 'method', label: t('ws.routeMethod'), cell: (r) => h('code', { translate: 'no' }, r.method === '*' ? t('ws.routeAny') : r.method) },
    { key: 'pattern', label: t('ws.routePattern'), data: true, cell: (r) => h('code', { translate: 'no' }, r.pattern) },
    { key: 'permission', label: t('ws.routePermission'), cell: perms },
    { key: 'style', label: t('ws.routeStyle'), cell: ({ style }) => t(style === 'plain' ? 'ws.routePlain' : 'ws.routeMarketo') },
  ], routes, { caption: t('ws.routesTitle'), empty: t('ws.routesEmpty') });
  tbl.querySelectorAll('tbody tr').forEach((tr, i) => {
    if (routes[i]) Object.assign(tr.dataset, { method: routes[i].method, pattern: routes[i].pattern });
  });
  const sec = section('gateway-routes', 'ws.routesTitle',
    h('p', { class: 'hint' }, t('ws.routesHint')),
    h('p', { class: 'hint' }, t('ws.routesCli'), ' ', h('code', { translate: 'no' }, 'latchkey route add'), ' · ',
      h('code', { translate: 'no' }, 'latchkey route import marketo')),
    tbl);
  sec.classList.add('panel-wide');
  return sec;
}

/* ------------------------------------------------------------ email */

const MAIL_STATUSES = ['queued', 'sent', 'failed', 'cancelled'];
const mailStatusClass = { queued: 'info', sent: 'ok', failed: 'warn', cancelled: 'info' };

// where mail goes (SMTP server or outbox folder), the sender, and the newest messages
// with their state; the status filter and Refresh reload only the list
function mailSection(mail, filter, setFilter) {
  const outbox = mail.transport !== 'smtp';
  const statusSel = h('select', { id: 'mail-status', name: 'status' },
    h('option', { value: '', selected: filter === '' }, t('filter.all')),
    MAIL_STATUSES.map((st) => h('option', { value: st, selected: filter === st }, t(`mail.status.${st}`))));
  const refresh = h('button', { type: 'button', class: 'secondary', id: 'mail-refresh' }, t('mail.refresh'));
  const search = h('input', { type: 'search', id: 'mail-search', name: 'q', autocomplete: 'off' });
  const searchForm = h('form', { class: 'toolbar-search', role: 'search' },
    h('label', { for: 'mail-search' }, t('mail.search')), search,
    h('button', { type: 'submit', class: 'secondary' }, t('action.search')));
  // the first page came with the section's data; the pager asks for the others
  let firstLoad = mail;
  const list = pagedList({
    id: 'mail-list', countId: 'mail-count', key: 'messages', countKey: 'mail.count',
    load: async (after) => {
      if (firstLoad && !after) {
        const m = firstLoad;
        firstLoad = null;
        return m;
      }
      return get(`/admin/api/mail${qs({ status: statusSel.value, q: search.value.trim(), after })}`);
    },
    render: mailTable,
  });
  const load = async () => {
    refresh.disabled = true;
    try {
      await list.reload();
    } finally {
      refresh.disabled = false;
    }
  };
  statusSel.addEventListener('change', () => {
    setFilter(statusSel.value);
    load();
  });
  refresh.addEventListener('click', () => load());
  searchForm.addEventListener('submit', (e) => {
    e.preventDefault();
    load();
  });
  list.reload();
  const sec = section('email', 'mail.title',
    h('p', { class: 'hint' }, t('mail.intro')),
    h('dl', { class: 'details', id: 'mail-transport' },
      h('dt', {}, t('mail.transport')), h('dd', { dataset: { mail: 'transport' } }, t(outbox ? 'mail.transport.outbox' : 'mail.transport.smtp')),
      h('dt', {}, t(outbox ? 'mail.folder' : 'mail.server')), h('dd', { dataset: { mail: 'target' } }, h('code', { translate: 'no' }, mail.target || '')),
      h('dt', {}, t('mail.from')), h('dd', { dataset: { mail: 'from' }, translate: 'no' }, mail.from || '')),
    outbox ? h('p', { class: 'notice', id: 'mail-outbox-note' }, t('mail.outboxHint')) : null,
    h('h3', { class: 'subhead' }, t('mail.queue')),
    h('div', { class: 'toolbar' },
      h('div', { class: 'toolbar-search' }, h('label', { for: 'mail-status' }, t('user.status')), statusSel),
      searchForm, refresh),
    list);
  sec.classList.add('panel-wide');
  return sec;
}

function mailTable(messages) {
  const cols = [
    { key: 'created', label: t('mail.created'), cell: (m) => h('span', { class: 'nowrap' }, fmtTime(m.createdAt)) },
    { key: 'kind', label: t('mail.kind'), cell: (m) => tOr(`mail.kind.${m.kind}`, m.kind) },
    { key: 'to', label: t('mail.to'), data: true, cell: (m) => m.to },
    {
      key: 'status', label: t('user.status'),
      cell: (m) => h('span', { class: `badge ${mailStatusClass[m.status] || 'info'}`, dataset: { status: m.status } }, tOr(`mail.status.${m.status}`, m.status)),
    },
    { key: 'attempts', label: t('mail.attempts'), class: 'num', cell: (m) => fmtNumber(m.attempts || 0) },
    {
      key: 'when', label: t('mail.when'),
      cell: (m) => (m.status === 'queued' && m.nextAttemptAt ? t('mail.nextAt', { when: fmtTime(m.nextAttemptAt) }) : fmtTime(m.doneAt)),
    },
    {
      // what the SMTP server said or where the file went: the server's words, not ours
      key: 'details', label: t('mail.details'), data: true,
      cell: (m) => (m.lastError ? h('span', { class: 'mail-error' }, m.lastError) : h('span', { class: 'mail-delivery' }, m.delivery || '')),
    },
  ];
  const tbl = table(cols, messages, { caption: t('mail.queue'), empty: t('mail.empty') });
  tbl.querySelectorAll('tbody tr').forEach((tr, i) => {
    const m = messages[i];
    if (m) Object.assign(tr.dataset, { mailId: String(m.id), to: m.to, kind: m.kind, status: m.status });
  });
  return tbl;
}
