// Users & Roles → Roles: the list, New Role / Edit Role with the permission tree in
// its two groups (Access Admin, Access API), Delete; system roles are read-only.
import { ApiError, del, errorText, get, post, put } from './api.js';
import { announce, clear, clearErrors, confirmDialog, field, formError, h, nextId, openDialog, table } from './dom.js';
import { checkFields, showApiError, values } from './forms.js';
import { fmtNumber, t, tOr, tn } from './i18n.js';
import { P, can } from './state.js';
import { usersRolesHeader } from './tabs.js';

export async function rolesPage(page) {
  usersRolesHeader(page, 'roles');
  const listBox = h('div', { class: 'list-box' });
  let perms = null;
  const reload = async () => {
    const roles = await get('/admin/api/roles');
    clear(listBox).append(rolesTable(roles, () => perms, reload));
  };
  const create = h('button', { type: 'button', class: 'primary', id: 'new-role' }, t('roles.new'));
  create.addEventListener('click', () => roleDialog(null, perms, reload));
  page.append(h('div', { class: 'toolbar' }, create), listBox);
  [perms] = await Promise.all([get('/admin/api/permissions'), reload()]);
}

function rolesTable(roles, perms, reload) {
  const cols = [
    { key: 'name', label: t('roles.name'), cell: (r) => h('strong', {}, r.name) },
    { key: 'description', label: t('roles.description'), cell: (r) => r.description || '' },
    { key: 'type', label: t('roles.type'), cell: (r) => t(r.type === 'system' ? 'roles.system' : 'roles.custom') },
    { key: 'permissions', label: t('roles.permissions'), cell: (r) => permsSummary(r) },
    // the holders themselves are the Users list filtered by the role, page by page
    {
      key: 'holders', label: t('roles.holders'),
      cell: (r) => (r.holders && can(P.users)
        ? h('a', { href: `#/users?role=${r.id}`, 'aria-label': t('roles.showHolders', { name: r.name, n: fmtNumber(r.holders) }) }, fmtNumber(r.holders))
        : fmtNumber(r.holders ?? 0)),
    },
    {
      key: 'actions', label: t('common.actions'), class: 'actions',
      cell: (r) => (r.type === 'system'
        ? h('div', { class: 'row-actions' },
          h('button', { type: 'button', class: 'secondary small', dataset: { action: 'view' }, onclick: () => roleDialog(r, perms(), reload) }, t('action.view')))
        : h('div', { class: 'row-actions' },
          h('button', { type: 'button', class: 'secondary small', dataset: { action: 'edit' }, onclick: () => roleDialog(r, perms(), reload) }, t('action.edit')),
          h('button', { type: 'button', class: 'danger small', dataset: { action: 'delete' }, onclick: () => deleteRole(r, reload) }, t('action.delete')))),
    },
  ];
  const tbl = table(cols, roles, { caption: t('roles.tab'), empty: t('roles.empty') });
  tbl.querySelectorAll('tbody tr').forEach((tr, i) => { if (roles[i]) tr.dataset.role = roles[i].name; });
  return tbl;
}

function permsSummary(r) {
  const list = r.permissions || [];
  if (!list.length) return t('roles.noPermissions');
  return h('details', { class: 'perm-summary' },
    h('summary', {}, tn('roles.permCount', list.length)),
    h('ul', {}, list.map((p) => h('li', {}, p))));
}

