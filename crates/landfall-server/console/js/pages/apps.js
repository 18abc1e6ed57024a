// The apps the user can read.

import { h, mount } from '../dom.js';
import { get } from '../api.js';
import { t } from '../i18n.js';
import { dateTime, num } from '../format.js';
import { card, empty, failure, loading, pageHeader } from '../ui.js';

export async function render(page, ctx) {
  mount(page, loading());
  let apps;
  try {
    apps = ctx.apps || (await get('/apps'));
  } catch (e) {
    mount(page, failure(e, () => render(page, { ...ctx, apps: null })));
    return;
  }
  const list = apps.length
    ? h(
        'div',
        { class: 'app-grid' },
        apps.map((a) =>
          h(
            'a',
            { class: 'app-card', href: `#/apps/${encodeURIComponent(a.app_id)}/overview`, dataset: { test: `app-${a.app_id}` } },
            h('div', { class: 'app-card-name', text: a.name || a.app_id }),
            h('code', { class: 'app-card-id', text: a.app_id }),
            h('div', { class: 'app-card-meta', text: t('apps.created', { at: dateTime(a.created_at) }) }),
            a.stats_dropped ? h('div', { class: 'app-card-warn', text: t('apps.dropped', { n: num(a.stats_dropped) }) }) : null,
          ),
        ),
      )
    : empty(t('apps.empty'), [t('apps.empty_hint'), ' ', h('code', { text: 'landfall app create <app-id>' })]);
  mount(page, pageHeader(t('apps.title'), t('apps.subtitle')), card(null, list));
}
