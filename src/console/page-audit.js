// Audit Trail and Login History: filters, the list page by page, and the CSV download.
import { ApiError, errorText, get, qs } from './api.js';
import { announce, field, h, table } from './dom.js';
import { makeForm } from './forms.js';
import { fmtDate, fmtTime, has, serverText, t, tOr, tParts } from './i18n.js';
import { pagedList } from './list.js';
import { usersRolesHeader } from './tabs.js';

// every area and action the server records (console-static.test.mjs reads the sources
// and checks that these lists and both dictionaries have them all)
const AREAS = ['User', 'Role', 'Service', 'IP Restrictions', 'Web Services', 'Email', 'Permission', 'Workspace', 'Token Keys', 'Denied'];
const ACTIONS = ['Create', 'Edit', 'Delete', 'Lock', 'Unlock', 'Change Password', 'Resend Invitation', 'Accept Invitation',
  'Reset Password', 'Forgot Password', 'Set Password', 'Rotate Secret', 'Edit Limits', 'Add', 'Remove', 'Enable', 'Disable',
  'Send', 'Give Up', 'Cancel', 'Rotate', 'Add Route', 'Delete Route', 'Import Routes'];
const PERIODS = ['1', '7', '30', '180', 'all'];

const iso = (d) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');
const sinceOf = (period) => (period === 'all' ? '' : iso(new Date(Date.now() - Number(period) * 86400000)));

const periodField = (value) => field({
  name: 'period', label: t('filter.period'), type: 'select', value,
  options: PERIODS.map((p) => ({ value: p, label: t(`filter.period.${p}`) })),
});

// who made a change: a person's email, or "Command line (root)", "API user …" — the
// names are data (translate="no"), the words around them ours
export function actorText(actor) {
  const a = String(actor || '');
  const i = a.indexOf(':');
  if (i < 0) return has(`audit.actor.${a}`) ? t(`audit.actor.${a}`) : h('span', { translate: 'no' }, a);
  const kind = a.slice(0, i);
  const who = h('span', { translate: 'no' }, a.slice(i + 1));
  if (kind === 'user') return who;
  return has(`audit.actorKind.${kind}`) ? h('span', {}, tParts(`audit.actorKind.${kind}`, { name: who })) : h('span', { translate: 'no' }, a);
}

/*
 * The change details: the server's snapshot of what changed. Its member names are ours
 * to translate (audit.detail.*); the values are the data as recorded (emails, names,
 * role and permission names, addresses), marked translate="no", except the few values
 * that are words of ours (true/false, never, a status, a kind of email, a time). Nested
 * objects (the changes, from/to) are nested lists.
 */
const detailKey = (k) => tOr(`audit.detail.${k}`, k);

/*
 * An event's action. A Denied event's action is what was attempted: "User Edit" (an
 * area and an action, each translated) or, for a console call the caller's roles do
 * not allow at all, the call itself ("PUT /admin/api/roles/3"), shown as it was made.
 */
