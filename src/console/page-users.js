// Users & Roles → Users: the list, search, Invite New User (three steps), Edit,
// Lock/Unlock, Delete, and the emails: Resend/Delete Invitation, Reset Password.
import { ApiError, del, errorText, get, post, put, qs } from './api.js';
import {
  announce, clear, clearErrors, confirmDialog, field, formError, h, nextId, openDialog, table,
} from './dom.js';
import { checkFields, dateField, dateInput, minExpiryDate, showApiError, values, whenSubmitted } from './forms.js';
import { currentLang, fmtDate, fmtTime, t, tOr } from './i18n.js';
import { pagedList } from './list.js';
import { P, can, state } from './state.js';
import { usersRolesHeader } from './tabs.js';

const STEP1 = ['email', 'firstName', 'lastName', 'reason', 'expiresAt'];

// the filters of the list, as the page's hash carries them (#/users?role=3): a
// link from the Roles page shows a role's holders
const FILTERS = ['q', 'apiOnly', 'status', 'role'];

export async function usersPage(page) {
  usersRolesHeader(page, 'users');
  const params = new URLSearchParams(location.hash.split('?')[1] || '');
  const [roles, workspaces] = await Promise.all([get('/admin/api/roles'), get('/admin/api/workspaces')]);
  let meta = { roles, workspaces: withAllZones(workspaces) };
  const search = h('input', { type: 'search', id: 'user-search', name: 'q', value: params.get('q') || '', autocomplete: 'off' });
  const choice = (id, name, label, options) => {
    const sel = h('select', { id, name },
      options.map(([v, text]) => h('option', { value: v, selected: v === (params.get(name) || '') }, text)));
    return [h('label', { for: id }, label), sel];
  };
  const [apiLabel, apiSel] = choice('user-api-only', 'apiOnly', t('user.apiOnly'),
    [['', t('filter.all')], ['true', t('users.filter.apiOnly')], ['false', t('users.filter.people')]]);
  const [statusLabel, statusSel] = choice('user-status', 'status', t('user.status'),
    [['', t('filter.all')], ...['pending', 'active', 'locked'].map((st) => [st, t(`status.${st}`)])]);
  const [roleLabel, roleSel] = choice('user-role', 'role', t('users.filter.role'),
    [['', t('filter.all')], ...roles.map((r) => [String(r.id), r.name])]);
  const searchForm = h('form', { class: 'toolbar-search', role: 'search' },
    h('label', { for: 'user-search' }, t('users.search')), search,
    apiLabel, apiSel, statusLabel, statusSel, roleLabel, roleSel,
    h('button', { type: 'submit', class: 'secondary' }, t('action.search')));
  const filters = () => ({ q: search.value.trim(), apiOnly: apiSel.value, status: statusSel.value, role: roleSel.value });
  let list = null;
  const refresh = () => list.refresh();
  list = pagedList({
    id: 'user-list', key: 'users', countKey: 'users.count',
    load: (after) => get(`/admin/api/users${qs({ ...filters(), after })}`),
    render: (users) => usersTable(users, meta, refresh),
  });
  const apply = () => {
    const f = filters();
    history.replaceState(null, '', `#/users${qs(Object.fromEntries(FILTERS.map((k) => [k, f[k]])))}`);
    return list.reload();
  };
  searchForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    await apply();
  });
  for (const sel of [apiSel, statusSel, roleSel]) sel.addEventListener('change', () => apply());
  const invite = h('button', { type: 'button', class: 'primary', id: 'invite-user' }, t('invite.button'));
  invite.addEventListener('click', async () => {
    meta = { roles: await get('/admin/api/roles'), workspaces: withAllZones(await get('/admin/api/workspaces')) };
    inviteDialog(meta, refresh);
  });
  page.append(h('div', { class: 'toolbar' }, invite, searchForm), list);
  await list.reload();
}

export function withAllZones(workspaces) {
  const list = Array.isArray(workspaces) ? workspaces.slice() : [];
  if (!list.some((w) => Number(w.id) === 0)) list.unshift({ id: 0, name: 'AllZones' });
  return list;
}

