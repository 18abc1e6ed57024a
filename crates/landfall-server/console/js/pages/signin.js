// Sign-in: username and password → POST /api/v1/session (sets the HttpOnly cookie, answers the
// CSRF token).

import { h } from '../dom.js';
import { api, errorText } from '../api.js';
import { t } from '../i18n.js';

export function render({ languageSwitch, message, onSignedIn }) {
  const username = h('input', { name: 'username', autocomplete: 'username', required: true, dataset: { test: 'username' } });
  const password = h('input', {
    name: 'password',
    type: 'password',
    autocomplete: 'current-password',
    required: true,
    dataset: { test: 'password' },
  });
  const status = h('div', { class: 'signin-message', 'aria-live': 'polite' });
  const show = (kind, text) => {
    status.replaceChildren(h('div', { class: `msg msg-${kind}`, role: kind === 'error' ? 'alert' : 'status', dataset: { test: `signin-${kind}` }, text }));
  };
  if (message) show(message.kind, message.text);
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-block', dataset: { test: 'signin-submit' }, text: t('signin.submit') });
  const form = h(
    'form',
    { class: 'signin-form', novalidate: true },
    h('label', { class: 'field' }, h('span', { class: 'field-label', text: t('signin.username') }), username),
    h('label', { class: 'field' }, h('span', { class: 'field-label', text: t('signin.password') }), password),
    status,
    submit,
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!username.value.trim() || !password.value) {
      show('error', t('signin.missing'));
      return;
    }
    submit.disabled = true;
    try {
      const session = await api('POST', '/session', { username: username.value.trim(), password: password.value }, { quiet401: true });
      onSignedIn(session);
    } catch (err) {
      password.value = '';
      show('error', errorText(err));
      password.focus();
    } finally {
      submit.disabled = false;
    }
  });
  setTimeout(() => username.focus(), 0);
  return h(
    'div',
    { class: 'signin-page' },
    h('div', { class: 'signin-lang' }, languageSwitch()),
    h(
      'div',
      { class: 'signin-card' },
      h('div', { class: 'signin-brand' }, h('span', { class: 'brand-mark', 'aria-hidden': 'true' }), h('span', { text: t('app.name') })),
      h('h1', { text: t('signin.title') }),
      h('p', { class: 'subtitle', text: t('signin.subtitle') }),
      form,
      h('p', { class: 'signin-hint' }, t('signin.hint'), ' ', h('code', { text: 'landfall user create' })),
    ),
  );
}
