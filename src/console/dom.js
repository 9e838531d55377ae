// DOM helpers of the console. Every text goes in through textContent or an attribute:
// nothing built here is ever parsed as HTML, so data cannot become markup.
import { t } from './i18n.js';

let uid = 0;
export const nextId = (prefix = 'lk') => `${prefix}-${++uid}`;

/*
 * h('button', {class: 'primary', type: 'button', onclick: fn}, 'text', child, [more])
 * attrs: class, text, dataset {..}, on<event> (listeners), hidden/disabled/checked/...
 * (boolean properties), value, everything else as an attribute. Children: strings
 * (text nodes), nodes, arrays, null/false (skipped).
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'value') el.value = v;
    else if (['checked', 'selected', 'indeterminate'].includes(k)) el[k] = Boolean(v);
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

// SVG element (charts)
export function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null) continue;
    if (k === 'text') el.textContent = v;
    else el.setAttribute(k, String(v));
  }
  for (const c of children.flat()) if (c) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

/*
 * A labelled form field: {name, label, type='text', value, required, hint, autocomplete,
 * options:[{value,label}] for select, rows for textarea, attrs}. Returns the wrapper,
 * with .input (the control) and .error (where its error message goes).
 */
export function field(o) {
  const id = nextId(`f-${o.name}`);
  const errId = `${id}-err`;
  const hintId = o.hint ? `${id}-hint` : null;
  let input;
  const common = {
    id, name: o.name, required: o.required || null,
    'aria-describedby': [hintId, errId].filter(Boolean).join(' '),
    autocomplete: o.autocomplete, ...(o.attrs || {}),
  };
  if (o.type === 'select') {
    input = h('select', common, (o.options || []).map((op) =>
      h('option', { value: op.value, selected: String(op.value) === String(o.value ?? '') }, op.label)));
  } else if (o.type === 'textarea') {
    input = h('textarea', { ...common, rows: o.rows || 5 });
    input.value = o.value ?? '';
  } else if (o.type === 'checkbox') {
    input = h('input', { ...common, type: 'checkbox', checked: Boolean(o.value) });
  } else {
    input = h('input', { ...common, type: o.type || 'text', value: o.value ?? '' });
  }
  const error = h('p', { class: 'field-error', id: errId, dataset: { errorFor: o.name }, hidden: true });
  // the asterisk stays outside the label so that the label is exactly the field's name
  const label = o.required
    ? h('span', { class: 'label-row' }, h('label', { for: id }, o.label), h('span', { class: 'req', 'aria-hidden': 'true' }, '*'))
    : h('label', { for: id }, o.label);
  const wrap = o.type === 'checkbox'
    ? h('div', { class: 'field field-check', dataset: { field: o.name } }, input, label,
      o.hint ? h('p', { class: 'hint', id: hintId }, o.hint) : null, error)
    : h('div', { class: 'field', dataset: { field: o.name } }, label,
      o.hint ? h('p', { class: 'hint', id: hintId }, o.hint) : null, input, error);
  wrap.input = input;
  wrap.error = error;
  return wrap;
}

// Shows msg next to the field called name inside root (or in root's form-level error
// when there is no such field). Returns true when a field took it.
export function showError(root, name, msg) {
  const f = name ? root.querySelector(`[data-field="${CSS.escape(name)}"]`) : null;
  if (f) {
    const err = f.querySelector('.field-error');
    err.textContent = msg;
    err.hidden = false;
    const input = f.querySelector('input, select, textarea');
    if (input) {
      input.setAttribute('aria-invalid', 'true');
      input.focus();
    }
    return true;
  }
  const box = root.querySelector('.form-error');
  if (box) {
    box.textContent = msg;
    box.hidden = false;
    box.focus?.();
  }
  return false;
}

export function clearErrors(root) {
  for (const e of root.querySelectorAll('.field-error, .form-error')) {
    e.textContent = '';
    e.hidden = true;
  }
  for (const i of root.querySelectorAll('[aria-invalid]')) i.removeAttribute('aria-invalid');
}