export const workspaceName = (w) => (Number(w.id) === 0 ? t('workspace.all') : w.name);
// a role's option: roles with an Access API permission are marked, as an API-only user needs one
export const roleLabel = (r) => (r.hasApiPermission ? t('invite.roleWithApi', { name: r.name }) : r.name);

export function statusBadge(u) {
  const cls = { active: 'ok', pending: 'info', locked: 'warn' }[u.status] || 'info';
  return h('span', { class: `badge ${cls}`, dataset: { status: u.status } }, t(`status.${u.status}`),
    u.status === 'locked' && u.lockedReason ? h('span', { class: 'badge-note' }, ` (${tOr(`lockReason.${u.lockedReason}`, u.lockedReason)})`) : null);
}

// "Admin (All workspaces), API Only (Default)": AllZones by its short name, so that no
// bracket sits inside another
export const grantsText = (roles) => (roles || []).map((g) => `${g.role} (${Number(g.workspaceId) === 0 ? t('workspace.allShort') : g.workspace})`).join(', ');

function usersTable(users, meta, reload) {
  const me = state.session.user.email.toLowerCase();
  const cols = [
    { key: 'email', label: t('user.email'), data: true, cell: (u) => h('span', { class: 'nowrap' }, u.email) },
    { key: 'name', label: t('user.name'), data: true, cell: (u) => `${u.firstName} ${u.lastName}` },
    { key: 'apiOnly', label: t('user.apiOnly'), cell: (u) => (u.apiOnly ? h('span', { class: 'badge api' }, t('common.yes')) : t('common.no')) },
    { key: 'roles', label: t('user.roles'), cell: (u) => grantsText(u.roles) },
    { key: 'status', label: t('user.status'), cell: statusBadge },
    { key: 'expires', label: t('user.expiresAt'), cell: (u) => (u.expiresAt ? fmtDate(u.expiresAt) : t('common.never')) },
    { key: 'lastLogin', label: t('user.lastLogin'), cell: (u) => (u.apiOnly ? t('common.notApplicable') : (u.lastLoginAt ? fmtTime(u.lastLoginAt) : t('common.never'))) },
    {
      key: 'actions', label: t('common.actions'), class: 'actions',
      cell: (u) => rowActions(u, u.email.toLowerCase() === me, meta, reload),
    },
  ];
  const tbl = table(cols, users, { caption: t('users.tab'), empty: t('users.empty'), stack: true });
  // mark rows with the user's email (tests and deep links find them by it)
  tbl.querySelectorAll('tbody tr').forEach((tr, i) => { if (users[i]) tr.dataset.email = users[i].email; });
  return tbl;
}

// the buttons of a row: what may be done to this user in its state
function rowActions(u, isMe, meta, reload) {
  const btn = (action, cls, label, fn) => h('button', { type: 'button', class: `${cls} small`, dataset: { action }, onclick: fn }, label);
  if (u.status === 'pending') {
    // a person who has not accepted yet: only the invitation can be dealt with
    return h('div', { class: 'row-actions' },
      btn('resend', 'secondary', t('users.resend'), () => resendDialog(u, reload)),
      btn('delete-invitation', 'danger', t('users.deleteInvitation'), () => deleteInvitation(u, reload)));
  }
  return h('div', { class: 'row-actions' },
    btn('edit', 'secondary', t('action.edit'), () => editDialog(u, meta, reload)),
    u.status === 'locked'
      ? btn('unlock', 'secondary', t('users.unlock'), () => unlockDialog(u, reload))
      : (u.status === 'active' && !isMe ? btn('lock', 'secondary', t('users.lock'), () => lockDialog(u, reload)) : null),
    u.status === 'active' && !u.apiOnly && !isMe
      ? btn('reset-password', 'secondary', t('users.resetPassword'), () => resetPassword(u, reload)) : null,
    !isMe ? btn('delete', 'danger', t('action.delete'), () => deleteUser(u, reload)) : null);
}

