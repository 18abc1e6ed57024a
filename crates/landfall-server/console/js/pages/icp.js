// The ICP desk of an app: filing state and timeline, readiness checklist, compliance calendar
// (overdue first), incidents with the kill switch, and the public number preview (GET /icp/{app}).
// Texts the server gives in both languages ({en, zh}) are shown in the console's language.

import { h, mount } from '../dom.js';
import { ApiError, errorText, get, post, publicJson, seg } from '../api.js';
import { localized, t, tCode, tn } from '../i18n.js';
import { dateTime, day, num } from '../format.js';
import { actionButton, badge, card, code, confirmDialog, empty, failure, field, loading, notify, pageHeader, select, stat, table } from '../ui.js';

/** A request whose failure is shown in its section instead of failing the page. */
async function attempt(p) {
  try {
    return { ok: await p };
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    return { err: e };
  }
}

const iso = (s) => (s ? Date.parse(s) : null);

export async function render(page, ctx) {
  const header = pageHeader(t('icp.title'), t('icp.subtitle'));
  mount(page, header, loading());
  const base = `/apps/${seg(ctx.app)}`;
  const filing = await attempt(get(`${base}/icp/filing`));
  if (filing.err) {
    if (filing.err.code === 'filing_not_found') {
      mount(page, header, card(null, empty(t('icp.no_filing'), [t('icp.no_filing_hint'), ' ', code(`landfall icp filing record ${ctx.app} filing.json`)])));
    } else {
      mount(page, header, failure(filing.err, () => render(page, ctx)));
    }
    return;
  }
  const [timeline, readiness, compliance, incidents, channels, bundles, display] = await Promise.all([
    attempt(get(`${base}/icp/timeline`)),
    attempt(get(`${base}/icp/readiness`)),
    attempt(get(`${base}/icp/compliance`)),
    attempt(get(`${base}/icp/incidents`)),
    attempt(get(`${base}/channels`)),
    attempt(get(`${base}/bundles`)),
    attempt(publicJson(`/icp/${seg(ctx.app)}`)),
  ]);
  const f = filing.ok;
  const reload = () => render(page, ctx);
  mount(
    page,
    header,
    filingCard(f, readiness),
    h('div', { class: 'grid-2' }, timelineCard(f, timeline), previewCard(display, ctx.app)),
    readinessCard(readiness),
    complianceCard(compliance),
    incidentsCard(incidents, channels, bundles, base, reload),
  );
}

function sectionError(r) {
  return h('div', { class: 'msg msg-error', role: 'alert', text: errorText(r.err) });
}

function stateKind(state) {
  if (state === 'active') return 'green';
  if (state === 'cancelled' || state === 'abandoned') return 'red';
  if (state === 'draft') return 'neutral';
  return 'amber';
}

function filingCard(f, readiness) {
  const ready = readiness.ok;
  return h(
    'section',
    { class: 'card', dataset: { test: 'icp-filing' } },
    h('h2', { class: 'card-title', text: t('icp.filing') }),
    h(
      'div',
      { class: 'stats-row' },
      h(
        'div',
        { class: 'stat' },
        h('div', { class: 'stat-label', text: t('icp.state') }),
        h('div', { class: 'stat-value' }, badge(localized(f.state_label), stateKind(f.state))),
        h('div', { class: 'stat-hint', text: t('icp.state_since', { at: dateTime(iso(f.filing.state_since)) }) }),
      ),
      stat(t('icp.order'), tCode('icp.order', f.order, 'icp.order.other')),
      stat(t('icp.entity'), f.record.entity.name, null, 'icp-entity', 'stat-text'),
      stat(t('icp.app_name'), f.record.app.name, null, 'icp-app-name', 'stat-text'),
      ready ? stat(t('icp.readiness'), ready.ready ? t('icp.ready') : tn('icp.blockers', ready.blockers.length, { n: num(ready.blockers.length) }), null, 'icp-ready') : null,
    ),
    f.update_required ? h('div', { class: 'msg msg-warning', role: 'status', text: t('icp.update_required') }) : null,
    f.allowed_events.length
      ? h(
          'p',
          { class: 'card-hint' },
          t('icp.next_steps'),
          ' ',
          h('span', { class: 'badges' }, f.allowed_events.map((e) => badge(tCode('icp.step', e, 'icp.step.other'), 'neutral'))),
        )
      : null,
  );
}

