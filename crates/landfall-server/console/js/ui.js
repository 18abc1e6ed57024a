// Shared pieces of the pages: headers, cards, tables, empty states, messages, confirmations.

import { h, mount } from './dom.js';
import { errorText } from './api.js';
import { t } from './i18n.js';

/** The message area at the top of the page (errors: role=alert; successes: role=status). */
export function notify(kind, text) {
  const area = document.getElementById('messages');
  if (!area) return;
  const close = h('button', {
    class: 'msg-close',
    type: 'button',
    'aria-label': t('common.dismiss'),
    text: '×',
    onclick: () => box.remove(),
  });
  const box = h(
    'div',
    {
      class: `msg msg-${kind}`,
      role: kind === 'error' ? 'alert' : 'status',
      dataset: { test: `msg-${kind}` },
    },
    h('span', { class: 'msg-text', text }),
    close,
  );
  area.append(box);
  if (kind === 'success') setTimeout(() => box.remove(), 8000);
}

export function notifyError(err) {
  notify('error', errorText(err));
}

export function clearMessages() {
  const area = document.getElementById('messages');
  if (area) area.replaceChildren();
}

export function pageHeader(title, subtitle, ...actions) {
  return h(
    'div',
    { class: 'page-header' },
    h('div', null, h('h1', { text: title }), subtitle ? h('p', { class: 'subtitle' }, subtitle) : null),
    actions.length ? h('div', { class: 'page-actions' }, actions) : null,
  );
}

export function card(title, ...children) {
  return h('section', { class: 'card' }, title ? h('h2', { class: 'card-title', text: title }) : null, children);
}

/** A key figure: label, value, optional hint. */
export function stat(label, value, hint, test, extraClass) {
  return h(
    'div',
    { class: extraClass ? `stat ${extraClass}` : 'stat', dataset: test ? { test } : undefined },
    h('div', { class: 'stat-label', text: label }),
    h('div', { class: 'stat-value', text: value }),
    hint ? h('div', { class: 'stat-hint', text: hint }) : null,
  );
}

export function empty(text, hint) {
  return h('div', { class: 'empty' }, h('p', { text }), hint ? h('p', { class: 'empty-hint' }, hint) : null);
}

export function badge(text, kind = 'neutral') {
  return h('span', { class: `badge badge-${kind}`, text });
}

/** Monospace text (ids, versions, commands). */
export function code(text) {
  return h('code', { text: text === null || text === undefined ? '' : String(text) });
}

/**
 * A table. columns: [{label, cell(row) → node|string, class}]; rows: array.
 * Without rows it shows `emptyText`.
 */
export function table(columns, rows, { emptyText, rowTest } = {}) {
  if (!rows.length) return empty(emptyText || t('common.empty'));
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      null,
      h('thead', null, h('tr', null, columns.map((c) => h('th', { class: c.class, text: c.label })))),
      h(
        'tbody',
        null,
        rows.map((r) =>
          h(
            'tr',
            { dataset: rowTest ? { test: rowTest(r) } : undefined },
            columns.map((c) => h('td', { class: c.class }, c.cell(r))),
          ),
        ),
      ),
    ),
  );
}

export function loading() {
  return h('div', { class: 'loading', role: 'status' }, h('span', { class: 'spinner' }), t('common.loading'));
}

/** A failure of the whole page: the translated message and a retry button. */
export function failure(err, retry) {
  return h(
    'div',
    { class: 'failure', role: 'alert', dataset: { test: 'page-error' } },
    h('h2', { text: t('error.title') }),
    h('p', { text: errorText(err) }),
    retry ? h('button', { type: 'button', class: 'btn', text: t('common.retry'), onclick: retry }) : null,
  );
}

/**
 * A modal confirmation. body: nodes. Resolves true when confirmed.
 */
export function confirmDialog({ title, body, confirmLabel, danger = false }) {
  return new Promise((resolve) => {
    const dialog = h('dialog', { class: 'dialog', dataset: { test: 'confirm' } });
    const done = (ok) => {
      dialog.close();
      dialog.remove();
      resolve(ok);
    };
    mount(
      dialog,
      h('h2', { class: 'dialog-title', text: title }),
      h('div', { class: 'dialog-body' }, body),
      h(
        'div',
        { class: 'dialog-actions' },
        h('button', { type: 'button', class: 'btn', text: t('common.cancel'), onclick: () => done(false) }),
        h('button', {
          type: 'button',
          class: danger ? 'btn btn-danger' : 'btn btn-primary',
          text: confirmLabel || t('common.confirm'),
          dataset: { test: 'confirm-ok' },
          onclick: () => done(true),
        }),
      ),
    );
    dialog.addEventListener('cancel', (e) => {
      e.preventDefault();
      done(false);
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}

/** A labelled form field. */
export function field(label, control) {
  return h('label', { class: 'field' }, h('span', { class: 'field-label', text: label }), control);
}

/** A <select> of [value, label] pairs. */
export function select(options, value, props = {}) {
  return h(
    'select',
    props,
    options.map(([v, label]) => h('option', { value: v, selected: v === value, text: label })),
  );
}

/** A button that runs an async action, disabled while it runs; failures are shown. */
export function actionButton(label, action, props = {}) {
  const btn = h('button', { type: 'button', class: 'btn', ...props, text: label });
  btn.addEventListener('click', async () => {
    btn.disabled = true;
    try {
      await action();
    } catch (e) {
      notifyError(e);
    } finally {
      btn.disabled = false;
    }
  });
  return btn;
}
