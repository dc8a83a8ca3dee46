// security.test.mjs - the panel's Security page end to end in headless
// Chromium with a real firewall (ctest: web.security).
//
//   tests/netns-run node --test tests/web/security.test.mjs
//
// boxmaild (started as root, [firewall] enabled, its boxmail-fw from the
// build) + busybox httpd + boxmail.cgi (tests/web/panel_env.py) inside a
// private network namespace, so the nf_tables table `inet boxmail` is the
// namespace's own, never the host's. The test bans 127.0.0.5 from the page,
// finds its row and the address in the set banned4, sees a connection
// from 127.0.0.5 to the SMTP port dropped while 127.0.0.2 is greeted, reads
// the ban and the dropped packets on the Status page, unbans it from the
// page and is greeted from 127.0.0.5 again. Attacks: a hostile address or
// reason in the manual-ban form ("1.2.3.4 86400 x\nstop", CRLF, <script>)
// is refused next to its field and never reaches the helper (the set and
// boxmaild's log say so; the table is still there); POSTs without the
// CSRF token, with a wrong one and without a session are refused (403)
// and change nothing. The settings form saves through the INI and reload;
// a bad value is refused with the file untouched.
// Screenshots go to BOXMAIL_BUILD/web-artifacts/security-*.png.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import net from 'node:net';
import path from 'node:path';
import { BUILD, closeAll, openBrowser, pageTools, startEnv } from './harness.mjs';

const HTTP_PORT = 18091, SMTP_PORT = 12545, POP3_PORT = 11120;
const BASE = `http://127.0.0.1:${HTTP_PORT}/cgi-bin/boxmail.cgi`;
const ADMIN_PW = 'security-test-pw';
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'boxmail-security-'));
const ini = path.join(dir, 'boxmail.ini');
const daemonLog = path.join(dir, 'boxmaild.log');

let env, browser, context, page;
const consoleErrors = [];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const { shot, go, submit, button } = pageTools(() => page, BASE, 'security');

/** The namespace's set banned4 as nft lists it ("" when the table is gone). */
function banned4() {
  try {
    return execFileSync('nft', ['list', 'set', 'inet', 'boxmail', 'banned4'], { encoding: 'utf8' });
  } catch {
    return '';
  }
}

/** The set's elements without their running timers: "ADDRESS COMMENT" each. */
function bannedNow() {
  return [...banned4().matchAll(/(\d+\.\d+\.\d+\.\d+) timeout \S+ expires \S+ comment "([^"]*)"/g)]
    .map((m) => `${m[1]} ${m[2]}`);
}

/** Resolves to the first line the SMTP port sends to a client bound to
 * `from`, or null when nothing comes within `ms` (the SYN dropped). */
function greeting(from, ms = 1500) {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port: SMTP_PORT, localAddress: from });
    const timer = setTimeout(() => { s.destroy(); resolve(null); }, ms);
    s.setEncoding('latin1');
    s.on('data', (d) => { clearTimeout(timer); s.end('QUIT\r\n'); resolve(d.split('\r\n')[0]); });
    s.on('error', () => { clearTimeout(timer); resolve(null); });
  });
}

before(async () => {
  env = await startEnv(['--dir', dir, '--http', `127.0.0.1:${HTTP_PORT}`, '--smtp-port', String(SMTP_PORT),
    '--pop3-port', String(POP3_PORT), '--admin-password', ADMIN_PW,
    '--ini-extra', `[firewall]\\nenabled = yes\\nprogram = ${path.join(BUILD, 'boxmail-fw')}\\nban_time_max = 48h`]);
  // boxmaild applies the table once its helper runs.
  for (let i = 0; i < 100 && !/firewall: applied/.test(fs.readFileSync(daemonLog, 'utf8')); i++) await sleep(100);
  ({ browser, context, page } = await openBrowser([], consoleErrors));
});

after(async () => {
  await closeAll(browser, env, dir);
});

