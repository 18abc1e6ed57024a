// An app's overview: active devices, the latest releases' adoption curves and install health,
// failures by action, the versions devices run. Live: GET /stats/live (server-sent events) says
// when new stats were stored; the report is then fetched again.

import { h, mount } from '../dom.js';
import { get, seg } from '../api.js';
import { t, tCode } from '../i18n.js';
import { bytes, clock, dateTime, duration, num, pct } from '../format.js';
import { adoptionChart, barChart, frame, PALETTE } from '../charts.js';
import { badge, card, code, empty, failure, loading, notifyError, pageHeader, stat, table } from '../ui.js';

const LIVE = { connecting: 'overview.live_connecting', on: 'overview.live_on', reconnecting: 'overview.live_reconnecting' };

export async function render(page, ctx) {
  const app = ctx.app;
  let charts = [];
  let source = null;
  let closed = false;
  let fetching = null;
  let again = false;
  const liveBadge = h('span', { class: 'live live-connecting', dataset: { test: 'live' } });
  const updated = h('span', { class: 'updated', dataset: { test: 'updated' } });
  const setLive = (kind) => {
    liveBadge.className = `live live-${kind}`;
    liveBadge.textContent = t(LIVE[kind]);
    liveBadge.dataset.state = kind;
  };
  setLive('connecting');

  const destroyCharts = () => {
    for (const c of charts) c.destroy();
    charts = [];
  };

  const body = h('div', { class: 'overview' }, loading());
  mount(page, pageHeader(t('overview.title'), h('span', { class: 'subtitle-line' }, code(app), updated, liveBadge)), body);

  const draw = (report) => {
    destroyCharts();
    updated.textContent = t('overview.updated_at', { time: clock(report.generated_at) });
    page.dataset.generatedAt = String(report.generated_at);
    mount(body, ...sections(report, charts));
  };

  const refresh = async (first) => {
    if (fetching) {
      again = true;
      return fetching;
    }
    fetching = (async () => {
      try {
        const report = await get(`/apps/${seg(app)}/stats?releases=5`);
        if (!closed) draw(report);
      } catch (e) {
        if (closed) return;
        if (first) {
          destroyCharts();
          mount(body, failure(e, () => refresh(true)));
        } else notifyError(e);
      } finally {
        fetching = null;
        if (again && !closed) {
          again = false;
          refresh(false);
        }
      }
    })();
    return fetching;
  };

  await refresh(true);

  if (!closed && typeof EventSource === 'function') {
    source = new EventSource(`/api/v1/apps/${seg(app)}/stats/live`);
    source.addEventListener('open', () => setLive('on'));
    source.addEventListener('stats', () => {
      setLive('on');
      refresh(false);
    });
    source.addEventListener('error', async () => {
      if (closed) return;
      setLive('reconnecting');
      // The stream also fails when the session ended: find out (a 401 goes back to sign-in).
      try {
        await get('/session');
      } catch {
        // handled by the API layer
      }
    });
  }

  return () => {
    closed = true;
    if (source) source.close();
    destroyCharts();
  };
}

