// The audit log of an app: every content change (uploads, channel moves, rollbacks, overrides,
// keys, settings), newest first.

import { h, mount } from '../dom.js';
import { get, seg } from '../api.js';
import { t, tCode } from '../i18n.js';
import { dateTime, num } from '../format.js';
import { card, failure, loading, pageHeader, table } from '../ui.js';

const DAYS = [7, 30, 90, 365];

export async function render(page, ctx, days = 30) {
  const header = pageHeader(t('audit.title'), t('audit.subtitle'));
  mount(page, header, loading());
  const from = Date.now() - days * 86400000;
  let entries;
  try {
    entries = await get(`/apps/${seg(ctx.app)}/audit?from=${from}`);
  } catch (e) {
    mount(page, header, failure(e, () => render(page, ctx, days)));
    return;
  }
  const range = h(
    'div',
    { class: 'segmented', role: 'group', 'aria-label': t('audit.range') },
    DAYS.map((d) =>
      h('button', {
        type: 'button',
        class: d === days ? 'seg active' : 'seg',
        'aria-pressed': d === days ? 'true' : 'false',
        text: t('audit.last_days', { n: d }),
        onclick: () => render(page, ctx, d),
      }),
    ),
  );
  const rows = [...entries].reverse();
  mount(
    page,
    header,
    card(
      null,
      h('div', { class: 'toolbar' }, range, h('span', { class: 'muted', text: t('audit.count', { n: num(rows.length) }) })),
      table(
        [
          { label: t('audit.col.at'), cell: (e) => dateTime(e.at) },
          { label: t('audit.col.actor'), cell: (e) => actor(e.actor) },
          { label: t('audit.col.action'), cell: (e) => h('span', { class: 'audit-action', title: e.action, text: tCode('audit.action', e.action, 'audit.action.other') }) },
          { label: t('audit.col.detail'), cell: (e) => h('code', { class: 'audit-detail', text: detail(e.detail) }) },
        ],
        rows,
        { emptyText: t('audit.empty'), rowTest: (e) => `audit-${e.action}` },
      ),
    ),
  );
}

function actor(a) {
  const [kind, ...rest] = String(a).split(':');
  const name = rest.join(':');
  if (kind === 'user') return t('audit.actor_user', { name });
  if (kind === 'token') return t('audit.actor_token', { name });
  return a;
}

/** The detail object as compact text (`key: value · …`). */
function detail(d) {
  if (d === null || d === undefined) return '';
  if (typeof d !== 'object') return String(d);
  return Object.entries(d)
    .map(([k, v]) => `${k}: ${typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)}`)
    .join(' · ');
}
