// outgoing.test.mjs - the panel's Outgoing mail page end to end in
// headless Chromium (ctest: web.outgoing).
//
//   tests/netns-run node --test tests/web/outgoing.test.mjs
//
// boxmaild + busybox httpd + boxmail.cgi (tests/web/panel_env.py) in a
// temporary directory, inside a private network namespace. [dns] servers
// points at a closed local port, so a message to another domain stays
// deferred in the queue (no MX answer). The test sets the route on the page,
// sends a message out through the box, finds its row, clicks Retry now and
// Delete, stores a smarthost login and then makes sure its password appears
// in no page, no log line and not in the INI file; forged POSTs (no CSRF
// token, a wrong one, no session) are refused and change nothing. Then
// "Send a test message" through a smarthost that is Postfix's smtp-sink on
// loopback: the transcript with its 250s; and through one that refuses RCPT
// with a reply carrying <script> and an <img onerror>: shown as text, no
// script runs, no dialog opens.
// Screenshots go to BOXMAIL_BUILD/web-artifacts/outgoing-*.png.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import net from 'node:net';
import path from 'node:path';
import { closeAll, openBrowser, pageTools, sendSmtp, startEnv } from './harness.mjs';

const HTTP_PORT = 18090, SMTP_PORT = 12535, POP3_PORT = 11110, SINK_PORT = 12536, HOSTILE_PORT = 12537;
const HOSTILE = `550 5.7.1 <script>alert('boxmail')</script><img src=x onerror="alert(2)"> & no`;
const BASE = `http://127.0.0.1:${HTTP_PORT}/cgi-bin/boxmail.cgi`;
const ADMIN_PW = 'outgoing-test-pw';
const LOGIN_USER = 'box@isp.example';
const LOGIN_PW = 'Sm4rt-Pw-9f3a1c-never-shown';
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'boxmail-outgoing-'));
const ini = path.join(dir, 'boxmail.ini');
const loginFile = path.join(dir, 'relay', 'smarthost-login');

let env, browser, context, page;
const sinks = [];
const consoleErrors = [];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const { shot, go, submit, button } = pageTools(() => page, BASE, 'outgoing');

before(async () => {
  // Port 1 on loopback: nothing answers, every MX lookup times out after 1 s.
  env = await startEnv(['--dir', dir, '--http', `127.0.0.1:${HTTP_PORT}`, '--smtp-port', String(SMTP_PORT),
    '--pop3-port', String(POP3_PORT), '--admin-password', ADMIN_PW,
    '--ini-extra', '[dns]\\nservers = 127.0.0.1:1\\ntimeout = 1\\nattempts = 1']);
  ({ browser, context, page } = await openBrowser([], consoleErrors));
});

after(async () => {
  for (const s of sinks) s.kill();
  await closeAll(browser, env, dir);
});

/** Postfix's smtp-sink on 127.0.0.1:`port` with `options`; resolves once it listens. */
async function startSink(port, options) {
  const p = spawn('/usr/sbin/smtp-sink', ['-u', 'nobody', ...options, `127.0.0.1:${port}`, '10'], { stdio: 'ignore' });
  sinks.push(p);
  for (let i = 0; i < 50; i++) {
    const up = await new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => { s.destroy(); resolve(true); });
      s.on('error', () => resolve(false));
    });
    if (up) return;
    await sleep(100);
  }
  throw new Error(`smtp-sink on ${port} did not start`);
}

/** Sets the route to the smarthost 127.0.0.1:`port` without TLS. */
async function smarthostAt(port) {
  await go('/outgoing');
  await page.selectOption('#f-relay-route', 'smarthost');
  await page.fill('#f-relay-smarthost', `127.0.0.1:${port}`);
  await page.selectOption('#f-relay-smarthost-tls', 'none');
  assert.match(await submit(button('Save')), /Saved: .*boxmaild reloaded the configuration/);
}

test('log in; the status page says outgoing mail is not configured', async () => {
  await page.goto(BASE + '/login');
  await page.fill('#f-password', ADMIN_PW);
  await page.click('button[type=submit]');
  assert.match(page.url(), /\/status$/);
  assert.match(await page.locator('#outgoing-status').innerText(), /Outgoing mail: not configured/);
  await go('/outgoing');
  await page.getByRole('link', { name: 'Outgoing mail' }).first().waitFor();
  await page.getByText('No message is waiting to go out.').waitFor();
});

test('a bad routing value is refused next to its field and nothing is written', async () => {
  const before = fs.readFileSync(ini, 'utf8');
  await page.selectOption('#f-relay-route', 'smarthost');
  await page.fill('#f-relay-smarthost', '');
  await button('Save').click();
  await page.locator('#f-relay-smarthost-err').waitFor();
  assert.match(await page.locator('#f-relay-smarthost-err').innerText(), /no smarthost is set/);
  assert.equal(fs.readFileSync(ini, 'utf8'), before);
  await shot('routing-error');
});