function timelineCard(f, timeline) {
  const events = [...f.filing.history].reverse();
  const history = events.length
    ? h(
        'ol',
        { class: 'timeline' },
        events.map((e) =>
          h(
            'li',
            { class: 'timeline-item' },
            h('div', { class: 'timeline-when', text: dateTime(iso(e.at)) }),
            h(
              'div',
              { class: 'timeline-what' },
              h('strong', { text: tCode('icp.event', e.event, 'icp.event.other') }),
              ' ',
              h('span', { class: 'muted', text: t('icp.transition', { from: tCode('icp.state', e.from, 'icp.state.other'), to: tCode('icp.state', e.to, 'icp.state.other') }) }),
            ),
            h('div', { class: 'timeline-who muted', text: e.actor }),
            e.note ? h('div', { class: 'timeline-note', text: e.note }) : null,
          ),
        ),
      )
    : empty(t('icp.no_history'));
  let estimate;
  if (timeline.err) {
    estimate = timeline.err.code === 'year_not_loaded' ? h('div', { class: 'msg msg-warning', role: 'status', text: t('error.year_not_loaded') }) : sectionError(timeline);
  } else {
    const tl = timeline.ok.timeline;
    estimate = tl.stages.length
      ? h(
          'div',
          null,
          h('p', { class: 'card-hint', dataset: { test: 'icp-completion' } }, t('icp.completion', { earliest: day(tl.earliest_completion), latest: day(tl.latest_completion) })),
          table(
            [
              { label: t('icp.col.stage'), cell: (s) => localized(s.label) },
              { label: t('icp.col.working_days'), class: 'num', cell: (s) => t('icp.days_range', { min: s.window.min, max: s.window.max }) },
              { label: t('icp.col.ends'), cell: (s) => t('icp.date_range', { from: day(s.earliest_end), to: day(s.latest_end) }) },
            ],
            tl.stages,
          ),
        )
      : h('p', { class: 'card-hint', text: t('icp.nothing_pending') });
  }
  return card(t('icp.timeline'), h('h3', { class: 'sub', text: t('icp.estimate') }), estimate, h('h3', { class: 'sub', text: t('icp.history') }), history);
}

function previewCard(display, app) {
  let body;
  if (display.err) {
    body = display.err.code === 'not_filed' ? empty(t('icp.preview_none')) : sectionError(display);
  } else {
    const d = display.ok;
    body = h(
      'div',
      { class: 'icp-preview', dataset: { test: 'icp-preview' } },
      d.lines.map((l) =>
        h(
          'p',
          { class: 'icp-line' },
          h('span', { class: 'icp-label', text: `${localized(l.label)}${t('icp.label_colon')}` }),
          l.url ? h('a', { href: l.url, target: '_blank', rel: 'noopener noreferrer', text: l.value }) : h('span', { text: l.value }),
        ),
      ),
      d.miit_url ? h('p', { class: 'icp-line' }, h('a', { href: d.miit_url, target: '_blank', rel: 'noopener noreferrer', text: t('icp.miit_link') })) : null,
    );
  }
  return card(
    t('icp.preview'),
    h('p', { class: 'card-hint' }, t('icp.preview_hint'), ' ', h('a', { href: `/icp/${encodeURIComponent(app)}?format=html`, target: '_blank', rel: 'noopener', text: `/icp/${app}` })),
    body,
  );
}

function readinessCard(readiness) {
  if (readiness.err) return card(t('icp.readiness'), sectionError(readiness));
  const r = readiness.ok;
  const findings = [...r.blockers, ...r.warnings];
  return card(
    t('icp.checklist'),
    h(
      'p',
      { class: 'card-hint' },
      r.ready ? badge(t('icp.ready'), 'green') : badge(tn('icp.blockers', r.blockers.length, { n: num(r.blockers.length) }), 'red'),
      ' ',
      t('icp.checked_on', { on: day(r.checked_on) }),
    ),
    findings.length
      ? h(
          'ul',
          { class: 'findings' },
          findings.map((x) => h('li', { class: `finding finding-${x.severity}` }, badge(tCode('icp.severity', x.severity, 'icp.severity.other'), x.severity === 'blocker' ? 'red' : 'amber'), ' ', localized(x.message))),
        )
      : null,
    h(
      'details',
      { class: 'history' },
      h('summary', { text: t('icp.checklist_items', { n: num(r.checklist.length) }) }),
      table(
        [
          { label: t('icp.col.document'), cell: (c) => localized(c.requirement.title) },
          { label: t('icp.col.required'), cell: (c) => (c.requirement.required ? t('icp.required') : t('icp.optional')) },
          { label: t('icp.col.status'), cell: (c) => badge(tCode('icp.doc_status', c.status, 'icp.doc_status.other'), c.status === 'missing' ? (c.requirement.required ? 'red' : 'neutral') : 'green') },
        ],
        r.checklist,
      ),
    ),
  );
}