export function actionText(area, action) {
  if (area === 'Denied') {
    if (/^[A-Z]+ \//.test(action)) return h('code', { translate: 'no' }, action);
    const m = /^(\w+) (.+)$/.exec(action);
    if (m && has(`audit.area.${m[1]}`))
      return t('audit.deniedAction', { area: t(`audit.area.${m[1]}`), action: tOr(`audit.action.${m[2]}`, m[2]) });
  }
  return tOr(`audit.action.${action}`, action);
}

function detailValue(k, v) {
  if (v === null || v === undefined || v === '') return h('span', { class: 'muted' }, '—');
  if (typeof v === 'boolean') return t(v ? 'common.yes' : 'common.no');
  if (v === 'never') return t('common.never');
  if (typeof v === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(v)) return /T00:00:00Z$/.test(v) ? fmtDate(v) : fmtTime(v);
  if (k === 'status' && has(`status.${v}`)) return t(`status.${v}`);
  if (k === 'kind' && has(`mail.kind.${v}`)) return t(`mail.kind.${v}`);
  if (k === 'caller' && has(`audit.caller.${v}`)) return t(`audit.caller.${v}`);
  if (k === 'attempted') return actionText('Denied', v);
  if (k === 'self' && has(`audit.self.${v}`)) return t(`audit.self.${v}`);
  if (k === 'style' && (v === 'plain' || v === 'marketo')) return t(v === 'plain' ? 'ws.routePlain' : 'ws.routeMarketo');
  // A refusal's sentence, in the page's language with its reason. It is ours, not data:
  // one without a translation is shown as it is, unmarked, so that german-words.test.mjs
  // finds it.
  if (k === 'message' && typeof v === 'string') return serverText(v) ?? v;
  if (Array.isArray(v)) {
    if (v.every((x) => x && typeof x === 'object' && 'role' in x && 'workspace' in x))
      return h('span', { translate: 'no' }, v.map((g) => `${g.role} (${g.workspace})`).join(', '));
    if (v.every((x) => typeof x !== 'object')) return h('span', { translate: 'no' }, v.join(', '));
  }
  if (typeof v === 'object') return changeList(v);
  return h('span', { translate: 'no' }, String(v));
}

const changeList = (d) => h('dl', { class: 'change' },
  Object.entries(d).map(([k, v]) => [h('dt', {}, detailKey(k)), h('dd', {}, detailValue(k, v))]));

function detailsCell(d) {
  if (d === null || d === undefined || d === '') return '';
  if (typeof d !== 'object') return h('span', { translate: 'no' }, String(d));
  const entries = Object.entries(d);
  if (!entries.length) return '';
  const list = changeList(d);
  if (JSON.stringify(d).length <= 100) return list;
  // the summary: the first entry, its value cut short
  const [k0, v0] = entries[0];
  const shown = typeof v0 === 'object' && v0 !== null ? '…' : String(v0).slice(0, 40);
  const first = h('span', {}, `${detailKey(k0)}: `, h('span', { translate: 'no' }, shown));
  return h('details', {}, h('summary', {}, tParts('audit.detailsSummary', { first, n: entries.length })), list);
}

// CSV: the server answers a page at a time (a Link header names the next one); the
// download joins them in the browser, so a six-month export never weighs on the server
const CSV_PAGE = 1000;

function nextLink(header) {
  const m = /<([^>]+)>\s*;\s*rel="next"/.exec(header || '');
  return m ? m[1] : null;
}

async function downloadCsv(link) {
  const parts = [];
  for (let url = link.getAttribute('href'); url;) {
    const r = await fetch(url, { credentials: 'same-origin', cache: 'no-store' });
    if (!r.ok) throw new ApiError(r.status, `http_${r.status}`, '');
    parts.push(await r.text());
    url = nextLink(r.headers.get('Link'));
  }
  const file = h('a', { href: URL.createObjectURL(new Blob(parts, { type: 'text/csv;charset=utf-8' })), download: link.getAttribute('download'), hidden: true });
  document.body.append(file);
  file.click();
  file.remove();
  setTimeout(() => URL.revokeObjectURL(file.href), 60000);
}

function csvLink(id, name) {
  const a = h('a', { class: 'button secondary', id, download: name }, t('filter.csv'));
  a.addEventListener('click', async (e) => {
    e.preventDefault();
    a.setAttribute('aria-busy', 'true');
    try {
      await downloadCsv(a);
      announce(t('filter.csvDone'));
    } catch (err) {
      announce(errorText(err));
    } finally {
      a.removeAttribute('aria-busy');
    }
  });
  return a;
}

export async function auditPage(page) {
  const csv = csvLink('audit-csv', 'audit-trail.csv');
  let filters = { since: sinceOf('7') };
  const list = pagedList({
    id: 'audit-list', key: 'events', countKey: 'audit.count',
    load: (after) => get(`/admin/api/audit${qs({ ...filters, after })}`),
    render: (rows) => {
      const tbl = table([
        { key: 'at', label: t('audit.when'), cell: (r) => h('span', { class: 'nowrap' }, fmtTime(r.at)) },
        { key: 'actor', label: t('audit.who'), cell: (r) => actorText(r.actor) },
        { key: 'address', label: t('audit.address'), data: true, cell: (r) => r.address || '—' },
        { key: 'area', label: t('audit.area'), cell: (r) => tOr(`audit.area.${r.area}`, r.area) },
        { key: 'action', label: t('audit.action'), cell: (r) => actionText(r.area, r.action) },
        { key: 'target', label: t('audit.target'), data: true, cell: (r) => r.target || '' },
        { key: 'details', label: t('audit.details'), cell: (r) => detailsCell(r.details) },
      ], rows, { caption: t('nav.audit'), empty: t('audit.empty') });
      tbl.querySelectorAll('tbody tr').forEach((tr, i) => {
        if (rows[i]) Object.assign(tr.dataset, { area: rows[i].area, action: rows[i].action, target: rows[i].target || '' });
      });
      return tbl;
    },
  });
  const load = () => {
    csv.href = `/admin/api/audit${qs({ ...filters, limit: CSV_PAGE, format: 'csv' })}`;
    return list.reload();
  };
  const form = makeForm({
    className: 'filters',
    fields: [
      periodField('7'),
      field({ name: 'area', label: t('audit.area'), type: 'select', value: '',
        options: [{ value: '', label: t('filter.all') }, ...AREAS.map((a) => ({ value: a, label: tOr(`audit.area.${a}`, a) }))] }),
      field({ name: 'actor', label: t('audit.user'), type: 'search', autocomplete: 'off' }),
      field({ name: 'action', label: t('audit.action'), type: 'select', value: '',
        options: [{ value: '', label: t('filter.all') }, ...ACTIONS.map((a) => ({ value: a, label: tOr(`audit.action.${a}`, a) }))] }),
    ],
    submitLabel: t('filter.apply'),
    extraActions: [csv],
    onSubmit: async (v) => {
      filters = { since: sinceOf(v.period), area: v.area, actor: v.actor, action: v.action };
      await load();
    },
  });
  page.append(h('h1', {}, t('nav.audit')), h('p', { class: 'intro' }, t('audit.intro')), form, list);
  await load();
}

export async function loginsPage(page) {
  usersRolesHeader(page, 'logins');
  const csv = csvLink('logins-csv', 'login-history.csv');
  let filters = { since: sinceOf('7') };
  const list = pagedList({
    id: 'login-list', key: 'logins', countKey: 'logins.count',
    load: (after) => get(`/admin/api/logins${qs({ ...filters, after })}`),
    render: (rows) => {
      const tbl = table([
        { key: 'at', label: t('audit.when'), cell: (r) => h('span', { class: 'nowrap' }, fmtTime(r.at)) },
        { key: 'email', label: t('user.email'), data: true, cell: (r) => r.email },
        { key: 'address', label: t('audit.address'), data: true, cell: (r) => r.address || '—' },
        { key: 'result', label: t('logins.result'), cell: (r) => h('span', { class: `badge ${r.success ? 'ok' : 'warn'}` }, t(r.success ? 'logins.success' : 'logins.failed')) },
        { key: 'reason', label: t('logins.reason'), cell: (r) => (r.reason ? tOr(`logins.reason.${r.reason}`, r.reason) : '') },
      ], rows, { caption: t('logins.tab'), empty: t('logins.empty') });
      tbl.querySelectorAll('tbody tr').forEach((tr, i) => {
        if (rows[i]) Object.assign(tr.dataset, { email: rows[i].email, success: String(Boolean(rows[i].success)) });
      });
      return tbl;
    },
  });
  const load = () => {
    csv.href = `/admin/api/logins${qs({ ...filters, limit: CSV_PAGE, format: 'csv' })}`;
    return list.reload();
  };
  const form = makeForm({
    className: 'filters',
    fields: [
      periodField('7'),
      field({ name: 'email', label: t('logins.email'), type: 'email', autocomplete: 'off' }),
      field({ name: 'failed', label: t('logins.failedOnly'), type: 'checkbox' }),
    ],
    submitLabel: t('filter.apply'),
    extraActions: [csv],
    onSubmit: async (v) => {
      filters = { since: sinceOf(v.period), email: v.email, failed: v.failed ? 1 : '' };
      await load();
    },
  });
  page.append(h('p', { class: 'intro' }, t('logins.intro')), form, list);
  await load();
}
