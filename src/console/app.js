// The console's entry point: language, session, header and the hash router.
import { ApiError, api, errorText, setCsrf, setUnauthorizedHandler } from './api.js';
import { announce, clear, h } from './dom.js';
import { LANGUAGES, currentLang, preferredLang, setLang, t } from './i18n.js';
import { P, can, canAny, go, state } from './state.js';
import { forgotPage, invitePage, loginPage, passwordPage, resetPage, setupPage } from './page-auth.js';
import { adminPage } from './page-admin.js';
import { usersPage } from './page-users.js';
import { rolesPage } from './page-roles.js';
import { launchpointPage } from './page-launchpoint.js';
import { webservicesPage } from './page-webservices.js';
import { auditPage, loginsPage } from './page-audit.js';

// route → {perms (any of them), page, titleKey}
const ROUTES = {
  admin: { page: adminPage, titleKey: 'nav.admin' },
  users: { perms: [P.users], page: usersPage, titleKey: 'nav.usersRoles' },
  roles: { perms: [P.roles], page: rolesPage, titleKey: 'nav.usersRoles' },
  logins: { perms: [P.logins], page: loginsPage, titleKey: 'nav.usersRoles' },
  launchpoint: { perms: [P.launchpoint], page: launchpointPage, titleKey: 'nav.launchpoint' },
  webservices: { perms: [P.web], page: webservicesPage, titleKey: 'nav.webservices' },
  audit: { perms: [P.audit], page: auditPage, titleKey: 'nav.audit' },
  password: { page: passwordPage, titleKey: 'password.title' },
};

const NAV = [
  { route: 'admin', key: 'nav.admin', show: () => true },
  { route: 'users', key: 'nav.usersRoles', show: () => canAny(P.users, P.roles, P.logins), match: ['users', 'roles', 'logins'] },
  { route: 'launchpoint', key: 'nav.launchpoint', show: () => can(P.launchpoint) },
  { route: 'webservices', key: 'nav.webservices', show: () => can(P.web) },
  { route: 'audit', key: 'nav.audit', show: () => can(P.audit) },
];

// where "Users & Roles" leads: the first of its tabs the user may open
export function usersRolesRoute() {
  if (can(P.users)) return 'users';
  if (can(P.roles)) return 'roles';
  return 'logins';
}

// pages whose hash is a single-use token, not a route
const TOKEN_PAGES = ['/setup', '/invite', '/reset'];
const onTokenPage = () => TOKEN_PAGES.includes(location.pathname);

const root = document.getElementById('app');
let main;
let header;
let renderSeq = 0;

