// Channels: what each serves, its rollout, the devices on it; point it at a bundle, change the
// rollout, roll back. Every change asks for confirmation and says how many devices it reaches
// (`devices` of the channel: known devices whose last update check the channel answered).

import { h, mount } from '../dom.js';
import { get, patch, post, seg } from '../api.js';
import { t, tCode, tn } from '../i18n.js';
import { dateTime, num } from '../format.js';
import { actionButton, badge, card, code, confirmDialog, empty, failure, field, loading, notify, pageHeader, select, table } from '../ui.js';

export async function render(page, ctx) {
  const header = () => pageHeader(t('channels.title'), t('channels.subtitle'));
  mount(page, header(), loading());
  const base = `/apps/${seg(ctx.app)}`;
  let channels;
  let bundles;
  let histories;
  try {
    [channels, bundles] = await Promise.all([get(`${base}/channels`), get(`${base}/bundles`)]);
    histories = await Promise.all(channels.map((c) => get(`${base}/channels/${seg(c.name)}/history`)));
  } catch (e) {
    mount(page, header(), failure(e, () => render(page, ctx)));
    return;
  }
  const reload = () => render(page, ctx);
  const versions = [...bundles].sort((a, b) => b.created_at - a.created_at).map((b) => [b.version, b.version]);
  const targets = [...versions, ['builtin', t('channels.builtin')]];

  if (!channels.length) {
    mount(page, header(), card(null, empty(t('channels.empty'), [t('channels.empty_hint'), ' ', code(`landfall channel create ${ctx.app} production --bundle 1.0.0`)])));
    return;
  }

  const cards = channels.map((c, i) => channelCard(c, histories[i], { base, targets, versions, reload }));
  mount(page, header(), h('div', { class: 'channel-list' }, cards));
}

const bundleName = (b) => (b === 'builtin' ? t('channels.builtin') : b);

function affected(c) {
  return h('p', { class: 'affected', dataset: { test: 'affected' } }, tn('channels.affects', c.devices, { n: num(c.devices), channel: c.name }));
}