export const formError = () => h('p', { class: 'form-error', role: 'alert', tabindex: '-1', hidden: true });

/*
 * Esc on a guarded dialog (the topmost open one) asks from this keydown handler, which
 * cancels the browser's own close request. That request's cancel event is only cancelable
 * after recent user activation (the browser's rules against pages that trap Esc), and a
 * question opened while it is dispatched can be closed by the same key press: the question
 * came and went unseen now and then under load. The cancel and close handlers below stay
 * for the other close requests (a back gesture).
 */
let escapeWatched = false;
function watchEscape() {
  if (escapeWatched) return;
  escapeWatched = true;
  document.addEventListener('keydown', (ev) => {
    if (ev.key !== 'Escape' || ev.defaultPrevented || ev.isComposing) return;
    const top = [...document.querySelectorAll('dialog[open]')].pop();
    if (!top?.isGuarded?.()) return;
    ev.preventDefault();
    top.requestClose();
  });
}

/*
 * A modal <dialog>: {title, body (nodes), actions (nodes), onclose, wide}. Esc and the
 * close button close it; focus goes back to where it was. Returns the dialog with
 * .close(), .body and .actions, and .requestClose(): closes it unless the guard set
 * with .guardClose(fn) (async, resolving to false) refuses — Esc and the close button
 * go through it too (a secret shown once asks "copied?" before it goes).
 */
export function openDialog({ title, body = [], actions = [], onclose, wide = false, form = false }) {
  watchEscape();
  const titleId = nextId('dlg-title');
  const opener = document.activeElement;
  const bodyEl = h('div', { class: 'dialog-body' }, body);
  const actionsEl = h('div', { class: 'dialog-actions' }, actions);
  const closeBtn = h('button', { type: 'button', class: 'icon-button dialog-x', 'aria-label': t('action.close') }, '×');
  const inner = form
    ? h('form', { class: 'dialog-inner', novalidate: true }, bodyEl, actionsEl)
    : h('div', { class: 'dialog-inner' }, bodyEl, actionsEl);
  const dlg = h('dialog', { class: wide ? 'wide' : null, 'aria-labelledby': titleId },
    h('div', { class: 'dialog-head' }, h('h2', { id: titleId }, title), closeBtn), inner);
  dlg.body = bodyEl;
  dlg.actions = actionsEl;
  dlg.form = form ? inner : null;
  dlg.titleEl = dlg.querySelector('h2');
  let guard = null;
  let asking = false;
  let approved = false;
  dlg.guardClose = (fn) => { guard = fn; };
  dlg.isGuarded = () => guard !== null;
  dlg.requestClose = async () => {
    if (asking) return;
    asking = true;
    try {
      if (!guard || await guard()) {
        approved = true;
        dlg.close();
      }
    } finally {
      asking = false;
    }
  };
  closeBtn.addEventListener('click', () => dlg.requestClose());
  dlg.addEventListener('cancel', (ev) => {
    // an uncancelable cancel is followed by the close: the question waits for it (opened
    // now, it would go under the dialog brought back, or go with it)
    if (!guard || !ev.cancelable) return;
    ev.preventDefault();
    dlg.requestClose();
  });
  dlg.addEventListener('close', () => {
    // a browser may close a dialog whatever the cancel handler says: a guarded one comes
    // back and asks
    if (guard && !approved) {
      dlg.showModal();
      dlg.requestClose();
      return;
    }
    dlg.remove();
    if (onclose) onclose(dlg.returnValue);
    if (opener && opener.isConnected && typeof opener.focus === 'function') opener.focus();
  });
  document.body.append(dlg);
  dlg.showModal();
  const first = dlg.querySelector('.dialog-body input:not([type=hidden]), .dialog-body select, .dialog-body textarea');
  if (first) first.focus();
  return dlg;
}