/* ------------------------------------------------------------ roles per workspace */

// rows of (role, workspace) with add/remove; .get() → [{roleId, workspaceId}]
function grantsEditor(roles, workspaces, initial) {
  const rowsBox = h('div', { class: 'grant-rows' });
  const wrap = h('fieldset', { class: 'field grants', dataset: { field: 'grants' } },
    h('legend', {}, t('invite.roles')),
    h('p', { class: 'hint' }, t('invite.rolesHint')),
    rowsBox);
  const addRow = (g = {}) => {
    const rid = nextId('grant-role');
    const wid = nextId('grant-ws');
    const roleSel = h('select', { id: rid, dataset: { grant: 'role' } },
      h('option', { value: '' }, t('invite.chooseRole')),
      roles.map((r) => h('option', { value: r.id, selected: Number(g.roleId) === Number(r.id) }, roleLabel(r))));
    const wsSel = h('select', { id: wid, dataset: { grant: 'workspace' } },
      workspaces.map((w) => h('option', { value: w.id, selected: Number(g.workspaceId ?? 0) === Number(w.id) }, workspaceName(w))));
    const syncWs = () => {
      const r = roles.find((x) => String(x.id) === roleSel.value);
      if (r && r.onlyAllZones) {
        wsSel.value = '0';
        wsSel.disabled = true;
      } else wsSel.disabled = false;
    };
    roleSel.addEventListener('change', syncWs);
    syncWs();
    const remove = h('button', { type: 'button', class: 'secondary small', 'aria-label': t('invite.removeRole') }, t('action.remove'));
    const row = h('div', { class: 'grant-row' },
      h('div', { class: 'field' }, h('label', { for: rid }, t('invite.role')), roleSel),
      h('div', { class: 'field' }, h('label', { for: wid }, t('invite.workspace')), wsSel),
      remove);
    remove.addEventListener('click', () => {
      row.remove();
      if (!rowsBox.children.length) addRow();
    });
    rowsBox.append(row);
    return row;
  };
  const addBtn = h('button', { type: 'button', class: 'secondary small', id: nextId('add-role') }, t('invite.addRole'));
  addBtn.addEventListener('click', () => addRow().querySelector('select').focus());
  const err = h('p', { class: 'field-error', hidden: true });
  wrap.append(addBtn, err);
  for (const g of initial.length ? initial : [{}]) addRow(g);
  // does the chosen set include a role with an Access API permission?
  wrap.hasApiRole = () => [...rowsBox.querySelectorAll('[data-grant=role]')]
    .some((sel) => roles.some((r) => String(r.id) === sel.value && r.hasApiPermission));
  wrap.get = () => {
    const out = [];
    const seen = new Set();
    for (const row of rowsBox.querySelectorAll('.grant-row')) {
      const roleId = row.querySelector('[data-grant=role]').value;
      if (!roleId) continue;
      const workspaceId = Number(row.querySelector('[data-grant=workspace]').value);
      const k = `${roleId}@${workspaceId}`;
      if (seen.has(k)) continue;
      seen.add(k);
      out.push({ roleId: Number(roleId), workspaceId });
    }
    return out;
  };
  return wrap;
}

function showGrantsError(editor, msg) {
  const err = editor.querySelector(':scope > .field-error');
  err.textContent = msg;
  err.hidden = false;
  editor.querySelector('select')?.focus();
}

const userInfoFields = (u = {}) => [
  field({ name: 'email', label: t('user.email'), type: 'email', required: true, value: u.email, autocomplete: 'off' }),
  h('div', { class: 'row2' },
    field({ name: 'firstName', label: t('user.firstName'), required: true, value: u.firstName, autocomplete: 'off' }),
    field({ name: 'lastName', label: t('user.lastName'), required: true, value: u.lastName, autocomplete: 'off' })),
  field({ name: 'reason', label: t('user.reason'), value: u.reason, hint: t('user.reasonHint') }),
  // an expiry lies in the future: the field says from when, and step 1 checks it
  dateField({ name: 'expiresAt', label: t('user.expiresAt'), value: dateInput(u.expiresAt), hint: t('user.expiresHint'), min: minExpiryDate() }),
];