function channelCard(c, history, { base, targets, versions, reload }) {
  const path = `${base}/channels/${seg(c.name)}`;
  const previous = history.find((e) => e.bundle !== c.bundle);

  const done = (answer) => {
    notify('success', t('channels.now_serves', { channel: answer.name, bundle: bundleName(answer.bundle) }) + (answer.ended_rollout ? ` ${t('channels.rollout_ended', { bundle: answer.ended_rollout.bundle })}` : ''));
    return reload();
  };

  // Point at a bundle.
  const pointSelect = select(targets, c.bundle, { dataset: { test: 'point-select' } });
  const point = actionButton(
    t('channels.point'),
    async () => {
      const to = pointSelect.value;
      if (to === c.bundle) {
        notify('info', t('channels.already', { channel: c.name, bundle: bundleName(to) }));
        return;
      }
      const ok = await confirmDialog({
        title: t('channels.point_title', { channel: c.name, bundle: bundleName(to) }),
        body: [h('p', { text: t('channels.point_body', { channel: c.name, from: bundleName(c.bundle), to: bundleName(to) }) }), affected(c)],
        confirmLabel: t('channels.point_confirm'),
      });
      if (ok) await done(await patch(path, { bundle: to }));
    },
    { dataset: { test: 'point' } },
  );

  // Rollout.
  const rolloutSelect = select(versions, c.rollout ? c.rollout.bundle : versions[0] && versions[0][0], { dataset: { test: 'rollout-select' } });
  const percent = h('input', { type: 'number', min: '0', max: '100', step: '1', value: c.rollout ? String(c.rollout.percent) : '10', class: 'input-percent', dataset: { test: 'rollout-percent' } });
  const rollout = actionButton(
    c.rollout ? t('channels.rollout_change') : t('channels.rollout_start'),
    async () => {
      const p = Number(percent.value);
      if (!Number.isFinite(p) || p < 0 || p > 100) {
        notify('error', t('error.invalid_rollout'));
        return;
      }
      const ok = await confirmDialog({
        title: t('channels.rollout_title', { bundle: rolloutSelect.value, percent: p, channel: c.name }),
        body: [
          h('p', { text: t('channels.rollout_body', { bundle: rolloutSelect.value, percent: p, channel: c.name, stable: bundleName(c.bundle) }) }),
          affected(c),
          h('p', { class: 'muted', text: t('channels.rollout_share', { n: num(Math.round((c.devices * p) / 100)) }) }),
        ],
        confirmLabel: t('channels.rollout_confirm'),
      });
      if (ok) await done(await patch(path, { rollout: { bundle: rolloutSelect.value, percent: p, paused: false } }));
    },
    { dataset: { test: 'rollout' } },
  );
  const endRollout = c.rollout
    ? actionButton(
        t('channels.rollout_end'),
        async () => {
          const ok = await confirmDialog({
            title: t('channels.rollout_end_title', { channel: c.name }),
            body: [h('p', { text: t('channels.rollout_end_body', { bundle: c.rollout.bundle, stable: bundleName(c.bundle) }) }), affected(c)],
            confirmLabel: t('channels.rollout_end'),
          });
          if (ok) await done(await patch(path, { end_rollout: true }));
        },
        { dataset: { test: 'rollout-end' } },
      )
    : null;

  // Roll back.
  const rollback = actionButton(
    t('channels.rollback'),
    async () => {
      const ok = await confirmDialog({
        title: t('channels.rollback_title', { channel: c.name }),
        body: [
          h('p', {
            text: previous
              ? t('channels.rollback_body', { channel: c.name, from: bundleName(c.bundle), to: bundleName(previous.bundle) })
              : t('channels.rollback_body_unknown', { channel: c.name, from: bundleName(c.bundle) }),
          }),
          c.rollout ? h('p', { text: t('channels.rollback_ends_rollout', { bundle: c.rollout.bundle }) }) : null,
          affected(c),
        ],
        confirmLabel: t('channels.rollback_confirm'),
        danger: true,
      });
      if (ok) await done(await post(`${path}/rollback`, {}));
    },
    { class: 'btn btn-danger', dataset: { test: 'rollback' } },
  );

  const flags = [
    c.flags.public ? badge(t('channels.public'), 'blue') : badge(t('channels.private'), 'neutral'),
    c.flags.allow_device_self_set ? badge(t('channels.self_set'), 'neutral') : null,
    !c.flags.ios ? badge(t('channels.no_ios'), 'neutral') : null,
    !c.flags.android ? badge(t('channels.no_android'), 'neutral') : null,
    c.flags.disable_auto_update !== 'none' ? badge(tCode('channels.auto_update', c.flags.disable_auto_update, 'channels.auto_update.other'), 'amber') : null,
  ];

  const rolloutLine = c.rollout
    ? h(
        'div',
        { class: 'rollout-line', dataset: { test: 'rollout-info' } },
        badge(c.rollout.paused ? t('channels.rollout_paused') : t('channels.rollout_running'), 'amber'),
        ' ',
        t('channels.rollout_summary', { bundle: c.rollout.bundle, percent: c.rollout.percent }),
        c.rollout.devices_on_bundle !== null && c.rollout.devices_on_bundle !== undefined
          ? ` · ${tn('channels.rollout_devices', c.rollout.devices_on_bundle, { n: num(c.rollout.devices_on_bundle) })}`
          : '',
      )
    : h('div', { class: 'rollout-line muted', text: t('channels.no_rollout') });

  const historyTable = table(
    [
      { label: t('channels.col.bundle'), cell: (e) => code(bundleName(e.bundle)) },
      { label: t('channels.col.reason'), cell: (e) => tCode('reason', e.reason, 'reason.other') },
      { label: t('channels.col.actor'), cell: (e) => e.actor },
      { label: t('channels.col.at'), cell: (e) => dateTime(e.at) },
    ],
    history.slice(0, 5),
    { emptyText: t('channels.no_history') },
  );

  return h(
    'section',
    { class: 'card channel', dataset: { test: `channel-${c.name}` } },
    h(
      'div',
      { class: 'channel-head' },
      h('h2', { class: 'card-title' }, c.name),
      h('div', { class: 'badges' }, flags),
    ),
    h(
      'div',
      { class: 'channel-facts' },
      h('div', { class: 'fact' }, h('span', { class: 'fact-label', text: t('channels.serves') }), h('code', { class: 'fact-value', dataset: { test: 'serves' }, text: bundleName(c.bundle) })),
      h('div', { class: 'fact' }, h('span', { class: 'fact-label', text: t('channels.devices') }), h('span', { class: 'fact-value', dataset: { test: 'devices' }, text: num(c.devices) })),
      h('div', { class: 'fact' }, h('span', { class: 'fact-label', text: t('channels.updated') }), h('span', { class: 'fact-value', text: dateTime(c.updated_at) })),
      h('div', { class: 'fact' }, h('span', { class: 'fact-label', text: t('channels.previous') }), h('span', { class: 'fact-value', text: previous ? bundleName(previous.bundle) : t('common.none') })),
    ),
    rolloutLine,
    h(
      'div',
      { class: 'channel-actions' },
      h('div', { class: 'action-group' }, field(t('channels.point_label'), pointSelect), point),
      versions.length
        ? h('div', { class: 'action-group' }, field(t('channels.rollout_label'), rolloutSelect), field(t('channels.percent_label'), percent), rollout, endRollout)
        : null,
      h('div', { class: 'action-group action-group-end' }, rollback),
    ),
    h('details', { class: 'history' }, h('summary', { text: t('channels.history') }), historyTable),
  );
}