test('log in; the Security page has no bans and the firewall is on', async () => {
  assert.equal(process.getuid(), 0, 'runs as root in its own network namespace (tests/netns-run)');
  assert.match(fs.readFileSync(daemonLog, 'utf8'), /firewall: applied/);
  await page.goto(BASE + '/login');
  await page.fill('#f-password', ADMIN_PW);
  await page.click('button[type=submit]');
  assert.match(page.url(), /\/status$/);
  await page.getByRole('link', { name: 'Security' }).first().click();
  assert.match(page.url(), /\/security$/);
  await page.getByText('No address is banned.').waitFor();
  assert.equal(await page.locator('#firewall-off').count(), 0);
  assert.equal(await page.inputValue('#f-firewall-ban-time'), '1h');
  await shot('empty');
});

test('ban 127.0.0.5 from the page: its row, the set banned4, its connections dropped', async () => {
  await go('/security');
  await page.fill('#f-ban-address', '127.0.0.5');
  await page.fill('#f-ban-duration', '10m');
  await page.fill('#f-ban-reason', 'Spam Run');
  assert.match(await submit(button('Ban')), /Banned 127\.0\.0\.5 for 600 s/);
  const row = page.locator('#bans tbody tr', { hasText: '127.0.0.5' });
  assert.equal(await row.count(), 1);
  const cells = await row.locator('td').allInnerTexts();
  assert.equal(cells[0], '127.0.0.5');
  assert.match(cells[1], /^(9|10) min$/);
  assert.equal(cells[2], 'spam-run');
  let set = '';
  for (let i = 0; i < 50 && !set.includes('127.0.0.5'); i++) { set = banned4(); await sleep(100); }
  assert.match(set, /127\.0\.0\.5 timeout 10m/);
  assert.match(set, /comment "spam-run"/);
  assert.equal(await greeting('127.0.0.5'), null, 'a banned client gets no greeting');
  assert.match(await greeting('127.0.0.2'), /^220 /);
  await shot('banned');
  // The Status page counts the ban and the dropped packets.
  await go('/status');
  assert.equal(await page.locator('#bans-today').innerText(), '1');
  const drops = Number(await page.locator('#firewall-drops').innerText());
  assert.ok(drops >= 1, `dropped packets: ${drops}`);
  await shot('status');
});

test('attack: hostile addresses and reasons are refused and never reach the helper', async () => {
  await go('/security');
  const cases = [
    { address: '1.2.3.4 86400 x\nstop', reason: '', field: 'address', error: /line breaks or control characters/ },
    { address: '1.2.3.4\r\nunban 127.0.0.5', reason: '', field: 'address', error: /line breaks or control characters/ },
    { address: '1.2.3.4 86400 x', reason: '', field: 'address', error: /one address only/ },
    { address: '<script>alert(1)</script>', reason: '', field: 'address', error: /is not one IPv4 or IPv6 address/ },
    { address: '192.0.2.0/24', reason: '', field: 'address', error: /no network/ },
    { address: '192.0.2.9', reason: '<script>alert(1)</script>', field: 'reason', error: /letters, digits and/ },
    { address: '192.0.2.9', reason: 'x\nstop', field: 'reason', error: /line breaks or control characters/ },
  ];
  const dialogs = [];
  page.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss(); });
  for (const c of cases) {
    // Through the form (but for line ends: an <input> never sends them),
    // then the raw value as a POST with the page's token.
    if (!/[\r\n]/.test(c.address + c.reason)) {
      await page.fill('#f-ban-address', c.address);
      await page.fill('#f-ban-duration', '1h');
      await page.fill('#f-ban-reason', c.reason);
      await button('Ban').click();
      await page.locator(`#f-ban-${c.field}-err`).waitFor();
      assert.match(await page.locator(`#f-ban-${c.field}-err`).innerText(), c.error, JSON.stringify(c));
    }
    const csrf = await page.locator('input[name=csrf]').first().inputValue();
    const r = await page.request.post(BASE + '/security',
      { form: { csrf, action: 'ban', ban_address: c.address, ban_duration: '1h', ban_reason: c.reason } });
    assert.equal(r.status(), 200);
    const html = await r.text();
    assert.match(html, /Nothing was changed/, JSON.stringify(c));
    assert.match(html, c.error, JSON.stringify(c));
    assert.ok(!html.includes('<script>alert'), 'raw markup in the page');
  }
  await shot('refused');
  const set = banned4();
  assert.match(set, /127\.0\.0\.5/, 'the ban is still there');
  assert.ok(!/1\.2\.3\.4|192\.0\.2\./.test(set), set);
  const log = fs.readFileSync(daemonLog, 'utf8');
  assert.ok(!/1\.2\.3\.4|192\.0\.2\.9|refused a malformed request|stopped/.test(log), 'nothing reached boxmaild');
  assert.deepEqual(dialogs, []);
});