test('set the route to mx for the LAN; a relayed message waits in the queue', async () => {
  await go('/outgoing');
  await page.selectOption('#f-relay-route', 'mx');
  await page.fill('#f-relay-relay-networks', '127.0.0.0/8');
  await page.fill('#f-relay-local-domains', 'boxmail.localdomain');
  await page.fill('#f-relay-delay-notice-after', '6');
  assert.match(await submit(button('Save')), /Saved: .*boxmaild reloaded the configuration/);
  const text = fs.readFileSync(ini, 'utf8');
  assert.match(text, /^route = mx$/m);
  assert.match(text, /^relay_networks = 127\.0\.0\.0\/8$/m);
  assert.match(text, /^delay_notice_after = 6h$/m);

  assert.match(await sendSmtp(SMTP_PORT, 'bob@remote.example', 'Out through the box.', 'alice@boxmail.localdomain'),
    /^250 /);
  // Its first attempt fails (no DNS answer): deferred, with an error and a next attempt.
  let row;
  for (let i = 0; i < 40; i++) {
    await go('/outgoing');
    row = page.locator('#queue tbody tr', { hasText: 'bob@remote.example' });
    if (await row.count() === 1 && !(await row.locator('td').nth(4).innerText()).startsWith('now')) break;
    await sleep(500);
  }
  assert.equal(await row.count(), 1, 'the message has a row');
  const cells = await row.locator('td').allInnerTexts();
  assert.match(cells[0], /^[0-9A-Z]{13}$/);
  assert.equal(cells[1], 'alice@boxmail.localdomain');
  assert.equal(cells[2], 'bob@remote.example');
  assert.match(cells[4], /^in /);
  assert.match(cells[6], /MX lookup of remote\.example failed temporarily/, 'the last error is shown');
  await shot('queue');
  await go('/status');
  assert.match(await page.locator('#outgoing-status').innerText(), /via mx; 1 message in the queue/);
});

test('Retry now, then Delete', async () => {
  await go('/outgoing');
  const id = await page.locator('#queue tbody tr td').first().innerText();
  assert.match(await submit(button(`Retry ${id} now`)), new RegExp(`${id} (will be tried now|is being delivered now)`));
  await shot('retried');
  // Delete once the attempt is over (a message being delivered is not removed).
  let said = '';
  for (let i = 0; i < 20; i++) {
    await go('/outgoing');
    said = await submit(button(`Delete ${id}`));
    if (/deleted/.test(said)) break;
    assert.match(said, /is being delivered now; try again/);
    await sleep(500);
  }
  assert.match(said, new RegExp(`${id} deleted`));
  await page.getByText('No message is waiting to go out.').waitFor();
  await shot('deleted');
});

test('a smarthost login is stored by boxmaild, shown by its user only', async () => {
  await go('/outgoing');
  await page.fill('#f-smarthost-user', LOGIN_USER);
  await page.fill('#f-smarthost-password', LOGIN_PW);
  assert.match(await submit(button('Store the login')), new RegExp(`A login is stored for ${LOGIN_USER}`));
  assert.match(await page.locator('#login-stored').innerText(), new RegExp(`A login is stored for ${LOGIN_USER}`));
  assert.equal(await page.inputValue('#f-smarthost-password'), '');
  assert.equal(fs.readFileSync(loginFile, 'utf8'), `${LOGIN_USER}:${LOGIN_PW}\n`);
  assert.equal(fs.statSync(loginFile).mode & 0o777, 0o600);
  assert.equal(fs.statSync(path.dirname(loginFile)).mode & 0o777, 0o700);
  if (process.getuid() === 0) {
    // boxmaild's user owns it; the panel's user (boxmail-web) cannot read it.
    const owner = fs.statSync(loginFile).uid;
    assert.notEqual(owner, 0);
    assert.notEqual(owner, fs.statSync(ini).uid);
  }
  await shot('login');
});

