// LaunchPoint: the custom services, New Service, Edit Service, View Details (Get
// Token, Rotate Secret) and Delete.
import { del, errorText, get, post, put, qs } from './api.js';
import {
  announce, clear, clearErrors, confirmDialog, field, formError, h, openDialog, secretBox, table,
} from './dom.js';
import { whenSubmitted } from './forms.js';
import { fmtDuration, fmtTime, t } from './i18n.js';
import { countText, pagedList } from './list.js';

export async function launchpointPage(page) {
  const search = h('input', { type: 'search', id: 'service-search', name: 'q', autocomplete: 'off' });
  const searchForm = h('form', { class: 'toolbar-search', role: 'search' },
    h('label', { for: 'service-search' }, t('services.search')), search,
    h('button', { type: 'submit', class: 'secondary' }, t('action.search')));
  let list = null;
  const refresh = () => list.refresh();
  list = pagedList({
    id: 'service-list', key: 'services', countKey: 'services.count',
    load: (after) => get(`/admin/api/services${qs({ q: search.value.trim(), after })}`),
    render: (services) => servicesTable(services, refresh, Boolean(search.value.trim())),
  });
  searchForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    await list.reload();
  });
  const create = h('button', { type: 'button', class: 'primary', id: 'new-service' }, t('services.new'));
  create.addEventListener('click', () => newServiceDialog(refresh));
  page.append(
    h('h1', {}, t('nav.launchpoint')),
    h('p', { class: 'intro' }, t('services.intro')),
    h('div', { class: 'toolbar' }, create, searchForm), list);
  await list.reload();
}

function servicesTable(services, reload, searched) {
  const cols = [
    { key: 'name', label: t('services.name'), data: true, cell: (s) => h('strong', {}, s.name) },
    { key: 'type', label: t('services.service'), cell: () => t('services.custom') },
    { key: 'description', label: t('services.description'), data: true, cell: (s) => s.description || '' },
    { key: 'user', label: t('services.user'), data: true, cell: (s) => s.user },
    { key: 'created', label: t('services.createdAt'), cell: (s) => fmtTime(s.createdAt) },
    {
      key: 'actions', label: t('common.actions'), class: 'actions',
      cell: (s) => h('div', { class: 'row-actions' },
        h('button', { type: 'button', class: 'secondary small', dataset: { action: 'details' }, onclick: () => detailsDialog(s.id, reload) }, t('services.viewDetails')),
        h('button', { type: 'button', class: 'secondary small', dataset: { action: 'edit' }, onclick: () => editServiceDialog(s, reload) }, t('action.edit')),
        h('button', { type: 'button', class: 'danger small', dataset: { action: 'delete' }, onclick: () => deleteService(s, reload) }, t('action.delete'))),
    },
  ];
  const tbl = table(cols, services, { caption: t('nav.launchpoint'), empty: t(searched ? 'services.noMatch' : 'services.empty'), stack: true });
  tbl.querySelectorAll('tbody tr').forEach((tr, i) => { if (services[i]) tr.dataset.service = services[i].name; });
  return tbl;
}

// how many API-only users the picker offers at a time; typing narrows them on the server
const PICK = 50;

// The API Only User picker: a list of active API-only users (readable with Access
// LaunchPoint or Access Users) and a search box that asks the server for the ones
// matching what is typed, so that a million of them are never loaded.
async function apiUserField() {
  const first = await get(`/admin/api/apiusers${qs({ limit: PICK })}`);
  const f = field({
    name: 'userEmail', label: t('services.user'), type: 'select', required: true,
    options: [{ value: '', label: t('services.chooseUser') }],
    hint: first.users.length ? null : t('services.noApiUsers'),
  });
  if (!first.users.length) {
    f.append(h('p', { class: 'hint' }, h('a', { href: '#/users' }, t('services.toUsers'))));
    return f;
  }
  const sel = f.input;
  const more = h('p', { class: 'hint', id: 'api-user-more', 'aria-live': 'polite' });
  const fill = (res) => {
    const keep = sel.value;
    while (sel.options.length > 1) sel.remove(1);
    for (const u of res.users) sel.append(h('option', { value: u.email, selected: u.email === keep }, `${u.email} (${u.firstName} ${u.lastName})`));
    more.textContent = res.next ? t('services.moreApiUsers', { n: countText('users.count', res.total) }) : '';
    more.hidden = !res.next;
  };
  const finder = h('input', { type: 'search', id: 'api-user-search', autocomplete: 'off', 'aria-controls': sel.id });
  let timer = null;
  let seq = 0;
  finder.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const mine = ++seq;
      const res = await get(`/admin/api/apiusers${qs({ q: finder.value.trim(), limit: PICK })}`);
      if (mine === seq) fill(res);
    }, 250);
  });
  // Enter in the search box searches; it does not submit the dialog
  finder.addEventListener('keydown', (e) => { if (e.key === 'Enter') e.preventDefault(); });
  fill(first);
  sel.before(h('div', { class: 'picker-search' }, h('label', { for: 'api-user-search', class: 'sub-label' }, t('services.findUser')), finder));
  sel.after(more);
  return f;
}

