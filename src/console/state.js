// The signed-in session and what it allows; navigation between pages.
export const P = {
  users: 'Access Users',
  roles: 'Access Roles',
  workspaces: 'Access Workspaces',
  launchpoint: 'Access LaunchPoint',
  web: 'Access Web Services',
  audit: 'Access Audit Trail',
  logins: 'Access Login History',
};

export const state = {
  session: null, // {user, csrf, permissions, mustChangePassword}
  afterLogin: '', // the hash to go to once signed in
  notice: '', // an i18n key shown once on the next login page
};

export const can = (perm) => Boolean(state.session && (state.session.permissions || []).includes(perm));
export const canAny = (...perms) => perms.some(can);

export function go(route) {
  const h = `#/${route}`;
  if (location.hash === h) window.dispatchEvent(new HashChangeEvent('hashchange'));
  else location.hash = h;
}