// an API-only user needs a role with an Access API permission (the core's rule, checked
// here before the server is asked, with the roles that qualify marked in the list)
function checkApiRoles(grants, apiOnly) {
  if (!apiOnly || grants.hasApiRole()) return true;
  showGrantsError(grants, t('invite.apiRoleRequired'));
  return false;
}

/* ------------------------------------------------------------ Invite New User */

function inviteDialog(meta, reload) {
  const roles = meta.roles;
  const steps = [
    h('section', { class: 'step', dataset: { step: '1' } }, userInfoFields()),
    null, null,
  ];
  const grants = grantsEditor(roles, meta.workspaces, []);
  const apiOnly = field({ name: 'apiOnly', label: t('user.apiOnly'), type: 'checkbox', hint: t('invite.apiOnlyHint') });
  apiOnly.input.addEventListener('change', () => clearErrors(grants));
  steps[1] = h('section', { class: 'step', dataset: { step: '2' }, hidden: true }, grants, apiOnly);
  const message = field({ name: 'message', label: t('invite.message'), type: 'textarea', rows: 6 });
  const noInvite = h('p', { class: 'notice', id: 'no-invitation' }, t('invite.noInvitation'));
  steps[2] = h('section', { class: 'step', dataset: { step: '3' }, hidden: true }, message, noInvite);
  const stepLabel = h('p', { class: 'step-label', 'aria-live': 'polite' });
  const err = formError();
  const back = h('button', { type: 'button', class: 'secondary' }, t('action.back'));
  const cancel = h('button', { type: 'button', class: 'secondary' }, t('action.cancel'));
  const next = h('button', { type: 'submit', class: 'primary', dataset: { role: 'next' } }, t('action.next'));
  const dlg = openDialog({
    title: t('invite.title'), wide: true, form: true,
    body: [stepLabel, ...steps, err], actions: [cancel, back, next],
  });
  const form = dlg.form;
  let step = 0;
  let messageTouched = false;
  message.input.addEventListener('input', () => { messageTouched = true; });
  const show = (n) => {
    step = n;
    steps.forEach((s, i) => { s.hidden = i !== n; });
    back.hidden = n === 0;
    next.textContent = n === 2 ? t('invite.send') : t('action.next');
    stepLabel.textContent = t('invite.step', { n: n + 1, of: 3, name: t(`invite.step${n + 1}`) });
    if (n === 2) {
      const isApi = apiOnly.input.checked;
      message.hidden = isApi;
      noInvite.hidden = !isApi;
      if (!isApi && !messageTouched) {
        const v = values(steps[0]);
        message.input.value = t('invite.defaultMessage', { name: v.firstName, admin: `${state.session.user.firstName} ${state.session.user.lastName}` });
      }
    }
    const first = steps[n].querySelector('input:not([type=checkbox]), select, textarea');
    if (n === 2) next.focus();
    else if (first) first.focus();
  };
  cancel.addEventListener('click', () => dlg.close());
  back.addEventListener('click', () => { clearErrors(form); show(step - 1); });
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    if (step === 0) {
      if (checkFields(steps[0])) show(1);
      return;
    }
    if (step === 1) {
      if (grants.get().length === 0) showGrantsError(grants, t('error.roleRequired'));
      else if (checkApiRoles(grants, apiOnly.input.checked)) show(2);
      return;
    }
    const v = values(steps[0]);
    const body = {
      email: v.email, firstName: v.firstName, lastName: v.lastName, reason: v.reason,
      expiresAt: v.expiresAt || null, apiOnly: apiOnly.input.checked, grants: grants.get(),
    };
    // the invitee's email is written in the language the admin is using
    if (!body.apiOnly) Object.assign(body, { message: message.input.value, lang: currentLang() });
    next.disabled = true;
    try {
      const res = await post('/admin/api/users', body);
      await reload();
      if (res.invitation) invitationSent(dlg, res.invitation);
      else {
        dlg.close();
        announce(t('invite.createdApi', { email: res.user.email }));
      }
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) return;
      const f = e instanceof ApiError ? e.field : '';
      if (STEP1.includes(f)) show(0);
      else if (['grants', 'roleId', 'workspaceId', 'apiOnly', 'roles'].includes(f)) {
        show(1);
        showGrantsError(grants, errorText(e));
        return;
      }
      showApiError(form, e);
    } finally {
      next.disabled = false;
    }
  });
  show(0);
}

