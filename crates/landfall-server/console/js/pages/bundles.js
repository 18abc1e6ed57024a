// An app's bundles, newest first, with the channels serving each.

import { h, mount } from '../dom.js';
import { get, seg } from '../api.js';
import { t, tn } from '../i18n.js';
import { bytes, dateTime, num, shortHash } from '../format.js';
import { badge, card, code, empty, failure, loading, pageHeader, table } from '../ui.js';

export async function render(page, ctx) {
  mount(page, pageHeader(t('bundles.title'), t('bundles.subtitle')), loading());
  let list;
  let channels;
  try {
    [list, channels] = await Promise.all([get(`/apps/${seg(ctx.app)}/bundles`), get(`/apps/${seg(ctx.app)}/channels`)]);
  } catch (e) {
    mount(page, pageHeader(t('bundles.title'), t('bundles.subtitle')), failure(e, () => render(page, ctx)));
    return;
  }
  const serving = (version) =>
    channels.flatMap((c) => {
      const out = [];
      if (c.bundle === version) out.push(badge(c.name, 'blue'));
      if (c.rollout && c.rollout.bundle === version) out.push(badge(t('bundles.rollout_on', { channel: c.name, percent: c.rollout.percent }), 'amber'));
      return out;
    });
  const rows = [...list].sort((a, b) => b.created_at - a.created_at);
  const content = rows.length
    ? table(
        [
          { label: t('bundles.col.version'), cell: (b) => code(b.version) },
          { label: t('bundles.col.channels'), cell: (b) => h('span', { class: 'badges' }, serving(b.version)) },
          { label: t('bundles.col.created'), cell: (b) => h('span', null, dateTime(b.created_at), h('br'), h('small', { class: 'muted', text: b.created_by })) },
          { label: t('bundles.col.size'), class: 'num', cell: (b) => (b.external_url ? t('bundles.external') : bytes(b.size)) },
          {
            label: t('bundles.col.security'),
            cell: (b) => (b.key_ids.length ? badge(tn('bundles.signed', b.key_ids.length, { n: num(b.key_ids.length) }), 'green') : badge(t('bundles.plain'), 'neutral')),
          },
          { label: t('bundles.col.delta'), class: 'num', cell: (b) => (b.manifest_files ? num(b.manifest_files) : t('common.none')) },
          { label: t('bundles.col.sha256'), cell: (b) => h('code', { title: b.sha256, text: shortHash(b.sha256) }) },
          { label: t('bundles.col.comment'), cell: (b) => b.comment || '' },
        ],
        rows,
        { rowTest: (b) => `bundle-${b.version}` },
      )
    : empty(t('bundles.empty'), [t('bundles.empty_hint'), ' ', code(`landfall bundle upload ${ctx.app} ./dist --version 1.0.0`)]);
  mount(page, pageHeader(t('bundles.title'), t('bundles.subtitle')), card(null, content, h('p', { class: 'card-hint' }, t('bundles.upload_hint'), ' ', code('landfall bundle upload'))));
}
