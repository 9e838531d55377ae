// Form plumbing shared by the pages: required checks, submit handling, and the API's
// field errors shown next to the field (what was typed stays in place).
import { ApiError, errorText } from './api.js';
import { clearErrors, field, formError, h, showError } from './dom.js';
import { dateFormatHint, fmtDate, fmtDateInput, parseDateInput, t } from './i18n.js';

// Checks required and e-mail fields in root; shows the first problems; true when fine.
export function checkFields(root) {
  let ok = true;
  for (const input of root.querySelectorAll('input, select, textarea')) {
    if (input.closest('[hidden]') || input.disabled) continue;
    const f = input.closest('[data-field]');
    if (!f) continue;
    const name = f.dataset.field;
    const v = input.type === 'checkbox' ? input.checked : input.value.trim();
    const problem = input.required && !v ? t('error.required')
      : input.type === 'email' && v && !/^[^\s@]+@[^\s@]+$/.test(v) ? t('error.invalid.email')
        : input.dataset.date !== undefined ? dateProblem(input) : '';
    if (!problem) continue;
    if (ok) showError(root, name, problem);
    else markOnly(f, problem);
    ok = false;
  }
  return ok;
}

// what is wrong with a date field's text ('' when nothing): not a date, or before its minimum
function dateProblem(input) {
  const iso = parseDateInput(input.value);
  if (iso === '') return '';
  if (iso === null) return t('error.invalid.date', { format: dateFormatHint() });
  const min = input.dataset.min;
  // an unchanged value is not judged again (the expiry an expired user already has)
  if (min && iso < min && iso !== input.dataset.initial) return t('error.date.min', { date: fmtDate(min) });
  return '';
}

/*
 * A date field in the console's language (TT.MM.JJJJ in German, YYYY-MM-DD in English)
 * — a native date field would follow the browser's language instead. {name, label,
 * value (an ISO date or instant), hint, min ("2027-01-31": the first date allowed)}.
 * values() gives its date as "YYYY-MM-DD" ('' when empty).
 */
export function dateField({ name, label, value, hint, min }) {
  const hints = [hint, min ? t('date.minHint', { date: fmtDate(min) }) : null, t('date.formatHint', { format: dateFormatHint() })];
  const f = field({
    name, label, value: fmtDateInput(value), hint: hints.filter(Boolean).join(' '),
    autocomplete: 'off', attrs: { inputmode: 'numeric', placeholder: dateFormatHint(), spellcheck: 'false' },
  });
  f.input.dataset.date = '';
  if (min) f.input.dataset.min = min;
  if (value) f.input.dataset.initial = String(value).slice(0, 10);
  return f;
}

// the first date an access expiry may have: tomorrow (a date means 00:00 UTC that day)
export const minExpiryDate = () => new Date(Date.now() + 86400000).toISOString().slice(0, 10);

function markOnly(f, msg) {
  const err = f.querySelector('.field-error');
  err.textContent = msg;
  err.hidden = false;
  f.querySelector('input, select, textarea')?.setAttribute('aria-invalid', 'true');
}

// Shows an API error in root: next to the field it names (fieldMap maps API field
// names to ours), else in the form-level error box. Returns the field shown, or ''.
export function showApiError(root, e, fieldMap = {}) {
  const msg = errorText(e);
  const apiField = e instanceof ApiError ? e.field : '';
  const name = apiField ? (fieldMap[apiField] ?? apiField) : '';
  if (name && showError(root, name, msg)) return name;
  showError(root, '', msg);
  return '';
}

/*
 * A form: {fields (nodes), submitLabel, extraActions, onSubmit(values, form) (async),
 * fieldMap}. values: {name: value} of its named controls (checkboxes as booleans).
 */
export function makeForm({ fields, submitLabel, extraActions = [], onSubmit, fieldMap, className = 'stack' }) {
  const err = formError();
  const btn = h('button', { type: 'submit', class: 'primary' }, submitLabel);
  const form = h('form', { novalidate: true, class: className }, fields, err, h('div', { class: 'form-actions' }, extraActions, btn));
  whenSubmitted(form, btn, onSubmit, { fieldMap });
  return form;
}

/*
 * Runs action(values, form) when form is submitted: the fields are checked first
 * (unless check is false), the button is disabled meanwhile, and an error shows
 * next to the field it names (fieldMap) or in the form's error box.
 */
export function whenSubmitted(form, btn, action, { fieldMap = {}, check = true } = {}) {
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    if (check && !checkFields(form)) return;
    btn.disabled = true;
    try {
      await action(values(form), form);
    } catch (e) {
      if (!(e instanceof ApiError)) console.error(e);
      if (!(e instanceof ApiError && e.status === 401 && e.handled)) showApiError(form, e, fieldMap);
    } finally {
      btn.disabled = false;
    }
  });
}

export function values(root) {
  const out = {};
  for (const el of root.querySelectorAll('input[name], select[name], textarea[name]')) {
    if (el.type === 'checkbox') out[el.name] = el.checked;
    else if (el.dataset.date !== undefined) out[el.name] = parseDateInput(el.value) ?? el.value.trim();
    else out[el.name] = el.type === 'password' ? el.value : el.value.trim();
  }
  return out;
}

// "2027-01-31" from an ISO time (for <input type=date>)
export const dateInput = (iso) => (iso ? String(iso).slice(0, 10) : '');
