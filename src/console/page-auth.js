// Setup of the first administrator, sign-in, changing the password, accepting an
// invitation (/invite#TOKEN), "forgot password" and setting a new one (/reset#TOKEN).
import { api, post } from './api.js';
import { announce, clear, field, h, showError } from './dom.js';
import { makeForm } from './forms.js';
import { currentLang, t } from './i18n.js';
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
        if (e.status === 401 || e.code === 'throttled') {
          // a throttled attempt (429) was not checked: the page asks to wait
          showError(f, '', t(e.status === 401 ? 'login.failed' : 'error.throttled'));
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
    notice ? h('p', { class: 'notice', role: 'status' }, t(notice)) : null, form,
    h('p', { class: 'auth-links' }, h('a', { href: '#/forgot', id: 'forgot-link' }, t('login.forgot'))));
}

// #/forgot (signed out): asks for a reset link by email. The answer is the same whether
// or not the address belongs to anyone, so the page always says the same.
export async function forgotPage(page) {
  const back = () => h('p', { class: 'auth-links' }, h('a', { href: '#/login', id: 'back-to-login' }, t('forgot.back')));
  const form = makeForm({
    fields: [field({ name: 'email', label: t('user.email'), type: 'email', required: true, autocomplete: 'username' })],
    submitLabel: t('forgot.submit'),
    onSubmit: async (v, f) => {
      try {
        await api('POST', '/admin/api/password/forgot', { email: v.email, lang: currentLang() }, { quiet401: true });
      } catch (e) {
        // too many requests from this address (they count as failed sign-ins)
        if (e.code === 'throttled') {
          showError(f, '', t('error.throttled'));
          return;
        }
        throw e;
      }
      const cardEl = page.querySelector('.auth-card');
      clear(cardEl).append(
        h('h1', {}, t('forgot.title')),
        h('p', { class: 'notice ok', role: 'status', id: 'forgot-sent' }, t('forgot.sent')),
        h('p', { class: 'hint' }, t('forgot.sentHint')),
        back());
      cardEl.querySelector('#back-to-login').focus();
    },
  });
  card(page, 'forgot.title', 'forgot.intro', form, back());
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

// The server's explanation of a refused link: its own sentence in English, ours (the
// same in the page's language) otherwise.
function refusal(e, key) {
  if (currentLang() !== 'en' || e.status !== 401 || !e.message) return t(key);
  const m = e.message.trim();
  return `${m.charAt(0).toUpperCase()}${m.slice(1)}${/[.!?]$/.test(m) ? '' : '.'}`;
}

/*
 * A page that sets a password with a single-use link's token (the part after #) and
 * signs in: /invite (an invitation) and /reset (a password reset). A refused link
 * shows why, and the links that help.
 */
function tokenPage(page, { done, prefix, path, helpLinks }) {
  const token = decodeURIComponent(location.hash.replace(/^#/, ''));
  const links = () => (helpLinks.length ? h('p', { class: 'auth-links', id: 'link-help' }, helpLinks.map((l) => h('a', { href: l.href }, t(l.key)))) : null);
  if (!token) {
    card(page, `${prefix}.title`, null, h('p', { class: 'notice warn', role: 'alert' }, t(`${prefix}.noToken`)), links());
    return;
  }
  const help = links();
  if (help) help.hidden = true;
  const form = makeForm({
    fields: passwordFields(false),
    submitLabel: t(`${prefix}.submit`),
    fieldMap: { token: '' },
    onSubmit: async (v, f) => {
      if (!samePasswords(f, v)) return;
      let s;
      try {
        s = await api('POST', path, { token, password: v.password }, { quiet401: true });
      } catch (e) {
        if (e.status === 404 || e.status === 401 || e.field === 'token') {
          showError(f, '', refusal(e, `${prefix}.invalid`));
          if (help) help.hidden = false;
          return;
        }
        throw e;
      }
      await done(s);
      if (prefix === 'reset') announce(t('reset.done'));
    },
  });
  card(page, `${prefix}.title`, `${prefix}.intro`, form, help);
}

// /invite#TOKEN: a person accepts their invitation by choosing a password
export async function invitePage(page, { done }) {
  tokenPage(page, { done, prefix: 'accept', path: '/admin/api/invitation', helpLinks: [] });
}

// /reset#TOKEN: a person sets a new password with the link of a reset email
export async function resetPage(page, { done }) {
  tokenPage(page, {
    done, prefix: 'reset', path: '/admin/api/password/reset',
    helpLinks: [{ href: '/#/login', key: 'setup.toLogin' }, { href: '/#/forgot', key: 'login.forgot' }],
  });
}
