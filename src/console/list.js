// Paged lists (docs/console-api.md#lists). The server answers one page at a time with
// its total and the cursor of the next page; this keeps the cursors of the pages
// already shown, so that Previous goes back and Next goes on, and shows
// "51–100 of 1,000,000 users" above the page and the pager below it.
import { clear, h } from './dom.js';
import { fmtNumber, has, t } from './i18n.js';

// "1,234 users" (or the key's ".one" text), the number in the page's language
export function countText(key, n) {
  return n === 1 && has(`${key}.one`) ? t(`${key}.one`) : t(key, { n: fmtNumber(n) });
}

/*
 * pagedList({id, countId, key, countKey, load(after) → answer, render(rows) → node}): a box
 * showing one page of the list. load gets the cursor of the page wanted (undefined
 * for the first) and returns the server's answer {[key]: rows, total, totalExact,
 * next}. reload() shows the first page again (after a filter changed); refresh()
 * the page shown (after a change to one of its rows).
 */
export function pagedList({ id, countId, key, countKey, load, render }) {
  const box = h('div', { class: 'list-box', id });
  const status = h('p', { class: 'count', id: countId || (id ? `${id}-count` : null), 'aria-live': 'polite' });
  const body = h('div', {});
  const prev = h('button', { type: 'button', class: 'secondary small', dataset: { page: 'prev' } }, t('list.previous'));
  const next = h('button', { type: 'button', class: 'secondary small', dataset: { page: 'next' } }, t('list.next'));
  const where = h('span', { class: 'pager-where' });
  const pager = h('nav', { class: 'pager', 'aria-label': t('list.pages') }, prev, where, next);
  box.append(status, body, pager);
  let starts = [undefined]; // starts[i]: the cursor page i begins after
  let before = [0]; // before[i]: the rows of the pages before page i
  let page = 0;
  let seq = 0;

  const show = async () => {
    const mine = ++seq;
    prev.disabled = true;
    next.disabled = true;
    const res = await load(starts[page]);
    if (mine !== seq) return; // a newer request won
    const rows = res[key] || [];
    if (!rows.length && page > 0) { // its last rows went (deleted): the page before
      page -= 1;
      await show();
      return;
    }
    starts = starts.slice(0, page + 1);
    before = before.slice(0, page + 1);
    if (res.next) {
      starts.push(res.next);
      before.push(before[page] + rows.length);
    }
    const from = before[page] + 1;
    const total = Number(res.total || 0);
    const whole = page === 0 && !res.next && res.totalExact !== false;
    if (whole) status.textContent = countText(countKey, total);
    else {
      const of = countText(countKey, total);
      status.textContent = rows.length
        ? t(res.totalExact === false ? 'list.rangeMore' : 'list.range', { from: fmtNumber(from), to: fmtNumber(from + rows.length - 1), total: of })
        : countText(countKey, 0);
    }
    clear(body).append(render(rows));
    prev.disabled = page === 0;
    next.disabled = !res.next;
    pager.hidden = page === 0 && !res.next;
    where.textContent = t('list.page', { n: fmtNumber(page + 1) });
  };
  prev.addEventListener('click', () => {
    if (page > 0) page -= 1;
    show().finally(() => prev.focus());
  });
  next.addEventListener('click', () => {
    if (starts.length > page + 1) page += 1;
    show().finally(() => (next.disabled ? prev : next).focus());
  });
  box.reload = () => {
    starts = [undefined];
    before = [0];
    page = 0;
    return show();
  };
  box.refresh = () => show();
  return box;
}
