// Setup of the first administrator, sign-in, and changing the password.
import { api, post } from './api.js';
import { announce, field, h, showError } from './dom.js';
import { makeForm } from './forms.js';
import { t } from './i18n.js';
import { state } from './state.js';

function card(page, titleKey, introKey, ...content) {
  page.classList.add('auth-page');
  page.append(h('section', { class: 'auth-card' },
    h('h1', {}, t(titleKey)),
    introKey ? h('p', { class: 'intro' }, t(introKey)) : null,
    content));
}

const passwordFields = (withCurrent) => [
  withCurrent ? field({ name: 'current', label: t('password.current'), type: 'password', required: true, autocomplete: 'current-password' }) : null,
  field({ name: 'password', label: t('password.new'), type: 'password', required: true, autocomplete: 'new-password', hint: t('password.rules') }),
  field({ name: 'password2', label: t('password.repeat'), type: 'password', required: true, autocomplete: 'new-password' }),
];

function samePasswords(form, v) {
  if (v.password === v.password2) return true;
  showError(form, 'password2', t('error.passwordMismatch'));
  return false;
}

export async function setupPage(page, { done }) {
  const token = decodeURIComponent(location.hash.replace(/^#/, ''));
  let pending = false;
  try {
    pending = (await api('GET', '/admin/api/setup', undefined, { quiet401: true })).pending;
  } catch { pending = false; }
  if (!pending || !token) {
    card(page, 'setup.title', null,
      h('p', { class: 'notice' }, t(!pending ? 'setup.done' : 'setup.noToken')),
      h('p', {}, h('a', { href: '/#/login' }, t('setup.toLogin'))));
    return;
  }
  const form = makeForm({
    fields: [
      field({ name: 'email', label: t('user.email'), type: 'email', required: true, autocomplete: 'email' }),
      h('div', { class: 'row2' },
        field({ name: 'firstName', label: t('user.firstName'), required: true, autocomplete: 'given-name' }),
        field({ name: 'lastName', label: t('user.lastName'), required: true, autocomplete: 'family-name' })),
      ...passwordFields(false),
    ],
    submitLabel: t('setup.submit'),
    fieldMap: { token: '' },
    onSubmit: async (v, f) => {
      if (!samePasswords(f, v)) return;
      const s = await post('/admin/api/setup', {
        token, email: v.email, firstName: v.firstName, lastName: v.lastName, password: v.password,
      });
      await done(s);
    },
  });
  card(page, 'setup.title', 'setup.intro', form);
}

export async function loginPage(page, { done }) {
  const notice = state.notice; // cleared once signed in
  const form = makeForm({
    fields: [
      field({ name: 'email', label: t('user.email'), type: 'email', required: true, autocomplete: 'username' }),
      field({ name: 'password', label: t('login.password'), type: 'password', required: true, autocomplete: 'current-password' }),
    ],
    submitLabel: t('login.submit'),
    onSubmit: async (v, f) => {
      try {
        const s = await api('POST', '/admin/api/login', { email: v.email, password: v.password }, { quiet401: true });
        await done(s);
      } catch (e) {
        if (e.status === 401) {
          showError(f, '', t('login.failed'));
          f.querySelector('input[name=password]').value = '';
          return;
        }
        throw e;
      }
    },
  });
  let pending = false;
  try {
    pending = (await api('GET', '/admin/api/setup', undefined, { quiet401: true })).pending;
  } catch { pending = false; }
  card(page, 'login.title', 'login.intro',
    pending ? h('p', { class: 'notice', id: 'setup-pending' }, t('login.setupPending')) : null,
    notice ? h('p', { class: 'notice', role: 'status' }, t(notice)) : null, form);
}

export async function passwordPage(page, { forced = false, done }) {
  const form = makeForm({
    fields: passwordFields(true),
    submitLabel: t('password.submit'),
    onSubmit: async (v, f) => {
      if (!samePasswords(f, v)) return;
      await post('/admin/api/password', { current: v.current, password: v.password });
      announce(t('password.changed'));
      if (forced) {
        const s = await api('GET', '/admin/api/session');
        await done(s);
      } else {
        for (const i of f.querySelectorAll('input')) i.value = '';
        f.querySelector('.form-error').hidden = true;
        const ok = f.parentElement.querySelector('.ok-note');
        if (ok) ok.hidden = false;
      }
    },
  });
  card(page, 'password.title', forced ? 'password.forced' : 'password.intro',
    h('p', { class: 'notice ok-note', role: 'status', hidden: true }, t('password.changed')), form);
}

// /invite#TOKEN: a person accepts their invitation by choosing a password
export async function invitePage(page, { done }) {
  const token = decodeURIComponent(location.hash.replace(/^#/, ''));
  if (!token) {
    card(page, 'accept.title', null, h('p', { class: 'notice' }, t('accept.invalid')));
    return;
  }
  const form = makeForm({
    fields: passwordFields(false),
    submitLabel: t('accept.submit'),
    fieldMap: { token: '' },
    onSubmit: async (v, f) => {
      if (!samePasswords(f, v)) return;
      try {
        await done(await post('/admin/api/invitation', { token, password: v.password }));
      } catch (e) {
        if (e.status === 404 || e.status === 401 || e.field === 'token') {
          showError(f, '', t('accept.invalid'));
          return;
        }
        throw e;
      }
    },
  });
  card(page, 'accept.title', 'accept.intro', form);
}