test('attack: the password is in no page, log line or INI file; forged POSTs are refused', async () => {
  // Every page of the menu, as the browser gets it.
  const paths = await page.locator('nav a').evaluateAll((as) => as.map((a) => new URL(a.href).pathname));
  assert.ok(paths.some((p) => p.endsWith('/outgoing')));
  for (const p of paths) {
    const r = await page.goto(new URL(p, BASE).href);
    assert.equal(r.status(), 200, p);
    assert.ok(!(await r.text()).includes(LOGIN_PW), `the password on ${p}`);
  }
  const search = [ini, `${ini}.bak`, path.join(dir, 'boxmaild.log'), path.join(dir, 'httpd.log')];
  for (const f of search.filter((x) => fs.existsSync(x))) {
    assert.ok(!fs.readFileSync(f, 'latin1').includes(LOGIN_PW), `the password in ${f}`);
  }
  assert.match(fs.readFileSync(path.join(dir, 'boxmaild.log'), 'utf8'), /smarthost login stored for box@isp\.example/);

  // A POST without the CSRF token, with a wrong one, and without a session.
  const stored = fs.readFileSync(loginFile, 'utf8');
  const iniText = fs.readFileSync(ini, 'utf8');
  const forged = [
    { action: 'login', smarthost_user: 'evil', smarthost_password: 'evil-password' },
    { action: 'login_clear' },
    { action: 'route', 'relay.route': 'mx', 'relay.relay_networks': '0.0.0.0/1 128.0.0.0/1' },
    { action: 'flush' },
  ];
  for (const form of forged) {
    let r = await page.request.post(BASE + '/outgoing', { form });
    assert.equal(r.status(), 403, `no token: ${form.action}`);
    r = await page.request.post(BASE + '/outgoing', { form: { ...form, csrf: '0'.repeat(32) } });
    assert.equal(r.status(), 403, `wrong token: ${form.action}`);
  }
  const stranger = await browser.newContext();
  const r = await stranger.request.post(BASE + '/outgoing', { form: { action: 'login_clear', csrf: 'x' } });
  assert.equal(r.status(), 403);
  await stranger.close();
  assert.equal(fs.readFileSync(loginFile, 'utf8'), stored);
  assert.equal(fs.readFileSync(ini, 'utf8'), iniText);
});

test('remove the login', async () => {
  await go('/outgoing');
  assert.match(await submit(button('Remove the login')), /The smarthost login was removed/);
  assert.ok(!fs.existsSync(loginFile));
  await page.getByText('No login is stored').waitFor();
  assert.deepEqual(consoleErrors, []);
});

test('send a test message: the smarthost\'s replies are shown', async () => {
  await startSink(SINK_PORT, []);
  await smarthostAt(SINK_PORT);
  await page.fill('#f-test-to', 'bob@remote.example');
  await button('Send a test message').click();
  await page.locator('#test-result').waitFor();
  assert.match(await page.locator('#test-result .notice').innerText(),
    /^Sent: the server accepted the test message: 250 2\.0\.0 Ok \(127\.0\.0\.1\[127\.0\.0\.1:12536\]\)$/);
  const transcript = await page.locator('#test-transcript').innerText();
  assert.match(transcript, /^-- route smarthost$/m);
  assert.match(transcript, /^S: 220 /m);
  assert.match(transcript, /^C: MAIL FROM:<>/m);
  assert.match(transcript, /^C: RCPT TO:<bob@remote\.example>/m);
  assert.ok((transcript.match(/^S: 250/mg) ?? []).length >= 4, transcript);
  assert.equal(await page.inputValue('#f-test-to'), 'bob@remote.example');
  await shot('test-sent');
  // A local address is refused by boxmaild, next to nothing sent.
  await page.fill('#f-test-to', 'alice@boxmail.localdomain');
  await button('Send a test message').click();
  await page.locator('#test-result').waitFor();
  assert.match(await page.locator('#test-result .notice').innerText(), /^Not sent: that address is delivered on this box/);
  // A malformed one never reaches boxmaild.
  await page.fill('#f-test-to', 'bob@remote.example> <x@y.example');
  await button('Send a test message').click();
  await page.locator('#f-test-to-err').waitFor();
  assert.match(await page.locator('#f-test-to-err').innerText(), /not an e-mail address/);
});

test('attack: a hostile server reply is shown as text, no script runs', async () => {
  const dialogs = [];
  page.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss(); });
  await startSink(HOSTILE_PORT, ['-f', 'RCPT', '-B', HOSTILE]);
  await smarthostAt(HOSTILE_PORT);
  await page.fill('#f-test-to', 'bob@remote.example');
  await button('Send a test message').click();
  await page.locator('#test-result').waitFor();
  assert.equal(await page.locator('#test-result .notice').innerText(),
    `Not sent: ${HOSTILE} (127.0.0.1[127.0.0.1:${HOSTILE_PORT}])`);
  assert.ok((await page.locator('#test-transcript').innerText()).split('\n').includes(`S: ${HOSTILE}`));
  assert.equal(await page.locator('#test-result script, #test-result img').count(), 0);
  const html = await page.content();
  assert.ok(!html.includes('<script>alert'), 'raw markup in the page');
  assert.ok(html.includes('&lt;script&gt;alert('), 'the reply escaped');
  await sleep(300);
  assert.deepEqual(dialogs, []);
  await shot('test-hostile');
  assert.deepEqual(consoleErrors, []);
});