/* the tree: one fieldset per group with a "select all" box that shows a mixed state */
function permissionTree(perms, selected, readOnly) {
  const groups = [['admin', 'perm.groupAdmin'], ['api', 'perm.groupApi']];
  const tree = h('div', { class: 'perm-tree field', dataset: { field: 'permissions' } });
  for (const [g, key] of groups) {
    const items = perms.filter((p) => p.group === g);
    const gid = nextId(`perm-group-${g}`);
    const all = h('input', { type: 'checkbox', id: gid, disabled: readOnly, dataset: { group: g } });
    const boxes = items.map((p) => {
      const id = nextId('perm');
      const box = h('input', { type: 'checkbox', id, name: 'perm', value: p.name, checked: selected.has(p.name), disabled: readOnly });
      const descKey = `perm.desc.${p.name}`;
      const desc = tOr(descKey, p.description || '');
      return h('li', { class: 'perm-item' }, box,
        h('label', { for: id }, p.name, desc ? h('span', { class: 'perm-desc' }, desc) : null));
    });
    const sync = () => {
      const cbs = boxes.map((b) => b.querySelector('input'));
      const n = cbs.filter((c) => c.checked).length;
      all.checked = n === cbs.length && n > 0;
      all.indeterminate = n > 0 && n < cbs.length;
    };
    all.addEventListener('change', () => {
      for (const b of boxes) b.querySelector('input').checked = all.checked;
      sync();
    });
    for (const b of boxes) b.querySelector('input').addEventListener('change', sync);
    sync();
    tree.append(h('fieldset', { class: 'perm-group', dataset: { group: g } },
      h('legend', {}, all, h('label', { for: gid }, t(key))),
      h('ul', {}, boxes)));
  }
  tree.append(h('p', { class: 'field-error', hidden: true }));
  return tree;
}

function roleDialog(role, perms, reload) {
  const readOnly = Boolean(role && role.type === 'system');
  const name = field({ name: 'name', label: t('roles.name'), required: true, value: role?.name, attrs: { disabled: readOnly || null } });
  const desc = field({ name: 'description', label: t('roles.description'), type: 'textarea', rows: 2, value: role?.description, attrs: { disabled: readOnly || null } });
  const tree = permissionTree(perms || [], new Set(role?.permissions || []), readOnly);
  const err = formError();
  const cancel = h('button', { type: 'button', class: 'secondary' }, readOnly ? t('action.close') : t('action.cancel'));
  const save = readOnly ? null : h('button', { type: 'submit', class: 'primary' }, role ? t('action.save') : t('action.create'));
  const title = role ? (readOnly ? t('roles.viewTitle', { name: role.name }) : t('roles.editTitle', { name: role.name })) : t('roles.new');
  const dlg = openDialog({
    title, wide: true, form: true,
    body: [readOnly ? h('p', { class: 'notice' }, t('roles.systemReadOnly')) : null, name, desc,
      h('h3', { class: 'subhead' }, t('roles.permissions')), tree, err],
    actions: [cancel, save],
  });
  cancel.addEventListener('click', () => dlg.close());
  if (readOnly) return;
  dlg.form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(dlg.form);
    if (!checkFields(dlg.form)) return;
    const v = values(dlg.form);
    const permissions = [...tree.querySelectorAll('input[name=perm]:checked')].map((c) => c.value);
    save.disabled = true;
    try {
      const body = { name: v.name, description: v.description, permissions };
      const r = role ? await put(`/admin/api/roles/${role.id}`, body) : await post('/admin/api/roles', body);
      dlg.close();
      announce(t(role ? 'roles.saved' : 'roles.created', { name: r.name }));
      await reload();
    } catch (e) {
      if (e instanceof ApiError && e.field === 'permissions') {
        const pe = tree.querySelector(':scope > .field-error');
        pe.textContent = errorText(e);
        pe.hidden = false;
      } else showApiError(dlg.form, e);
    } finally {
      save.disabled = false;
    }
  });
}

async function deleteRole(r, reload) {
  const ok = await confirmDialog({
    title: t('roles.deleteTitle'),
    message: t('roles.deleteText', { name: r.name }),
    confirmLabel: t('action.delete'),
    run: () => del(`/admin/api/roles/${r.id}`),
    errorText: (e) => (e.code === 'in_use' ? t('roles.deleteInUse') : errorText(e)),
  });
  if (ok) {
    announce(t('roles.deleted', { name: r.name }));
    await reload();
  }
}
