// Browser tests of the web console in real headless Chromium (Debian's /usr/bin/chromium driven by
// playwright-core). Started by crates/landfall/tests/it/browser.rs, which runs the real
// `landfall serve`, creates the data (app, bundles, channels, users, devices, ICP filing) and
// passes it here in the environment. This script drives the console like a person would, posts
// real device traffic (/stats, /updates) to the same server, and checks what the page shows and
// what devices are answered. Exit code 0 = every scenario passed; screenshots go to
// LANDFALL_ARTIFACTS.

import { createRequire } from 'node:module';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set (this script is run by browser.rs)`);
  return v;
};

const require = createRequire(join(env('LANDFALL_BROWSER_DEPS'), 'package.json'));
const { chromium } = require('playwright-core');

const BASE = env('LANDFALL_URL');
const TOKEN = env('LANDFALL_TOKEN');
const APP = env('CONSOLE_APP');
const ADMIN = { user: env('CONSOLE_ADMIN'), password: env('CONSOLE_ADMIN_PASSWORD') };
const VIEWER = { user: env('CONSOLE_VIEWER'), password: env('CONSOLE_VIEWER_PASSWORD') };
const FRESH = JSON.parse(env('CONSOLE_FRESH_DEVICES'));
const PROBE = env('CONSOLE_PROBE_DEVICE');
const XSS_DEVICE = env('CONSOLE_XSS_DEVICE');
const XSS = env('CONSOLE_XSS_CUSTOM_ID');
const ON_PRODUCTION = Number(env('CONSOLE_PRODUCTION_DEVICES'));
const ADOPTED = Number(env('CONSOLE_ADOPTED'));
const ARTIFACTS = env('LANDFALL_ARTIFACTS');
const CHROMIUM = process.env.LANDFALL_CHROMIUM || '/usr/bin/chromium';
mkdirSync(ARTIFACTS, { recursive: true });

const log = (...a) => console.log(new Date().toISOString().slice(11, 23), ...a);
function check(cond, what) {
  if (!cond) throw new Error(`check failed: ${what}`);
}

// ---- device traffic and API checks (what the server really does) ----

function deviceInfo(deviceId, version, extra = {}) {
  return {
    app_id: APP, device_id: deviceId, version_name: version, version_build: '1.0.0', version_code: '1',
    version_os: '14', platform: 'android', plugin_version: '8.51.14', is_emulator: false, is_prod: true,
    custom_id: '', defaultChannel: '', ...extra,
  };
}

async function updateCheck(deviceId, version = 'builtin') {
  const res = await fetch(`${BASE}/updates`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(deviceInfo(deviceId, version)),
  });
  check(res.ok, `POST /updates answers 200 (got ${res.status})`);
  return res.json();
}

async function postStats(events) {
  const res = await fetch(`${BASE}/stats`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(events) });
  check(res.ok, `POST /stats answers 200 (got ${res.status})`);
}

async function adminGet(path) {
  const res = await fetch(`${BASE}/api/v1${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
  check(res.ok, `GET ${path} with the admin token (got ${res.status})`);
  return res.json();
}

// ---- browser helpers ----

const browser = await chromium.launch({
  executablePath: CHROMIUM,
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
});