// A confirmation dialog; resolves to true when confirmed. With run (async), the dialog
// stays open while it runs and shows its error (an ApiError's text) if it throws.
export function confirmDialog({ title, message, confirmLabel, cancelLabel, danger = true, run, errorText }) {
  return new Promise((resolve) => {
    let done = false;
    const err = formError();
    const ok = h('button', { type: 'button', class: danger ? 'danger' : 'primary' }, confirmLabel || t('action.ok'));
    const cancel = h('button', { type: 'button', class: 'secondary' }, cancelLabel || t('action.cancel'));
    const dlg = openDialog({
      title,
      body: [h('p', {}, message), err],
      actions: [cancel, ok],
      onclose: () => resolve(done),
    });
    cancel.addEventListener('click', () => dlg.close());
    ok.addEventListener('click', async () => {
      if (!run) { done = true; dlg.close(); return; }
      ok.disabled = true;
      try {
        await run();
        done = true;
        dlg.close();
      } catch (e) {
        err.textContent = errorText ? errorText(e) : String(e.message || e);
        err.hidden = false;
        ok.disabled = false;
      }
    });
    cancel.focus();
  });
}

// A button that copies text to the clipboard and says so.
export function copyButton(getText, label) {
  const status = h('span', { class: 'copy-status', role: 'status' });
  const btn = h('button', { type: 'button', class: 'secondary small' }, label || t('action.copy'));
  btn.addEventListener('click', async () => {
    const text = getText();
    let ok = false;
    try {
      await navigator.clipboard.writeText(text);
      ok = true;
    } catch {
      // no clipboard permission (plain http on another host): select the text instead
      const ta = h('textarea', { class: 'offscreen', 'aria-hidden': 'true' });
      ta.value = text;
      document.body.append(ta);
      ta.select();
      try { ok = document.execCommand('copy'); } catch { ok = false; }
      ta.remove();
    }
    status.textContent = ok ? t('copy.done') : t('copy.failed');
  });
  return h('span', { class: 'copy' }, btn, status);
}

// A read-only value with a copy button (client ids, secrets, tokens).
export function secretBox(label, value, { copy = true, id } = {}) {
  const vid = id || nextId('val');
  return h('div', { class: 'kv' },
    h('span', { class: 'kv-label', id: `${vid}-l` }, label),
    h('code', { class: 'kv-value', id: vid, 'aria-labelledby': `${vid}-l`, translate: 'no' }, value),
    copy ? copyButton(() => value) : null);
}

/*
 * A table: columns [{label, cell(row) -> node|string, class, data}], rows. A `data`
 * column shows what people typed or the server keeps (emails, names, descriptions):
 * it is marked translate="no", as it is the same in every language. Each cell carries
 * its column's label (data-label), which a narrow screen shows beside the value when
 * the table stacks its rows (the `stack` option).
 */
export function table(columns, rows, { caption, empty, stack = false } = {}) {
  const thead = h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col', class: c.class }, c.label))));
  const tbody = h('tbody', {}, rows.length === 0
    ? h('tr', {}, h('td', { colspan: String(columns.length), class: 'empty' }, empty || t('list.empty')))
    : rows.map((r) => h('tr', {}, columns.map((c) => h('td', {
      class: c.class, translate: c.data ? 'no' : null, dataset: { ...(c.key ? { col: c.key } : {}), label: c.label },
    }, c.cell(r))))));
  return h('div', { class: stack ? 'table-wrap stack-sm' : 'table-wrap' },
    h('table', {}, caption ? h('caption', { class: 'sr-only' }, caption) : null, thead, tbody));
}

// a short confirmation in the page's status line (e.g. "Role created.")
let toastTimer;
export function announce(text) {
  const s = document.getElementById('status');
  if (!s) return;
  s.textContent = text;
  s.classList.add('show');
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => s.classList.remove('show'), 8000);
}
