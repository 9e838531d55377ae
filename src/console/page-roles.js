// Users & Roles → Roles: the list, New Role / Edit Role / Clone Role with the permission
// tree in its two groups (Access Admin, Access API) and a filter box, Delete; system
// roles are read-only (and may be cloned).
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

// a system role's description is ours to translate; a custom role's is what its author wrote
export const roleDescription = (r) => (r.type === 'system' ? tOr(`roles.desc.${r.name}`, r.description || '') : r.description || '');

function rolesTable(roles, perms, reload) {
  const cols = [
    { key: 'name', label: t('roles.name'), data: true, cell: (r) => h('strong', {}, r.name) },
    {
      key: 'description', label: t('roles.description'),
      cell: (r) => (r.type === 'system' ? roleDescription(r) : h('span', { translate: 'no' }, r.description || '')),
    },
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
      cell: (r) => {
        const btn = (action, cls, label, fn) => h('button', { type: 'button', class: `${cls} small`, dataset: { action }, onclick: fn }, label);
        // Clone opens New Role with this role's description and permissions
        const clone = btn('clone', 'secondary', t('roles.clone'), () => roleDialog(null, perms(), reload, { from: r }));
        return r.type === 'system'
          ? h('div', { class: 'row-actions' }, btn('view', 'secondary', t('action.view'), () => roleDialog(r, perms(), reload)), clone)
          : h('div', { class: 'row-actions' }, btn('edit', 'secondary', t('action.edit'), () => roleDialog(r, perms(), reload)), clone,
            btn('delete', 'danger', t('action.delete'), () => deleteRole(r, reload)));
      },
    },
  ];
  const tbl = table(cols, roles, { caption: t('roles.tab'), empty: t('roles.empty'), stack: true });
  tbl.querySelectorAll('tbody tr').forEach((tr, i) => { if (roles[i]) tr.dataset.role = roles[i].name; });
  return tbl;
}

function permsSummary(r) {
  const list = r.permissions || [];
  if (!list.length) return t('roles.noPermissions');
  return h('details', { class: 'perm-summary' },
    h('summary', {}, tn('roles.permCount', list.length)),
    h('ul', { translate: 'no' }, list.map((p) => h('li', {}, p))));
}

/*
 * The tree: one fieldset per group with a "select all" box that shows a mixed state,
 * and above it a filter box that keeps the permissions whose name or description
 * contains what is typed. While it filters, a group's box selects what is shown.
 */
function permissionTree(perms, selected, readOnly) {
  const groups = [['admin', 'perm.groupAdmin'], ['api', 'perm.groupApi']];
  const tree = h('div', { class: 'perm-tree field', dataset: { field: 'permissions' } });
  const filterId = nextId('perm-filter');
  const filter = h('input', { type: 'search', id: filterId, class: 'perm-filter-input', autocomplete: 'off', 'aria-controls': `${filterId}-groups` });
  const none = h('p', { class: 'hint', hidden: true, 'aria-live': 'polite', dataset: { permFilterEmpty: '' } }, t('roles.filterNone'));
  const groupsBox = h('div', { class: 'perm-groups', id: `${filterId}-groups` });
  const syncs = [];
  for (const [g, key] of groups) {
    const items = perms.filter((p) => p.group === g);
    const gid = nextId(`perm-group-${g}`);
    const all = h('input', { type: 'checkbox', id: gid, disabled: readOnly, dataset: { group: g } });
    const boxes = items.map((p) => {
      const id = nextId('perm');
      const box = h('input', { type: 'checkbox', id, name: 'perm', value: p.name, checked: selected.has(p.name), disabled: readOnly });
      const descKey = `perm.desc.${p.name}`;
      const desc = tOr(descKey, p.description || '');
      const li = h('li', { class: 'perm-item' }, box,
        h('label', { for: id }, p.name, desc ? h('span', { class: 'perm-desc' }, desc) : null));
      li.searchText = `${p.name} ${desc}`.toLowerCase();
      return li;
    });
    const shown = () => boxes.filter((b) => !b.hidden).map((b) => b.querySelector('input'));
    const sync = () => {
      const cbs = shown();
      const n = cbs.filter((c) => c.checked).length;
      all.checked = n === cbs.length && n > 0;
      all.indeterminate = n > 0 && n < cbs.length;
    };
    all.addEventListener('change', () => {
      for (const c of shown()) c.checked = all.checked;
      sync();
    });
    for (const b of boxes) b.querySelector('input').addEventListener('change', sync);
    sync();
    const fs = h('fieldset', { class: 'perm-group', dataset: { group: g } },
      h('legend', {}, all, h('label', { for: gid }, t(key))),
      h('ul', {}, boxes));
    syncs.push({ fs, boxes, sync });
    groupsBox.append(fs);
  }
  filter.addEventListener('input', () => {
    const words = filter.value.toLowerCase().split(/\s+/).filter(Boolean);
    let any = false;
    for (const { fs, boxes, sync } of syncs) {
      let shownHere = 0;
      for (const b of boxes) {
        b.hidden = !words.every((w) => b.searchText.includes(w));
        if (!b.hidden) shownHere++;
      }
      fs.hidden = shownHere === 0;
      any = any || shownHere > 0;
      sync();
    }
    none.hidden = any;
  });
  // Enter in the filter filters; it does not submit the dialog
  filter.addEventListener('keydown', (e) => { if (e.key === 'Enter') e.preventDefault(); });
  tree.append(
    h('div', { class: 'perm-filter' }, h('label', { for: filterId }, t('roles.filter')), filter),
    none, groupsBox, h('p', { class: 'field-error', hidden: true }));
  return tree;
}

// New Role (role null), Edit Role, View Role (a system role), or Clone Role (from: the
// role whose description and permissions the new one starts with)
function roleDialog(role, perms, reload, { from = null } = {}) {
  const readOnly = Boolean(role && role.type === 'system');
  const start = role || from;
  const name = field({
    name: 'name', label: t('roles.name'), required: true, value: from ? t('roles.copyOf', { name: from.name }) : role?.name,
    attrs: { disabled: readOnly || null },
  });
  const desc = field({
    name: 'description', label: t('roles.description'), type: 'textarea', rows: 2,
    value: start ? roleDescription(start) : '', attrs: { disabled: readOnly || null },
  });
  const tree = permissionTree(perms || [], new Set(start?.permissions || []), readOnly);
  const err = formError();
  const cancel = h('button', { type: 'button', class: 'secondary' }, readOnly ? t('action.close') : t('action.cancel'));
  const save = readOnly ? null : h('button', { type: 'submit', class: 'primary' }, role ? t('action.save') : t('action.create'));
  const title = role ? (readOnly ? t('roles.viewTitle', { name: role.name }) : t('roles.editTitle', { name: role.name }))
    : from ? t('roles.cloneTitle', { name: from.name }) : t('roles.new');
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