const pages = [];
async function newPage(locale) {
  const context = await browser.newContext({ locale, viewport: { width: 1440, height: 960 }, deviceScaleFactor: 1 });
  // CSP violations and uncaught errors fail the run (a listener installed before any page script).
  await context.addInitScript(() => {
    window.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  const page = await context.newPage();
  page.setDefaultTimeout(20000);
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(`uncaught: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content.Security.Policy|Refused to/i.test(m.text())) page.errors.push(`console: ${m.text()}`);
  });
  pages.push(page);
  return page;
}

async function assertClean(page, where) {
  const csp = await page.evaluate(() => window.__csp || []);
  check(csp.length === 0, `${where}: no CSP violation (got ${JSON.stringify(csp)})`);
  check(page.errors.length === 0, `${where}: no page error (got ${JSON.stringify(page.errors)})`);
}

async function shot(page, name) {
  await page.waitForTimeout(300);
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
  log(`screenshot ${name}.png`);
}

const text = (page, selector) => page.locator(selector).first().innerText();

async function waitText(page, selector, expected, what) {
  try {
    await page.waitForFunction(
      ([sel, exp]) => {
        const el = document.querySelector(sel);
        return el && el.textContent.includes(exp);
      },
      [selector, expected],
      { timeout: 20000 },
    );
  } catch (e) {
    const got = await page.locator(selector).first().textContent().catch(() => '(absent)');
    throw new Error(`${what}: expected ${selector} to contain ${JSON.stringify(expected)}, got ${JSON.stringify(got)}`);
  }
}

async function signIn(page, who) {
  await page.fill('[data-test=username]', who.user);
  await page.fill('[data-test=password]', who.password);
  await page.click('[data-test=signin-submit]');
  await page.waitForSelector('[data-test=user]');
  check((await text(page, '[data-test=user]')) === who.user, `signed in as ${who.user}`);
}

async function go(page, section) {
  await page.click(`[data-test=nav-${section}]`);
  await page.waitForFunction((s) => location.hash.endsWith(`/${s}`), section);
}

const results = [];
async function scenario(name, fn) {
  const started = Date.now();
  log(`▶ ${name}`);
  try {
    await fn();
    results.push([name, 'ok', Date.now() - started]);
    log(`✔ ${name} (${Date.now() - started} ms)`);
  } catch (e) {
    results.push([name, 'FAILED', Date.now() - started]);
    log(`✘ ${name}: ${e.stack || e}`);
    for (const [i, p] of pages.entries()) {
      try {
        await p.screenshot({ path: join(ARTIFACTS, `failure-${name.replace(/\W+/g, '-')}-${i}.png`), fullPage: true });
        log(`page ${i} at ${p.url()}:\n${(await p.locator('body').innerText()).slice(0, 3000)}`);
      } catch {
        // the page may be gone
      }
    }
    throw e;
  }
}

// ---- scenarios ----

let admin;
let exitCode = 0;
try {
  await scenario('sign in (zh-CN from the browser, wrong password refused in Chinese)', async () => {
    admin = await newPage('zh-CN');
    await admin.goto(`${BASE}/`);
    await admin.waitForSelector('[data-test=signin-submit]');
    check((await admin.evaluate(() => document.documentElement.lang)) === 'zh-CN', 'the language follows navigator.languages (zh-CN)');
    check((await text(admin, '[data-test=signin-submit]')) === '登录', 'the sign-in button is in Chinese');
    await shot(admin, 'signin-zh-CN');
    await admin.fill('[data-test=username]', ADMIN.user);
    await admin.fill('[data-test=password]', 'not the password at all');
    await admin.click('[data-test=signin-submit]');
    await waitText(admin, '[data-test=signin-error]', '用户名或密码错误', 'a wrong password is refused with a translated message');
    await signIn(admin, ADMIN);
    await admin.click(`[data-test="app-${APP}"]`);
    await admin.waitForSelector('[data-test=adoption-chart] canvas');
    await assertClean(admin, 'overview');
  });

  await scenario('adoption chart and numbers move live as /stats traffic arrives (SSE)', async () => {
    await admin.waitForSelector('[data-test=live][data-state=on]');
    const row = `[data-test="release-1.0.2"] [data-test=devices]`;
    await waitText(admin, row, String(ADOPTED), 'devices that ran 1.0.2 before the traffic');
    await admin.evaluate(() => {
      window.__sameDocument = true;
    });
    const generatedBefore = await admin.evaluate(() => document.getElementById('page').dataset.generatedAt);
    const chartBefore = await admin.locator('[data-test=adoption-chart] canvas').screenshot();
    const shareBefore = await text(admin, '[data-test=latest-share] .stat-value');
    // Real device traffic: each fresh device checks in, downloads and runs 1.0.2, reports it, and
    // checks in again on 1.0.2 — except the first, whose first download fails (it succeeds on
    // the retry), and the last, whose download fails its checksum (it stays on builtin).
    const now = Date.now();
    const last = FRESH.length - 1;
    for (const [i, id] of FRESH.entries()) {
      const answer = await updateCheck(id);
      check(answer.version === '1.0.2', `device ${id} is offered 1.0.2 (got ${JSON.stringify(answer)})`);
      const ev = (action, at) => ({ ...deviceInfo(id, '1.0.2'), old_version_name: 'builtin', action, timestamp: at });
      const events = [ev('download_zip_start', now - 9000 + i)];
      if (i === 0) events.push(ev('download_fail', now - 8000), ev('download_zip_start', now - 7000));
      if (i === last) {
        events.push(ev('checksum_fail', now - 3000 + i));
      } else {
        events.push(ev('download_complete', now - 4000 + i), ev('set', now - 2000 + i));
      }
      if (i === 1) events.push(ev('app_crash', now - 1000));
      await postStats(events);
      if (i !== last) await updateCheck(id, '1.0.2');
    }
    const expected = ADOPTED + FRESH.length - 1;
    await waitText(admin, row, String(expected), 'the release table follows the traffic without a reload');
    check(await admin.evaluate(() => window.__sameDocument === true), 'the page was not reloaded');
    const generatedAfter = await admin.evaluate(() => document.getElementById('page').dataset.generatedAt);
    check(Number(generatedAfter) > Number(generatedBefore), 'the report was fetched again (updated at moved)');
    await admin.waitForTimeout(400); // the chart is drawn on the next animation frame
    const chartAfter = await admin.locator('[data-test=adoption-chart] canvas').screenshot();
    check(!chartBefore.equals(chartAfter), 'the adoption chart was redrawn with the new points');
    const shareAfter = await text(admin, '[data-test=latest-share] .stat-value');
    check(shareAfter !== shareBefore, `the adoption share moved (${shareBefore} → ${shareAfter})`);
    await waitText(admin, '[data-test=latest-release] .stat-hint', String(expected), 'the latest-release card follows');
    // Install health: one failed install among the attempts, one retry, both failures charted.
    const rate = `${((100 * expected) / (ADOPTED + FRESH.length)).toFixed(1)}%`;
    await waitText(admin, '[data-test=latest-success] .stat-value', rate, 'the success rate counts the failed install');
    await admin.waitForSelector('[data-test=failures-chart] canvas');
    check((await admin.locator('#page').innerText()).includes('应用崩溃'), 'the crash is listed under health signals');
    await shot(admin, 'overview-zh-CN');
    await assertClean(admin, 'live overview');
  });

  await scenario('switch language zh-CN → en, remembered after a reload', async () => {
    await admin.selectOption('[data-test=lang]', 'en');
    await waitText(admin, '[data-test=nav-overview]', 'Overview', 'the navigation is in English');
    check((await admin.evaluate(() => document.documentElement.lang)) === 'en', 'html lang is en');
    await waitText(admin, '.page-header h1', 'Overview', 'the page title is in English');
    // The page re-renders in the new language (its data fetched again): wait for its sections.
    await waitText(admin, '#page', 'Adoption of the latest releases', 'the overview is in English');
    check(!/[\u4e00-\u9fff]/.test(await admin.locator('.sidebar').innerText()), 'no Chinese left in the English navigation');
    await admin.waitForSelector('[data-test=adoption-chart] canvas');
    await shot(admin, 'overview-en');
    await admin.reload();
    await admin.waitForSelector('[data-test=nav-overview]');
    check((await text(admin, '[data-test=nav-overview]')) === 'Overview', 'English is remembered across a reload');
    await assertClean(admin, 'language switch');
  });

  await scenario('roll back a channel: confirmation shows the devices affected, /updates follows', async () => {
    check((await updateCheck(PROBE)).version === '1.0.2', 'before: production serves 1.0.2');
    // The device list answers once the recorder wrote every check-in so far: the channel counts
    // below are then final.
    check((await adminGet(`/apps/${APP}/devices`)).length === ON_PRODUCTION, 'every device is recorded');
    await go(admin, 'channels');
    const prod = '[data-test="channel-production"]';
    await waitText(admin, `${prod} [data-test=serves]`, '1.0.2', 'production serves 1.0.2');
    await waitText(admin, `${prod} [data-test=devices]`, String(ON_PRODUCTION), 'devices on production');
    await shot(admin, 'channels-en');
    await admin.click(`${prod} [data-test=rollback]`);
    await admin.waitForSelector('[data-test=confirm]');
    const dialog = await text(admin, '[data-test=confirm]');
    check(dialog.includes(`This affects ${ON_PRODUCTION} devices on production.`), `the confirmation counts the devices (${dialog})`);
    check(dialog.includes('goes back to 1.0.1'), `the confirmation names the target (${dialog})`);
    await shot(admin, 'channels-rollback-confirm-en');
    await admin.click('[data-test=confirm-ok]');
    await waitText(admin, '[data-test=msg-success]', 'production now serves 1.0.1', 'a translated success message');
    await waitText(admin, `${prod} [data-test=serves]`, '1.0.1', 'the page shows the new target');
    const answer = await updateCheck(PROBE);
    check(answer.version === '1.0.1', `after: devices are offered 1.0.1 (got ${JSON.stringify(answer)})`);
    await assertClean(admin, 'rollback');
  });

  await scenario('devices: an XSS payload in a custom_id is shown as text; force a channel', async () => {
    await go(admin, 'devices');
    await admin.fill('[data-test=device-search]', 'onerror');
    await admin.click('[data-test=device-search-go]');
    const row = `[data-test="device-${XSS_DEVICE}"]`;
    await admin.waitForSelector(row);
    check((await admin.locator('tbody tr').count()) === 1, 'the search by custom id finds exactly the one device');
    const shown = await admin.locator(`${row} [data-test=custom-id]`).textContent();
    check(shown === XSS, `the custom id is shown literally (${JSON.stringify(shown)})`);
    check((await admin.locator('#page img').count()) === 0, 'no <img> element was created from the payload');
    check((await admin.evaluate(() => window.__xss)) === undefined, 'the onerror handler never ran');
    // Search by device id too.
    await admin.fill('[data-test=device-search]', XSS_DEVICE.slice(0, 8));
    await admin.click('[data-test=device-search-go]');
    await admin.waitForSelector(row);
    await shot(admin, 'devices-en');
    await admin.click(`${row} [data-test=force]`);
    await admin.selectOption('[data-test=force-select]', 'beta');
    await admin.click('[data-test=confirm-ok]');
    await waitText(admin, '[data-test=msg-success]', `now uses channel beta`, 'the override is confirmed');
    await waitText(admin, `${row}`, 'beta', 'the row shows the forced channel');
    const answer = await updateCheck(XSS_DEVICE);
    check(answer.version === '1.1.0-beta.1', `the forced device gets beta's bundle (got ${JSON.stringify(answer)})`);
    check((await admin.evaluate(() => window.__xss)) === undefined, 'still no script from the payload');
    await assertClean(admin, 'devices');
  });

  await scenario('audit log shows the console user behind the rollback', async () => {
    await go(admin, 'audit');
    const row = '[data-test=audit-channel_rollback]';
    await admin.waitForSelector(row);
    const t = await text(admin, row);
    check(t.includes(`${ADMIN.user} (user)`) && t.includes('Channel rolled back'), `the rollback is audited as the user (${t})`);
    await shot(admin, 'audit-en');
    await assertClean(admin, 'audit');
  });

  await scenario('ICP desk: filing state, timeline, checklist, calendar, incidents, public preview (both languages)', async () => {
    await go(admin, 'icp');
    await admin.waitForSelector('[data-test=icp-filing]');
    await waitText(admin, '[data-test=icp-filing]', 'access-provider review', 'the filing state, in English');
    await waitText(admin, '[data-test=icp-preview]', '粤公网安备44030502000001号', 'the public number preview');
    await admin.waitForSelector('[data-test=compliance-overdue]');
    check((await admin.locator('[data-test=icp-compliance] tbody tr').first().getAttribute('data-test')) === 'compliance-overdue', 'overdue items come first');
    await waitText(admin, '[data-test=icp-compliance] .card-hint', 'overdue', 'the overdue count');
    const body = await admin.locator('#page').innerText();
    check(body.includes('Submitted'), 'the timeline lists the submission');
    check(body.includes('Checklist and readiness') && body.includes('blockers'), 'the readiness checklist');
    await shot(admin, 'icp-en');
    // The kill switch: every channel to a known-good bundle, in one confirmed step.
    await admin.click('[data-test="incident-1"] [data-test=kill-switch]');
    await admin.waitForSelector('[data-test=confirm]');
    await admin.selectOption('[data-test=kill-target]', '1.0.1');
    const affected = await text(admin, '[data-test=confirm] [data-test=affected]');
    check(affected.includes(`This affects ${ON_PRODUCTION} devices on 2 channels.`), `the kill switch counts the devices of every channel (${affected})`);
    await admin.click('[data-test=confirm-ok]');
    await waitText(admin, '[data-test=msg-success]', 'Kill switch: 2 channels now serve 1.0.1.', 'the kill switch is confirmed');
    await waitText(admin, '[data-test="incident-1"]', 'kill switch', 'the incident records the kill switch');
    const moved = await updateCheck(XSS_DEVICE);
    check(moved.version === '1.0.1', `the device forced onto beta now gets 1.0.1 (got ${JSON.stringify(moved)})`);
    await admin.selectOption('[data-test=lang]', 'zh-CN');
    await waitText(admin, '[data-test=icp-filing]', '接入商初审', 'the filing state, in Chinese');
    await waitText(admin, '[data-test=nav-icp]', 'ICP 备案', 'the navigation is in Chinese');
    await shot(admin, 'icp-zh-CN');
    await go(admin, 'overview');
    await admin.waitForSelector('[data-test=adoption-chart] canvas');
    await shot(admin, 'overview-zh-CN-after');
    await admin.selectOption('[data-test=lang]', 'en');
    await waitText(admin, '[data-test=nav-overview]', 'Overview', 'back in English');
    await assertClean(admin, 'icp');
  });

  await scenario('bad input: unknown app id and a database failure give a clear message', async () => {
    await admin.goto(`${BASE}/#/apps/com.example.nope/overview`);
    await waitText(admin, '[data-test=page-error]', 'This app does not exist', 'an unknown app id is explained');
    // Fault injection for the one request the page depends on: a 503 database_unavailable.
    await admin.route('**/api/v1/apps/*/stats?*', (route) =>
      route.fulfill({ status: 503, contentType: 'application/json', body: JSON.stringify({ error: 'database_unavailable', message: 'the database cannot be reached' }) }),
    );
    await admin.goto(`${BASE}/#/apps/${APP}/overview`);
    await waitText(admin, '[data-test=page-error]', 'The database cannot be reached right now', 'a database failure is explained');
    check(!(await admin.locator('[data-test=page-error]').innerText()).includes('the database cannot be reached'), 'the server message is not shown as is');
    await shot(admin, 'error-database-en');
    await admin.unroute('**/api/v1/apps/*/stats?*');
    await admin.click('[data-test=page-error] button');
    await admin.waitForSelector('[data-test=adoption-chart] canvas');
    await assertClean(admin, 'bad input');
  });

  await scenario('a viewer pressing roll back is refused with a clear message; nothing changes', async () => {
    const viewer = await newPage('en-US');
    await viewer.goto(`${BASE}/`);
    await viewer.waitForSelector('[data-test=signin-submit]');
    check((await text(viewer, '[data-test=signin-submit]')) === 'Sign in', 'English for an English browser');
    await signIn(viewer, VIEWER);
    await viewer.goto(`${BASE}/#/apps/${APP}/channels`);
    const prod = '[data-test="channel-production"]';
    await waitText(viewer, `${prod} [data-test=serves]`, '1.0.1', 'production serves 1.0.1');
    await viewer.click(`${prod} [data-test=rollback]`);
    await viewer.waitForSelector('[data-test=confirm]');
    await viewer.click('[data-test=confirm-ok]');
    await waitText(viewer, '[data-test=msg-error]', 'You do not have permission to do this', 'the 403 is explained');
    await shot(viewer, 'viewer-refused-en');
    check((await text(viewer, `${prod} [data-test=serves]`)) === '1.0.1', 'the page still shows 1.0.1');
    check((await adminGet(`/apps/${APP}/channels/production`)).bundle === '1.0.1', 'the channel did not move');
    check((await updateCheck(PROBE)).version === '1.0.1', 'devices are still offered 1.0.1');
    await viewer.click('[data-test=signout]');
    await waitText(viewer, '[data-test=signin-success]', 'You have signed out.', 'signing out');
    await assertClean(viewer, 'viewer');
  });

  await scenario('a session ended elsewhere sends the page back to sign-in with a message', async () => {
    // The same user signs in elsewhere and signs out everywhere: every session of the user ends.
    const res = await fetch(`${BASE}/api/v1/session`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: ADMIN.user, password: ADMIN.password }),
    });
    check(res.ok, 'a second sign-in');
    const cookie = res.headers.get('set-cookie').split(';')[0];
    const { csrf_token: csrf } = await res.json();
    const all = await fetch(`${BASE}/api/v1/session/all`, { method: 'DELETE', headers: { cookie, 'x-csrf-token': csrf } });
    check(all.status === 204, `sign out everywhere (got ${all.status})`);
    // The page finds out at its next request (or when its live stream reconnects).
    await admin.evaluate((app) => {
      location.hash = `#/apps/${app}/bundles`;
    }, APP);
    await waitText(admin, '[data-test=signin-error]', 'Your session has ended', 'back at sign-in with the reason');
    check((await admin.evaluate(() => location.hash)) === '#/signin', 'on the sign-in page');
    await signIn(admin, ADMIN);
    check((await admin.evaluate(() => location.hash)).endsWith('/bundles'), 'signing in again returns to the page');
    await admin.waitForSelector('[data-test="bundle-1.0.2"]');
    await shot(admin, 'bundles-en');
    await assertClean(admin, 'session end');
  });
} catch (e) {
  exitCode = 1;
} finally {
  await browser.close();
  const summary = results.map(([n, s, ms]) => `${s.padEnd(6)} ${String(ms).padStart(6)} ms  ${n}`).join('\n');
  writeFileSync(join(ARTIFACTS, 'results.txt'), `${summary}\n`);
  console.log(`\n${summary}`);
}
process.exit(exitCode);
