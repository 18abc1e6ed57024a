// Devices that checked in: search by device id or custom id, force a device onto a channel,
// clear that. Everything a device sent (custom id, versions, OS) is shown as text.

import { h, mount } from '../dom.js';
import { del, get, put, seg } from '../api.js';
import { t, tn } from '../i18n.js';
import { ago, dateTime, num } from '../format.js';
import { actionButton, badge, card, code, confirmDialog, failure, field, loading, notify, pageHeader, select, table } from '../ui.js';

const LIMIT = 100;

export async function render(page, ctx, search = { q: '', channel: '' }) {
  const base = `/apps/${seg(ctx.app)}`;
  const header = pageHeader(t('devices.title'), t('devices.subtitle'));
  mount(page, header, loading());
  let channels;
  let devices;
  const params = new URLSearchParams({ limit: String(LIMIT) });
  if (search.q) params.set('search', search.q);
  if (search.channel) params.set('channel', search.channel);
  try {
    [channels, devices] = await Promise.all([get(`${base}/channels`), get(`${base}/devices?${params}`)]);
  } catch (e) {
    mount(page, header, failure(e, () => render(page, ctx, search)));
    return;
  }
  const again = (next) => render(page, ctx, next || search);

  const q = h('input', {
    type: 'search',
    value: search.q,
    placeholder: t('devices.search_placeholder'),
    'aria-label': t('devices.search'),
    class: 'input-search',
    dataset: { test: 'device-search' },
  });
  const channelFilter = select([['', t('devices.all_channels')], ...channels.map((c) => [c.name, c.name])], search.channel, {
    'aria-label': t('devices.channel_filter'),
  });
  const form = h(
    'form',
    { class: 'toolbar', role: 'search' },
    q,
    channelFilter,
    h('button', { type: 'submit', class: 'btn btn-primary', dataset: { test: 'device-search-go' }, text: t('devices.search') }),
    search.q || search.channel
      ? h('button', { type: 'button', class: 'btn btn-ghost', text: t('devices.clear_search'), onclick: () => again({ q: '', channel: '' }) })
      : null,
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    again({ q: q.value.trim(), channel: channelFilter.value });
  });

  const force = (d) =>
    actionButton(
      t('devices.force'),
      async () => {
        const choice = select(
          channels.map((c) => [c.name, c.name]),
          d.override_channel || d.channel || (channels[0] && channels[0].name),
          { dataset: { test: 'force-select' } },
        );
        const ok = await confirmDialog({
          title: t('devices.force_title'),
          body: [h('p', null, t('devices.force_body'), ' ', code(d.device_id)), field(t('devices.force_channel'), choice), h('p', { class: 'muted', text: t('devices.force_hint') })],
          confirmLabel: t('devices.force_confirm'),
        });
        if (!ok) return;
        const answer = await put(`${base}/devices/${seg(d.device_id)}/override`, { channel: choice.value });
        notify('success', t('devices.forced', { device: answer.device_id, channel: answer.channel }));
        await again();
      },
      { class: 'btn btn-small', dataset: { test: 'force' } },
    );
  const clear = (d) =>
    actionButton(
      t('devices.unforce'),
      async () => {
        const ok = await confirmDialog({
          title: t('devices.unforce_title'),
          body: [h('p', null, t('devices.unforce_body', { channel: d.override_channel }), ' ', code(d.device_id))],
          confirmLabel: t('devices.unforce'),
        });
        if (!ok) return;
        await del(`${base}/devices/${seg(d.device_id)}/override`);
        notify('success', t('devices.unforced', { device: d.device_id }));
        await again();
      },
      { class: 'btn btn-small btn-ghost', dataset: { test: 'unforce' } },
    );

  const rows = table(
    [
      { label: t('devices.col.device'), cell: (d) => h('code', { class: 'device-id', dataset: { test: 'device-id' }, text: d.device_id }) },
      { label: t('devices.col.custom_id'), cell: (d) => (d.custom_id ? h('span', { class: 'custom-id', dataset: { test: 'custom-id' }, text: d.custom_id }) : h('span', { class: 'muted', text: t('common.none') })) },
      {
        label: t('devices.col.platform'),
        cell: (d) => h('span', null, platformName(d.platform), ' ', h('small', { class: 'muted', text: d.version_os }), d.is_emulator ? badge(t('devices.emulator'), 'neutral') : null, !d.is_prod ? badge(t('devices.dev_build'), 'neutral') : null),
      },
      { label: t('devices.col.version'), cell: (d) => h('span', null, d.version_name === 'builtin' ? h('span', { text: t('channels.builtin') }) : code(d.version_name), h('br'), h('small', { class: 'muted', text: t('devices.native', { build: d.version_build }) })) },
      { label: t('devices.col.channel'), cell: (d) => (d.channel ? d.channel : h('span', { class: 'muted', text: t('common.none') })) },
      {
        label: t('devices.col.override'),
        cell: (d) =>
          d.override_channel
            ? h('span', null, badge(d.override_channel, 'amber'), h('br'), h('small', { class: 'muted', text: d.override_set_by === 'device' ? t('devices.set_by_device') : d.override_set_by || '' }))
            : h('span', { class: 'muted', text: t('common.none') }),
      },
      { label: t('devices.col.plugin'), cell: (d) => d.plugin_version },
      { label: t('devices.col.last_seen'), cell: (d) => h('span', { title: dateTime(d.last_seen), text: ago(d.last_seen) }) },
      { label: '', class: 'actions', cell: (d) => h('span', { class: 'row-actions' }, channels.length ? force(d) : null, d.override_channel ? clear(d) : null) },
    ],
    devices,
    {
      emptyText: search.q || search.channel ? t('devices.no_match') : t('devices.empty'),
      rowTest: (d) => `device-${d.device_id}`,
    },
  );
  mount(
    page,
    header,
    card(
      null,
      form,
      h('p', { class: 'card-hint', dataset: { test: 'device-count' } }, devices.length >= LIMIT ? t('devices.count_limited', { n: num(LIMIT) }) : tn('devices.count', devices.length, { n: num(devices.length) })),
      rows,
    ),
  );
}

function platformName(p) {
  return { ios: 'iOS', android: 'Android', electron: 'Electron' }[p] || p;
}