function sections(report, charts) {
  const releases = report.releases;
  const latest = releases[0];
  const kpis = h(
    'div',
    { class: 'stats-row' },
    stat(t('overview.active_day'), num(report.active_devices.day), null, 'active-day'),
    stat(t('overview.active_month'), num(report.active_devices.month), null, 'active-month'),
    latest
      ? stat(
          t('overview.latest_release'),
          latest.version_name,
          t('overview.latest_devices', { n: num(latest.devices) }),
          'latest-release',
        )
      : stat(t('overview.latest_release'), t('common.none')),
    latest
      ? stat(t('overview.latest_share'), pct(share(latest)), t('overview.of_active'), 'latest-share')
      : null,
    latest
      ? stat(
          t('overview.success_rate'),
          pct(latest.installs.success_rate),
          t('overview.installs_of', { ok: num(latest.installs.succeeded), all: num(latest.installs.attempted) }),
          'latest-success',
        )
      : null,
    latest ? stat(t('overview.first_try'), pct(latest.installs.first_try_rate), null, 'latest-first-try') : null,
  );
  if (!releases.length) {
    return [kpis, card(t('overview.adoption'), empty(t('overview.no_releases'), [t('overview.no_releases_hint'), ' ', code('landfall bundle upload <app> ./dist --version 1.0.0 --channel production')]))];
  }

  // Adoption curves.
  const adoption = frame(t('overview.adoption_chart'), 'adoption-chart');
  const adoptionCard = card(
    t('overview.adoption'),
    h('p', { class: 'card-hint', text: t('overview.adoption_hint') }),
    adoption.box,
  );
  adoption.plot.dataset.latest = latest ? String(latest.devices) : '0';

  // Success rate per release and failures by action.
  const success = frame(t('overview.success_chart'), 'success-chart');
  const failures = frame(t('overview.failures_chart'), 'failures-chart');
  const actions = report.failures.by_action;
  const healthRow = h(
    'div',
    { class: 'grid-2' },
    card(t('overview.success'), success.box),
    card(t('overview.failures'), actions.length ? failures.box : empty(t('overview.no_failures'))),
  );

  const releaseTable = table(
    [
      { label: t('overview.col.release'), cell: (r) => code(r.version_name) },
      { label: t('overview.col.released'), cell: (r) => dateTime(r.released_at) },
      { label: t('overview.col.devices'), class: 'num', cell: (r) => h('span', { dataset: { test: 'devices' }, text: num(r.devices) }) },
      { label: t('overview.col.share'), class: 'num', cell: (r) => pct(share(r)) },
      {
        label: t('overview.col.time_to'),
        cell: (r) => h('span', { class: 'milestones', text: t('overview.milestones', { p50: duration(r.time_to.p50), p90: duration(r.time_to.p90), p95: duration(r.time_to.p95) }) }),
      },
      { label: t('overview.col.success'), class: 'num', cell: (r) => pct(r.installs.success_rate) },
      { label: t('overview.col.first_try'), class: 'num', cell: (r) => pct(r.installs.first_try_rate) },
      { label: t('overview.col.install_time'), class: 'num', cell: (r) => duration(r.install_duration_ms.p50) },
      { label: t('overview.col.rollbacks'), class: 'num', cell: (r) => num(r.rollbacks) },
    ],
    releases,
    { rowTest: (r) => `release-${r.version_name}` },
  );

  const versions = table(
    [
      { label: t('overview.col.version'), cell: (v) => (v.version_name === 'builtin' ? t('channels.builtin') : code(v.version_name)) },
      { label: t('overview.col.devices'), class: 'num', cell: (v) => num(v.devices) },
      { label: t('overview.col.share_seen'), class: 'num', cell: (v) => pct(v.share) },
    ],
    report.versions,
    { emptyText: t('overview.no_devices') },
  );

  const health = report.health.length
    ? table(
        [
          { label: t('overview.col.signal'), cell: (a) => tCode('health', a.action, 'health.other') },
          { label: t('overview.col.events'), class: 'num', cell: (a) => num(a.events) },
        ],
        report.health,
      )
    : empty(t('overview.no_health'));

  const served = h(
    'div',
    { class: 'stats-row stats-row-small' },
    stat(t('overview.bytes_full'), bytes(report.bytes_served.full.bytes), t('overview.requests', { n: num(report.bytes_served.full.requests) })),
    stat(t('overview.bytes_delta'), bytes(report.bytes_served.delta.bytes), t('overview.requests', { n: num(report.bytes_served.delta.requests) })),
  );

  // Charts are made once their containers are in the page (they measure their width).
  requestAnimationFrame(() => {
    if (!adoption.plot.isConnected) return;
    charts.push(adoptionChart(adoption.plot, releases, report.generated_at, { time: t('overview.time') }));
    const ordered = [...releases].reverse();
    charts.push(
      barChart(success.plot, {
        labels: ordered.map((r) => r.version_name),
        values: ordered.map((r) => (r.installs.success_rate === null ? null : r.installs.success_rate * 100)),
        color: PALETTE[1],
        format: (v) => `${Math.round(v)}%`,
        max: 100,
      }),
    );
    if (actions.length) {
      const top = actions.slice(0, 8);
      charts.push(
        barChart(failures.plot, {
          labels: top.map((a) => tCode('failure', a.key, 'failure.other')),
          values: top.map((a) => a.events),
          color: PALETTE[2],
          format: (v) => num(Math.round(v)),
          counts: true,
        }),
      );
    }
  });

  return [
    kpis,
    adoptionCard,
    healthRow,
    card(t('overview.releases'), releaseTable),
    h('div', { class: 'grid-2' }, card(t('overview.versions'), versions), card(t('overview.health'), health)),
    card(t('overview.bytes'), served, h('p', { class: 'card-hint', text: t('overview.bytes_hint') })),
    badge(t('overview.since', { since: dateTime(report.since) }), 'neutral'),
  ];
}

/** A release's share now: the last point of its adoption curve. */
function share(r) {
  return r.adoption.length ? r.adoption[r.adoption.length - 1].share : 0;
}
