// Audit Trail and Login History: filters, the list page by page, and the CSV download.
import { ApiError, errorText, get, qs } from './api.js';
import { announce, field, h, table } from './dom.js';
import { makeForm } from './forms.js';
import { fmtTime, has, t, tOr } from './i18n.js';
import { pagedList } from './list.js';
import { usersRolesHeader } from './tabs.js';

const AREAS = ['User', 'Role', 'Service', 'IP Restrictions', 'Web Services', 'Permission', 'Workspace', 'Denied'];
const ACTIONS = ['Create', 'Edit', 'Delete', 'Lock', 'Unlock', 'Change Password', 'Resend Invitation', 'Accept Invitation',
  'Reset Password', 'Forgot Password', 'Set Password', 'Rotate Secret', 'Edit Limits', 'Add', 'Remove', 'Enable', 'Disable'];
const PERIODS = ['1', '7', '30', '180', 'all'];

const iso = (d) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');
const sinceOf = (period) => (period === 'all' ? '' : iso(new Date(Date.now() - Number(period) * 86400000)));

const periodField = (value) => field({
  name: 'period', label: t('filter.period'), type: 'select', value,
  options: PERIODS.map((p) => ({ value: p, label: t(`filter.period.${p}`) })),
});

export function actorText(actor) {
  const a = String(actor || '');
  const i = a.indexOf(':');
  if (i < 0) return tOr(`audit.actor.${a}`, a);
  const kind = a.slice(0, i);
  const who = a.slice(i + 1);
  if (kind === 'user') return who;
  return has(`audit.actorKind.${kind}`) ? t(`audit.actorKind.${kind}`, { name: who }) : a;
}

function detailsCell(d) {
  if (d === null || d === undefined || d === '') return '';
  if (typeof d !== 'object') return String(d);
  const entries = Object.entries(d);
  if (!entries.length) return '';
  const show = (v) => (typeof v === 'string' ? v : JSON.stringify(v));
  const list = h('dl', { class: 'change' }, entries.map(([k, v]) => [h('dt', {}, k), h('dd', {}, show(v))]));
  const text = entries.map(([k, v]) => `${k}: ${show(v)}`).join('; ');
  if (text.length <= 80) return list;
  return h('details', {}, h('summary', {}, `${text.slice(0, 60)}…`), list);
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
        { key: 'address', label: t('audit.address'), cell: (r) => r.address || '—' },
        { key: 'area', label: t('audit.area'), cell: (r) => tOr(`audit.area.${r.area}`, r.area) },
        { key: 'action', label: t('audit.action'), cell: (r) => tOr(`audit.action.${r.action}`, r.action) },
        { key: 'target', label: t('audit.target'), cell: (r) => r.target || '' },
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
        { key: 'email', label: t('user.email'), cell: (r) => r.email },
        { key: 'address', label: t('audit.address'), cell: (r) => r.address || '—' },
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