function currentRoute() {
  const raw = location.hash.replace(/^#\/?/, '').split('?')[0];
  return raw || 'admin';
}

function renderHeader() {
  const signedIn = Boolean(state.session && !state.session.mustChangePassword);
  const route = currentRoute();
  const langSel = h('select', { id: 'lang-switch', class: 'lang-switch' },
    LANGUAGES.map((l) => h('option', { value: l, selected: l === currentLang(), lang: l }, t(`lang.${l}`))));
  langSel.addEventListener('change', async () => {
    await setLang(langSel.value, { remember: true });
    await render();
    document.getElementById('lang-switch')?.focus();
  });
  const nav = signedIn
    ? h('nav', { class: 'main-nav', 'aria-label': t('nav.label') },
      h('ul', {}, NAV.filter((n) => n.show()).map((n) => {
        const active = (n.match || [n.route]).includes(route);
        const target = n.route === 'users' ? usersRolesRoute() : n.route;
        return h('li', {}, h('a', { href: `#/${target}`, 'aria-current': active ? 'page' : null, dataset: { nav: n.route } }, t(n.key)));
      })))
    : null;
  const user = state.session
    ? h('div', { class: 'user-menu' },
      h('span', { class: 'user-email', title: state.session.user.email }, state.session.user.email),
      signedIn ? h('a', { href: '#/password', class: 'header-link' }, t('nav.changePassword')) : null,
      h('button', { type: 'button', class: 'link-button', id: 'logout', onclick: logout }, t('nav.logout')))
    : null;
  const next = h('header', { class: 'top', id: 'top' },
    h('div', { class: 'top-inner' },
      h('a', { class: 'brand', href: signedIn ? '#/admin' : '#/login' },
        h('img', { src: '/console/logo.svg', alt: '', width: '28', height: '28' }),
        h('span', {}, t('app.name'))),
      nav,
      h('div', { class: 'header-tools' },
        h('label', { for: 'lang-switch', class: 'lang-label' }, t('nav.language')), langSel,
        user)));
  if (header) header.replaceWith(next);
  else document.getElementById('skip').after(next); // the skip link stays the first Tab stop
  header = next;
  // the language may have changed: the parts outside the header and the page too
  document.getElementById('skip').textContent = t('nav.skip');
  document.getElementById('status-line').setAttribute('aria-label', t('status.label'));
}

async function logout() {
  try {
    await api('POST', '/admin/api/logout', {}, { quiet401: true });
  } catch { /* the session may be gone already */ }
  state.session = null;
  setCsrf('');
  state.notice = 'login.signedOut';
  go('login');
}

export function setSession(s) {
  state.session = s;
  setCsrf(s ? s.csrf : '');
}

function forbidden() {
  return [h('h1', { tabindex: '-1' }, t('forbidden.title')), h('p', {}, t('forbidden.text')),
    h('p', {}, h('a', { href: '#/admin' }, t('forbidden.back')))];
}

export async function render({ focus = false } = {}) {
  const seq = ++renderSeq;
  renderHeader();
  const page = h('div', { class: 'page' });
  document.title = t('app.name');
  if (location.pathname === '/setup') {
    await setupPage(page, { done: afterSignIn });
  } else if (location.pathname === '/invite') {
    await invitePage(page, { done: afterSignIn });
  } else if (location.pathname === '/reset') {
    await resetPage(page, { done: afterSignIn });
  } else if (!state.session) {
    if (currentRoute() === 'forgot') await forgotPage(page);
    else await loginPage(page, { done: afterSignIn });
  } else if (state.session.mustChangePassword) {
    await passwordPage(page, { forced: true, done: afterSignIn });
  } else {
    const name = currentRoute();
    const r = ROUTES[name];
    if (!r) {
      go('admin');
      return;
    }
    document.title = `${t(r.titleKey)} · ${t('app.name')}`;
    if (r.perms && !canAny(...r.perms)) append(page, forbidden());
    else {
      try {
        await r.page(page, { render, usersRolesRoute, done: afterSignIn });
      } catch (e) {
        if (e instanceof ApiError && e.status === 401) return; // on its way to sign-in
        if (!(e instanceof ApiError)) console.error(e);
        page.append(h('p', { class: 'form-error', role: 'alert' }, errorText(e)));
      }
    }
  }
  if (seq !== renderSeq) return; // a newer render started meanwhile
  clear(main).append(page);
  if (focus) {
    const h1 = main.querySelector('h1');
    if (h1) {
      h1.setAttribute('tabindex', '-1');
      h1.focus();
    }
  }
}

function append(el, nodes) {
  for (const n of nodes) el.append(n);
}

// after setup, sign-in or a password change: the session again, then the page wanted
async function afterSignIn(session) {
  if (session) setSession(session);
  state.notice = '';
  if (onTokenPage()) history.replaceState(null, '', '/#/admin');
  let target = state.afterLogin && !['#/login', '#/forgot'].includes(state.afterLogin) ? state.afterLogin : '#/admin';
  if (state.session && state.session.mustChangePassword) target = '#/password';
  state.afterLogin = '';
  if (location.hash !== target) history.replaceState(null, '', `/${target}`);
  await render({ focus: true });
}

async function boot() {
  await setLang(preferredLang());
  clear(root);
  header = null;
  main = h('main', { id: 'main', tabindex: '-1' });
  // skip link, header (renderHeader puts it after the link), main, and the status line
  // in a landmark of its own, so that every text on the page is in one (WCAG 1.3.1)
  root.append(
    h('a', { class: 'skip-link', href: '#main', id: 'skip' }, t('nav.skip')),
    main,
    h('footer', { id: 'status-line', class: 'status-line', 'aria-label': t('status.label') },
      h('div', { id: 'status', class: 'toast', role: 'status', 'aria-live': 'polite' })));
  document.getElementById('skip').addEventListener('click', (e) => {
    e.preventDefault();
    main.focus();
  });
  setUnauthorizedHandler(() => {
    if (!state.session) return;
    state.session = null;
    setCsrf('');
    state.notice = 'login.expired';
    state.afterLogin = location.hash;
    for (const d of document.querySelectorAll('dialog')) d.close();
    go('login');
  });
  if (!onTokenPage()) {
    try {
      setSession(await api('GET', '/admin/api/session', undefined, { quiet401: true }));
    } catch (e) {
      if (!(e instanceof ApiError) || e.status !== 401) console.error(e);
      state.afterLogin = location.hash;
    }
  }
  // an API error nobody handled (e.g. a list that failed to load): say so in the status
  // line; a 401 has already sent the user to the sign-in page
  window.addEventListener('unhandledrejection', (ev) => {
    if (!(ev.reason instanceof ApiError)) return;
    ev.preventDefault();
    if (ev.reason.status !== 401) announce(errorText(ev.reason));
  });
  window.addEventListener('hashchange', () => {
    if (onTokenPage()) return;
    document.getElementById('status')?.classList.remove('show');
    render({ focus: true });
  });
  await render();
  document.body.dataset.ready = '1';
}

main = null;
boot().catch((e) => {
  console.error(e);
  clear(root).append(h('p', { class: 'fatal' }, String(e && e.message ? e.message : e)));
});
