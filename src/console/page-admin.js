// Admin: the landing page, one card per area the signed-in user may open.
import { append, h } from './dom.js';
import { t } from './i18n.js';
import { P, can, state } from './state.js';

export async function adminPage(page, { usersRolesRoute }) {
  const areas = [
    { id: 'users', route: usersRolesRoute(), show: can(P.users) || can(P.roles) || can(P.logins), key: 'nav.usersRoles', desc: 'admin.usersRoles.desc',
      links: [can(P.users) && ['users', 'users.tab'], can(P.roles) && ['roles', 'roles.tab'], can(P.logins) && ['logins', 'logins.tab']] },
    { id: 'launchpoint', route: 'launchpoint', show: can(P.launchpoint), key: 'nav.launchpoint', desc: 'admin.launchpoint.desc' },
    { id: 'webservices', route: 'webservices', show: can(P.web), key: 'nav.webservices', desc: 'admin.webservices.desc' },
    { id: 'audit', route: 'audit', show: can(P.audit), key: 'nav.audit', desc: 'admin.audit.desc' },
  ].filter((a) => a.show);
  const u = state.session.user;
  append(page, [
    h('h1', {}, t('admin.title')),
    h('p', { class: 'intro' }, t('admin.welcome', { name: `${u.firstName} ${u.lastName}`.trim() || u.email })),
    areas.length === 0 ? h('p', { class: 'notice' }, t('admin.nothing')) : null,
    h('ul', { class: 'cards' }, areas.map((a) => h('li', { class: 'card', dataset: { area: a.id } },
      h('h2', {}, h('a', { href: `#/${a.route}` }, t(a.key))),
      h('p', {}, t(a.desc)),
      a.links ? h('ul', { class: 'card-links' }, a.links.filter(Boolean).map(([r, k]) => h('li', {}, h('a', { href: `#/${r}` }, t(k))))) : null))),
    h('section', { class: 'howto' },
      h('h2', {}, t('admin.path.title')),
      h('ol', {}, ['1', '2', '3', '4', '5'].map((n) => h('li', {}, t(`admin.path.${n}`)))))]);
}