function complianceCard(compliance) {
  if (compliance.err) return card(t('icp.compliance'), sectionError(compliance));
  const c = compliance.ok;
  const order = { overdue: 0, due: 1, done: 2 };
  const items = [...c.items].sort((a, b) => order[a.status] - order[b.status] || a.due_on.localeCompare(b.due_on));
  const overdue = items.filter((i) => i.status === 'overdue').length;
  return h(
    'section',
    { class: 'card', dataset: { test: 'icp-compliance' } },
    h('h2', { class: 'card-title', text: t('icp.compliance') }),
    h(
      'p',
      { class: 'card-hint' },
      overdue ? badge(tn('icp.overdue_count', overdue, { n: num(overdue) }), 'red') : badge(t('icp.nothing_overdue'), 'green'),
      ' ',
      t('icp.today', { today: day(c.today) }),
      ' ',
      c.launch_date_assumed ? t('icp.launch_assumed') : t('icp.launch', { on: day(c.launch_date) }),
    ),
    table(
      [
        { label: t('icp.col.task'), cell: (i) => localized(i.title) },
        { label: t('icp.col.due'), cell: (i) => day(i.due_on) },
        { label: t('icp.col.status'), cell: (i) => badge(tCode('icp.item_status', i.status, 'icp.item_status.other'), i.status === 'overdue' ? 'red' : i.status === 'due' ? 'amber' : 'green') },
        { label: t('icp.col.last_done'), cell: (i) => (i.last_done ? day(i.last_done) : t('common.none')) },
      ],
      items,
      { rowTest: (i) => `compliance-${i.status}` },
    ),
  );
}

function incidentsCard(incidents, channels, bundles, base, reload) {
  if (incidents.err) return card(t('icp.incidents'), sectionError(incidents));
  const list = [...incidents.ok].sort((a, b) => b.id - a.id);
  const chans = channels.ok || [];
  const devices = chans.reduce((n, c) => n + c.devices, 0);
  const targets = [...(bundles.ok || [])].sort((a, b) => b.created_at - a.created_at).map((b) => [b.version, b.version]);
  targets.push(['builtin', t('channels.builtin')]);

  const killSwitch = (i) =>
    actionButton(
      t('icp.kill_switch'),
      async () => {
        const target = select(targets, targets[0][0], { dataset: { test: 'kill-target' } });
        const note = h('input', { type: 'text', class: 'input-wide', maxlength: '500' });
        const ok = await confirmDialog({
          title: t('icp.kill_title'),
          body: [
            h('p', { text: t('icp.kill_body') }),
            field(t('icp.kill_target'), target),
            field(t('icp.kill_note'), note),
            h('p', { class: 'affected', dataset: { test: 'affected' } }, tn('icp.kill_affects', devices, { n: num(devices), channels: num(chans.length) })),
          ],
          confirmLabel: t('icp.kill_confirm'),
          danger: true,
        });
        if (!ok) return;
        const res = await post(`${base}/icp/incidents/${i.id}/kill-switch`, { target: target.value, note: note.value });
        notify('success', tn('icp.kill_done', res.channels.length, { n: num(res.channels.length), target: res.target === 'builtin' ? t('channels.builtin') : res.target }));
        await reload();
      },
      { class: 'btn btn-danger btn-small', dataset: { test: 'kill-switch' } },
    );

  return card(
    t('icp.incidents'),
    table(
      [
        { label: t('icp.col.incident'), cell: (i) => h('span', null, h('strong', { text: `#${i.id} ` }), i.title) },
        { label: t('icp.col.severity'), cell: (i) => badge(tCode('icp.incident_severity', i.severity, 'icp.incident_severity.other'), i.severity === 'critical' || i.severity === 'high' ? 'red' : 'amber') },
        { label: t('icp.col.status'), cell: (i) => badge(tCode('icp.incident_status', i.status, 'icp.incident_status.other'), i.status === 'open' ? 'red' : i.status === 'contained' ? 'amber' : 'green') },
        { label: t('icp.col.opened'), cell: (i) => h('span', null, dateTime(iso(i.opened_at)), h('br'), h('small', { class: 'muted', text: i.opened_by })) },
        { label: t('icp.col.actions'), cell: (i) => (i.actions.length ? i.actions.map((a) => h('div', { class: 'small', text: actionText(a) })) : h('span', { class: 'muted', text: t('common.none') })) },
        { label: '', class: 'actions', cell: (i) => (i.status === 'open' || i.status === 'contained' ? killSwitch(i) : null) },
      ],
      list,
      { emptyText: t('icp.no_incidents'), rowTest: (i) => `incident-${i.id}` },
    ),
    h('p', { class: 'card-hint' }, t('icp.incident_hint'), ' ', code('landfall icp incident create')),
  );
}

function actionText(a) {
  if (a.kind === 'kill_switch') {
    return t('icp.action_kill', { at: dateTime(iso(a.at)), channels: a.channels.map((c) => `${c.channel}: ${c.from} → ${c.to}`).join(t('common.list_separator')) });
  }
  return `${dateTime(iso(a.at))} ${tCode('icp.action', a.kind, 'icp.action.other')}`;
}
