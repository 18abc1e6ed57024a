// The console's shell: language, session, layout and the hash router
// (#/signin, #/apps, #/apps/<app>/<page>).

import { h, mount } from './dom.js';
import { api, errorText, get, setSession, whenSignedOut } from './api.js';
import { init as initI18n, language, LANGUAGES, onLanguageChange, setLanguage, t, tCode } from './i18n.js';
import { clearMessages, notify, select } from './ui.js';
import * as signin from './pages/signin.js';
import * as apps from './pages/apps.js';
import * as overview from './pages/overview.js';
import * as bundles from './pages/bundles.js';
import * as channels from './pages/channels.js';
import * as devices from './pages/devices.js';
import * as audit from './pages/audit.js';
import * as icp from './pages/icp.js';

const APP_PAGES = { overview, bundles, channels, devices, audit, icp };
const NAV = [
  ['overview', 'nav.overview'],
  ['bundles', 'nav.bundles'],
  ['channels', 'nav.channels'],
  ['devices', 'nav.devices'],
  ['audit', 'nav.audit'],
  ['icp', 'nav.icp'],
];

const state = {
  session: null,
  apps: null,
  cleanup: null,
  // Shown on the sign-in page once (why the user is there).
  signInMessage: null,
  // Where to go after signing in.
  next: null,
};

const root = () => document.getElementById('app');