async function newServiceDialog(reload) {
  const userField = await apiUserField();
  const err = formError();
  const create = h('button', { type: 'submit', class: 'primary' }, t('action.create'));
  const cancel = h('button', { type: 'button', class: 'secondary' }, t('action.cancel'));
  const dlg = openDialog({
    title: t('services.new'), form: true,
    body: [
      field({ name: 'name', label: t('services.name'), required: true, autocomplete: 'off' }),
      field({ name: 'service', label: t('services.service'), type: 'select', value: 'custom', options: [{ value: 'custom', label: t('services.custom') }] }),
      field({ name: 'description', label: t('services.description'), type: 'textarea', rows: 3, hint: t('services.descriptionHint') }),
      userField, err],
    actions: [cancel, create],
  });
  cancel.addEventListener('click', () => dlg.close());
  whenSubmitted(dlg.form, create, async (v) => {
    const res = await post('/admin/api/services', { name: v.name, description: v.description, userEmail: v.userEmail });
    await reload();
    showNewSecret(dlg, res, 'services.created');
  }, { fieldMap: { user: 'userEmail', email: 'userEmail' } });
}

// Edit Service: the display name and the description; the credentials stay
function editServiceDialog(s, reload) {
  const err = formError();
  const save = h('button', { type: 'submit', class: 'primary' }, t('action.save'));
  const cancel = h('button', { type: 'button', class: 'secondary' }, t('action.cancel'));
  const dlg = openDialog({
    title: t('services.editTitle', { name: s.name }), form: true,
    body: [
      field({ name: 'name', label: t('services.name'), required: true, value: s.name, autocomplete: 'off' }),
      field({ name: 'description', label: t('services.description'), type: 'textarea', rows: 3, value: s.description, hint: t('services.descriptionHint') }),
      h('p', { class: 'hint' }, t('services.editKeeps')),
      err],
    actions: [cancel, save],
  });
  cancel.addEventListener('click', () => dlg.close());
  whenSubmitted(dlg.form, save, async (v) => {
    const out = await put(`/admin/api/services/${s.id}`, { name: v.name, description: v.description });
    dlg.close();
    announce(t('services.saved', { name: out.name }));
    await reload();
  });
}

// Before a dialog that shows a secret for the only time closes: "copied?" — true to close
const secretCopied = () => confirmDialog({
  title: t('services.copiedTitle'), message: t('services.copiedText'),
  confirmLabel: t('services.copiedYes'), cancelLabel: t('services.copiedBack'), danger: false,
});

// the dialog now shows the client id and the secret, once
function showNewSecret(dlg, res, key) {
  dlg.titleEl.textContent = res.service.name;
  clear(dlg.body).append(
    h('p', { class: 'notice ok', role: 'status' }, t(key, { name: res.service.name })),
    h('p', { class: 'notice warn' }, t('services.secretOnce')),
    secretBox(t('services.clientId'), res.service.clientId, { id: 'client-id' }),
    secretBox(t('services.clientSecret'), res.clientSecret, { id: 'client-secret' }),
    secretBox(t('services.authorized'), res.service.user, { copy: false }));
  const done = h('button', { type: 'button', class: 'primary' }, t('action.done'));
  dlg.guardClose(secretCopied);
  done.addEventListener('click', () => dlg.requestClose());
  clear(dlg.actions).append(done);
  done.focus();
}