test('attack: forged POSTs are refused and change nothing', async () => {
  const before = bannedNow();
  assert.deepEqual(before, ['127.0.0.5 spam-run']);
  const iniText = fs.readFileSync(ini, 'utf8');
  const forged = [
    { action: 'ban', ban_address: '127.0.0.6', ban_duration: '1h', ban_reason: 'x' },
    { action: 'unban', address: '127.0.0.5' },
    { action: 'settings', 'firewall.enabled': 'yes', 'firewall.allow': '0.0.0.0/1' },
  ];
  for (const form of forged) {
    let r = await page.request.post(BASE + '/security', { form });
    assert.equal(r.status(), 403, `no token: ${form.action}`);
    r = await page.request.post(BASE + '/security', { form: { ...form, csrf: '0'.repeat(32) } });
    assert.equal(r.status(), 403, `wrong token: ${form.action}`);
  }
  const stranger = await browser.newContext();
  const r = await stranger.request.post(BASE + '/security', { form: { action: 'unban', address: '127.0.0.5', csrf: 'x' } });
  assert.equal(r.status(), 403);
  await stranger.close();
  assert.deepEqual(bannedNow(), before);
  assert.equal(fs.readFileSync(ini, 'utf8'), iniText);
});

test('settings: a bad value is refused, a good one saved and reloaded', async () => {
  await go('/security');
  const before = fs.readFileSync(ini, 'utf8');
  await page.fill('#f-firewall-ban-window', '0');
  await button('Save').click();
  await page.locator('#f-firewall-ban-window-err').waitFor();
  assert.equal(fs.readFileSync(ini, 'utf8'), before);
  await shot('settings-error');
  await go('/security');
  await page.fill('#f-firewall-ban-after-login-failures', '3');
  await page.fill('#f-smtp-dnsbl-zones', 'zen.example');
  assert.match(await submit(button('Save')), /Saved: .*boxmaild reloaded the configuration/);
  const text = fs.readFileSync(ini, 'utf8');
  assert.match(text, /^ban_after_login_failures = 3$/m);
  assert.match(text, /^dnsbl_zones = zen\.example$/m);
  assert.equal(await page.inputValue('#f-firewall-ban-after-login-failures'), '3');
});

test('unban from the page: the row and the set element go, 127.0.0.5 is greeted again', async () => {
  await go('/security');
  assert.match(await submit(button('Unban 127.0.0.5')), /Unbanned 127\.0\.0\.5/);
  await page.getByText('No address is banned.').waitFor();
  let set = banned4();
  for (let i = 0; i < 50 && set.includes('127.0.0.5'); i++) { await sleep(100); set = banned4(); }
  assert.ok(!set.includes('127.0.0.5'), set);
  assert.match(set, /set banned4/, 'the table is still there');
  assert.match(await greeting('127.0.0.5'), /^220 /);
  await shot('unbanned');
  assert.deepEqual(consoleErrors, []);
});