function parseRoute() {
  const raw = decodeURIComponent(location.hash.replace(/^#/, '')) || '/apps';
  const parts = raw.split('?')[0].split('/').filter(Boolean);
  if (parts[0] === 'signin') return { name: 'signin' };
  if (parts[0] === 'apps' && parts[1]) {
    return { name: 'app', app: parts[1], page: APP_PAGES[parts[2]] ? parts[2] : 'overview' };
  }
  return { name: 'apps' };
}

export function go(hash) {
  if (location.hash === hash) render();
  else location.hash = hash;
}

function languageSwitch() {
  const options = LANGUAGES.map((l) => [l, l === 'en' ? t('language.en') : t('language.zh')]);
  const sel = select(options, language(), {
    class: 'lang-select',
    'aria-label': t('language.label'),
    dataset: { test: 'lang' },
  });
  sel.addEventListener('change', () => setLanguage(sel.value));
  return sel;
}

function roleSummary(user) {
  const roles = user.roles.map((r) =>
    t('role.grant', { role: tCode('role', r.role, 'role.other'), app: r.app === '*' ? t('role.all_apps') : r.app }),
  );
  return roles.join(t('common.list_separator'));
}

async function signOut() {
  try {
    await api('DELETE', '/session');
  } catch (e) {
    // Already ended: nothing to do but forget it.
    if (e.status !== 401) {
      notify('error', errorText(e));
      return;
    }
  }
  state.session = null;
  state.apps = null;
  setSession(null);
  state.signInMessage = { kind: 'success', text: () => t('signin.signed_out') };
  go('#/signin');
}

function topbar(route) {
  const user = state.session.user;
  const appPicker =
    route.name === 'app' && state.apps && state.apps.length
      ? (() => {
          const ids = state.apps.map((a) => [a.app_id, a.name && a.name !== a.app_id ? `${a.name} (${a.app_id})` : a.app_id]);
          if (!ids.some(([id]) => id === route.app)) ids.unshift([route.app, route.app]);
          const sel = select(ids, route.app, { class: 'app-select', 'aria-label': t('nav.app_picker') });
          sel.addEventListener('change', () => go(`#/apps/${encodeURIComponent(sel.value)}/${route.page}`));
          return sel;
        })()
      : null;
  return h(
    'header',
    { class: 'topbar' },
    h('a', { class: 'brand', href: '#/apps' }, h('span', { class: 'brand-mark', 'aria-hidden': 'true' }), t('app.name')),
    appPicker,
    h('div', { class: 'spacer' }),
    languageSwitch(),
    h(
      'div',
      { class: 'user', title: roleSummary(user) },
      h('span', { class: 'user-name', dataset: { test: 'user' }, text: user.username }),
      h('span', { class: 'user-roles', text: roleSummary(user) }),
    ),
    h('button', { type: 'button', class: 'btn btn-ghost', dataset: { test: 'signout' }, text: t('nav.sign_out'), onclick: signOut }),
  );
}

function sidebar(route) {
  return h(
    'nav',
    { class: 'sidebar', 'aria-label': t('nav.sections') },
    h('div', { class: 'sidebar-app' }, h('span', { class: 'sidebar-label', text: t('nav.app') }), h('code', { text: route.app })),
    NAV.map(([page, key]) =>
      h('a', {
        href: `#/apps/${encodeURIComponent(route.app)}/${page}`,
        class: page === route.page ? 'nav-link active' : 'nav-link',
        'aria-current': page === route.page ? 'page' : null,
        dataset: { test: `nav-${page}` },
        text: t(key),
      }),
    ),
    h('a', { href: '#/apps', class: 'nav-link nav-back', text: t('nav.all_apps') }),
  );
}

async function loadApps() {
  if (!state.apps) state.apps = await get('/apps');
  return state.apps;
}

async function render() {
  if (state.cleanup) {
    try {
      state.cleanup();
    } catch {
      // a page's cleanup never stops navigation
    }
    state.cleanup = null;
  }
  const route = parseRoute();
  if (!state.session && route.name !== 'signin') {
    state.next = location.hash;
    go('#/signin');
    return;
  }
  if (route.name === 'signin') {
    if (state.session) {
      go('#/apps');
      return;
    }
    // The reason stays while the sign-in page is shown (re-rendered in the chosen language).
    const message = state.signInMessage ? { kind: state.signInMessage.kind, text: state.signInMessage.text() } : null;
    mount(root(), signin.render({ languageSwitch, message, onSignedIn }));
    return;
  }
  // Signed in: the shell, then the page.
  try {
    await loadApps();
  } catch {
    // the page itself reports failures (and a 401 has already sent us to sign-in)
    if (!state.session) return;
  }
  const page = h('div', { id: 'page' });
  const main = h('main', { class: 'main', id: 'main' }, h('div', { id: 'messages', class: 'messages' }), page);
  const body = route.name === 'app' ? h('div', { class: 'shell' }, sidebar(route), main) : h('div', { class: 'shell shell-wide' }, main);
  mount(root(), topbar(route), body);
  clearMessages();
  const ctx = { app: route.app, session: state.session, apps: state.apps, go };
  const module = route.name === 'app' ? APP_PAGES[route.page] : apps;
  try {
    state.cleanup = (await module.render(page, ctx)) || null;
  } catch (e) {
    notify('error', errorText(e));
  }
}

function onSignedIn(session) {
  state.session = session;
  state.signInMessage = null;
  state.apps = null;
  setSession(session);
  const next = state.next && !state.next.startsWith('#/signin') ? state.next : '#/apps';
  state.next = null;
  go(next);
}

whenSignedOut((err) => {
  if (!state.session) return;
  state.session = null;
  state.apps = null;
  setSession(null);
  state.signInMessage = { kind: 'error', text: () => errorText(err) };
  state.next = location.hash;
  go('#/signin');
});

async function boot() {
  try {
    await initI18n();
  } catch {
    // Without a dictionary nothing can be said in the user's language: both, then.
    mount(root(), h('p', { class: 'boot-error', text: 'Landfall: the console could not load. 控制台加载失败，请刷新页面。' }));
    return;
  }
  try {
    state.session = await get('/session', { quiet401: true });
    setSession(state.session);
  } catch (e) {
    state.session = null;
    if (e.code === 'session_expired' || e.status !== 401) state.signInMessage = { kind: 'error', text: () => errorText(e) };
  }
  onLanguageChange(() => render());
  window.addEventListener('hashchange', render);
  await render();
  document.body.dataset.ready = 'true';
}

boot();
