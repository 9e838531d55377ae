// The heading and tabs of Users & Roles (Users, Roles, Login History).
import { h } from './dom.js';
import { t } from './i18n.js';
import { P, can } from './state.js';

export function usersRolesHeader(page, active) {
  const tabs = [
    ['users', 'users.tab', P.users],
    ['roles', 'roles.tab', P.roles],
    ['logins', 'logins.tab', P.logins],
  ].filter(([, , p]) => can(p));
  page.append(
    h('h1', {}, t('nav.usersRoles')),
    h('nav', { class: 'tabs', 'aria-label': t('nav.usersRolesTabs') },
      h('ul', {}, tabs.map(([r, k]) => h('li', {},
        h('a', { href: `#/${r}`, 'aria-current': r === active ? 'page' : null, dataset: { tab: r } }, t(k)))))));
}