// the link itself is only in the email (the server never shows it): where it went and how long it works
function invitationSent(dlg, inv) {
  dlg.titleEl.textContent = t('invite.sentTitle');
  clear(dlg.body).append(
    h('p', { class: 'notice ok', role: 'status', id: 'invitation-sent' }, t('invite.sent', { email: inv.email })),
    h('p', { id: 'invitation-expires' }, t('invite.validUntil', { when: fmtTime(inv.expiresAt) })),
    h('p', { class: 'hint' }, t('invite.pendingNote')));
  const done = h('button', { type: 'button', class: 'primary' }, t('action.done'));
  done.addEventListener('click', () => dlg.close());
  clear(dlg.actions).append(done);
  done.focus();
}

/* ------------------------------------------------------------ Edit, Lock, Unlock, Delete */

function editDialog(u, meta, reload) {
  const grants = grantsEditor(meta.roles, meta.workspaces, (u.roles || []).map((g) => ({ roleId: g.roleId, workspaceId: g.workspaceId })));
  const err = formError();
  const save = h('button', { type: 'submit', class: 'primary' }, t('action.save'));
  const cancel = h('button', { type: 'button', class: 'secondary' }, t('action.cancel'));
  const dlg = openDialog({
    title: t('users.editTitle', { email: u.email }), wide: true, form: true,
    body: [
      u.apiOnly ? h('p', { class: 'notice' }, t('users.isApiOnly')) : null,
      ...userInfoFields(u), grants, err],
    actions: [cancel, save],
  });
  cancel.addEventListener('click', () => dlg.close());
  dlg.form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(dlg.form);
    if (!checkFields(dlg.form)) return;
    const g = grants.get();
    if (g.length === 0) {
      showGrantsError(grants, t('error.roleRequired'));
      return;
    }
    if (!checkApiRoles(grants, u.apiOnly)) return;
    const v = values(dlg.form);
    const body = {};
    for (const k of ['email', 'firstName', 'lastName', 'reason']) if (v[k] !== (u[k] ?? '')) body[k] = v[k];
    if (v.expiresAt !== dateInput(u.expiresAt)) body.expiresAt = v.expiresAt || null;
    const old = (u.roles || []).map((x) => `${x.roleId}@${x.workspaceId}`).sort().join(',');
    if (g.map((x) => `${x.roleId}@${x.workspaceId}`).sort().join(',') !== old) body.grants = g;
    save.disabled = true;
    try {
      if (Object.keys(body).length) await put(`/admin/api/users/${u.id}`, body);
      dlg.close();
      announce(t('users.saved', { email: v.email }));
      await reload();
    } catch (e) {
      if (e instanceof ApiError && ['grants', 'roleId', 'workspaceId', 'roles'].includes(e.field)) showGrantsError(grants, errorText(e));
      else showApiError(dlg.form, e);
    } finally {
      save.disabled = false;
    }
  });
}

function lockDialog(u, reload) {
  const reason = field({ name: 'reason', label: t('users.lockReason') });
  const err = formError();
  const ok = h('button', { type: 'submit', class: 'danger' }, t('users.lock'));
  const cancel = h('button', { type: 'button', class: 'secondary' }, t('action.cancel'));
  const dlg = openDialog({
    title: t('users.lockTitle', { email: u.email }), form: true,
    body: [h('p', {}, t('users.lockText')), reason, err], actions: [cancel, ok],
  });
  cancel.addEventListener('click', () => dlg.close());
  whenSubmitted(dlg.form, ok, async () => {
    await post(`/admin/api/users/${u.id}/lock`, { reason: reason.input.value.trim() });
    dlg.close();
    announce(t('users.locked', { email: u.email }));
    await reload();
  }, { check: false });
}