async function detailsDialog(id, reload) {
  const s = await get(`/admin/api/services/${id}`);
  const tokenBox = h('div', { class: 'token-box', 'aria-live': 'polite' });
  const rotateBox = h('div', { class: 'rotate-box' });
  const getToken = h('button', { type: 'button', class: 'primary', id: 'get-token' }, t('services.getToken'));
  const rotate = h('button', { type: 'button', class: 'secondary', id: 'rotate-secret' }, t('services.rotate'));
  const close = h('button', { type: 'button', class: 'secondary' }, t('action.close'));
  const tokenErr = formError();
  const dlg = openDialog({
    title: t('services.detailsTitle', { name: s.name }), wide: true,
    body: [
      h('dl', { class: 'details' },
        h('dt', {}, t('services.name')), h('dd', {}, s.name),
        h('dt', {}, t('services.description')), h('dd', {}, s.description || '—')),
      secretBox(t('services.clientId'), s.clientId, { id: 'client-id' }),
      h('div', { class: 'kv' },
        h('span', { class: 'kv-label', id: 'secret-l' }, t('services.clientSecret')),
        h('code', { class: 'kv-value masked', id: 'client-secret', 'aria-labelledby': 'secret-l' }, s.secret || '••••••••'),
        rotate),
      h('p', { class: 'hint' }, t('services.secretHashed')),
      s.previousSecretValidUntil ? h('p', { class: 'notice', id: 'previous-secret' }, t('services.previousValid', { when: fmtTime(s.previousSecretValidUntil) })) : null,
      rotateBox,
      secretBox(t('services.authorized'), s.user, { copy: false, id: 'authorized-user' }),
      h('div', { class: 'token-actions' }, getToken),
      tokenErr, tokenBox],
    actions: [close],
  });
  close.addEventListener('click', () => dlg.requestClose());
  getToken.addEventListener('click', async () => {
    clearErrors(dlg);
    getToken.disabled = true;
    try {
      const tok = await post(`/admin/api/services/${s.id}/token`);
      const curl = `curl -H 'Authorization: Bearer ${tok.accessToken}' ${location.origin}/rest/v1/stats/usage.json`;
      clear(tokenBox).append(
        secretBox(t('services.accessToken'), tok.accessToken, { id: 'access-token' }),
        h('p', { id: 'token-expiry' }, t('services.tokenExpires', { when: fmtTime(tok.expiresAt), left: fmtDuration(tok.expiresIn) })),
        secretBox(t('services.tryIt'), curl, { id: 'curl-line' }));
      // on a small screen the token lands below the fold: bring it into view
      tokenBox.scrollIntoView({ block: 'nearest' });
    } catch (e) {
      tokenErr.textContent = errorText(e);
      tokenErr.hidden = false;
    } finally {
      getToken.disabled = false;
    }
  });
  rotate.addEventListener('click', () => {
    if (rotateBox.firstChild) return;
    const grace = [0, 3600, 86400, 7 * 86400];
    const sel = { name: 'graceSeconds', label: t('services.grace'), type: 'select', value: '0',
      options: grace.map((g) => ({ value: String(g), label: t(`services.grace.${g}`) })), hint: t('services.graceHint') };
    const err = formError();
    const go = h('button', { type: 'submit', class: 'danger' }, t('services.rotateConfirm'));
    const cancel = h('button', { type: 'button', class: 'secondary' }, t('action.cancel'));
    const form = h('form', { class: 'stack inset', novalidate: true },
      h('p', {}, t('services.rotateText')), field(sel), err, h('div', { class: 'form-actions' }, cancel, go));
    cancel.addEventListener('click', () => { clear(rotateBox); rotate.focus(); });
    whenSubmitted(form, go, async (v) => {
      const res = await post(`/admin/api/services/${s.id}/rotate`, { graceSeconds: Number(v.graceSeconds) });
      dlg.guardClose(secretCopied); // the new secret is shown this once
      clear(tokenBox);
      clear(rotateBox).append(
        h('p', { class: 'notice ok', role: 'status' }, t('services.rotated')),
        h('p', { class: 'notice warn' }, t('services.secretOnce')),
        secretBox(t('services.newSecret'), res.clientSecret, { id: 'new-secret' }),
        res.service.previousSecretValidUntil
          ? h('p', { class: 'notice' }, t('services.previousValid', { when: fmtTime(res.service.previousSecretValidUntil) })) : null);
      // the form that had the focus is gone: keep it in the dialog, on the secret's Copy
      rotateBox.querySelector('button').focus();
      await reload();
    }, { fieldMap: { graceSeconds: 'graceSeconds', grace: 'graceSeconds' }, check: false });
    rotateBox.append(form);
    form.querySelector('select').focus();
  });
}

async function deleteService(s, reload) {
  const ok = await confirmDialog({
    title: t('services.deleteTitle'),
    message: t('services.deleteText', { name: s.name }),
    confirmLabel: t('action.delete'),
    run: () => del(`/admin/api/services/${s.id}`),
    errorText,
  });
  if (ok) {
    announce(t('services.deleted', { name: s.name }));
    await reload();
  }
}