function unlockDialog(u, reload) {
  const expired = u.expiresAt && new Date(u.expiresAt) <= new Date();
  const exp = dateField({
    name: 'expiresAt', label: t('user.expiresAt'), value: expired ? '' : dateInput(u.expiresAt),
    hint: t('users.unlockExpiresHint'), min: minExpiryDate(),
  });
  const err = formError();
  const ok = h('button', { type: 'submit', class: 'primary' }, t('users.unlock'));
  const cancel = h('button', { type: 'button', class: 'secondary' }, t('action.cancel'));
  const dlg = openDialog({
    title: t('users.unlockTitle', { email: u.email }), form: true,
    body: [h('p', {}, t(expired ? 'users.unlockExpired' : 'users.unlockText')), exp, err], actions: [cancel, ok],
  });
  cancel.addEventListener('click', () => dlg.close());
  whenSubmitted(dlg.form, ok, async (v) => {
    await post(`/admin/api/users/${u.id}/unlock`, { expiresAt: v.expiresAt || null });
    dlg.close();
    announce(t('users.unlocked', { email: u.email }));
    await reload();
  });
}

async function deleteUser(u, reload) {
  const ok = await confirmDialog({
    title: t('users.deleteTitle'),
    message: t('users.deleteText', { email: u.email }),
    confirmLabel: t('action.delete'),
    run: () => del(`/admin/api/users/${u.id}`),
    errorText: (e) => (e.code === 'in_use' ? t('users.deleteInUse') : errorText(e)),
  });
  if (ok) {
    announce(t('users.deleted', { email: u.email }));
    await reload();
  }
}

/* ------------------------------------------------------------ emails: invitation, password reset */

function resendDialog(u, reload) {
  const message = field({ name: 'message', label: t('users.resendMessage'), type: 'textarea', rows: 5, hint: t('users.resendMessageHint') });
  const err = formError();
  const ok = h('button', { type: 'submit', class: 'primary' }, t('users.resendSubmit'));
  const cancel = h('button', { type: 'button', class: 'secondary' }, t('action.cancel'));
  const dlg = openDialog({
    title: t('users.resendTitle', { email: u.email }), form: true,
    body: [h('p', {}, t('users.resendText', { email: u.email })), message, err], actions: [cancel, ok],
  });
  cancel.addEventListener('click', () => dlg.close());
  whenSubmitted(dlg.form, ok, async () => {
    // no message: the server sends the earlier invitation's message again
    const text = message.input.value.trim();
    const res = await post(`/admin/api/users/${u.id}/invitation`, text ? { message: message.input.value } : {});
    dlg.close();
    announce(t('users.resent', { email: res.invitation.email, when: fmtTime(res.invitation.expiresAt) }));
    await reload();
  }, { check: false });
}

async function deleteInvitation(u, reload) {
  const ok = await confirmDialog({
    title: t('users.deleteInvitation'),
    message: t('users.deleteInvitationText', { email: u.email }),
    confirmLabel: t('users.deleteInvitation'),
    run: () => del(`/admin/api/users/${u.id}/invitation`),
    errorText,
  });
  if (ok) {
    announce(t('users.invitationDeleted', { email: u.email }));
    await reload();
  }
}

async function resetPassword(u, reload) {
  let sentTo = u.email;
  const ok = await confirmDialog({
    title: t('users.resetTitle', { email: u.email }),
    message: t('users.resetText', { email: u.email }),
    confirmLabel: t('users.resetConfirm'),
    danger: false,
    run: async () => { sentTo = (await post(`/admin/api/users/${u.id}/password-reset`)).reset.email; },
    errorText,
  });
  if (ok) {
    announce(t('users.resetSent', { email: sentTo }));
    await reload();
  }
}

export const canInvite = () => can(P.users);
