// panel.test.mjs - the web panel end to end in headless Chromium.
//
//   tests/netns-run node --test tests/web/panel.test.mjs     (ctest: web.panel)
//
// Starts boxmaild + busybox httpd + boxmail.cgi (tests/web/panel_env.py) in
// a temporary directory, drives Debian's chromium through playwright-core
// (installed by tests/web/install.sh into BOXMAIL_BUILD/web), and sends mail
// over SMTP with a small client here. Run inside a private network
// namespace: every server listens on 127.0.0.1 there. Screenshots of every
// page go to BOXMAIL_BUILD/web-artifacts/. Any console error or page error
// in the browser fails the test.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { ARTIFACTS, closeAll, openBrowser, sendSmtp, startEnv } from './harness.mjs';

const HTTP_PORT = 18080, SMTP_PORT = 12525, POP3_PORT = 11100;
const BASE = `http://127.0.0.1:${HTTP_PORT}/cgi-bin/boxmail.cgi`;
const ADMIN_PW = 'panel-test-pw';
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'boxmail-panel-'));
const ini = path.join(dir, 'boxmail.ini');

let env, browser, context, page;
const consoleErrors = [];

/** Sends one message to boxmaild's SMTP port (harness.mjs sendSmtp). */
const sendMail = (to, body = 'Hello from the panel test.') => sendSmtp(SMTP_PORT, to, body);

function maildirCount(box) {
  const d = path.join(dir, 'mail', box, 'new');
  return fs.existsSync(d) ? fs.readdirSync(d).length : 0;
}

async function shot(name) {
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
}

async function go(p) {
  const r = await page.goto(BASE + p);
  assert.equal(r.status(), 200, `GET ${p}`);
}

const csrf = () => page.locator('input[name=csrf]').first().inputValue();

before(async () => {
  env = await startEnv(['--dir', dir, '--http', `127.0.0.1:${HTTP_PORT}`, '--smtp-port', String(SMTP_PORT),
    '--pop3-port', String(POP3_PORT), '--admin-password', ADMIN_PW]);
  ({ browser, context, page } = await openBrowser([], consoleErrors));
});

after(() => closeAll(browser, env, dir));

test('a page without a session sends the browser to the login page', async () => {
  await page.goto(BASE + '/mailboxes');
  assert.match(page.url(), /\/login$/);
  await shot('login');
  const r = await page.request.post(BASE + '/feed', { form: { 'smtp.max_message_size': '1k' } });
  assert.equal(r.status(), 403);
});

test('log in (a wrong password first)', async () => {
  await page.fill('#f-password', 'wrong-password');
  await page.click('button[type=submit]');
  await page.getByText('Wrong user name or password.').waitFor();
  await page.fill('#f-password', ADMIN_PW);
  await page.click('button[type=submit]');
  assert.match(page.url(), /\/status$/);
  await page.getByRole('heading', { name: 'Status' }).waitFor();
  const cookies = await context.cookies();
  const c = cookies.find((x) => x.name === 'boxmail_session');
  assert.ok(c && c.httpOnly && c.sameSite === 'Strict' && /^[0-9a-f]{32}$/.test(c.value));
  assert.match(fs.readFileSync(path.join(dir, 'httpd.log'), 'utf8') + fs.readFileSync(path.join(dir, 'boxmaild.log'), 'utf8') +
    '', /./);
});

test('create a mailbox, send it mail, see the count on the Status page', async () => {
  await go('/mailboxes');
  await page.fill('#f-name', 'carol');
  await page.fill('#f-password', 'carol-password');
  await page.fill('#f-quota', '500M');
  await page.click('text=Add mailbox');
  await page.getByText('Mailbox carol added.').waitFor();
  assert.equal(await page.locator('#mailboxes td', { hasText: /^carol$/ }).count(), 1);
  await shot('mailboxes');
  assert.match(await sendMail('carol@example.com'), /^250 /);
  assert.equal(maildirCount('carol'), 1);
  await go('/status');
  assert.equal(await page.locator('#accepted-today').innerText(), '1');
  const row = page.locator('#mailbox-sizes tr', { hasText: 'carol' });
  assert.equal(await row.locator('td').nth(1).innerText(), '1');
  assert.equal(await page.locator('svg.chart').count(), 1);
  await shot('status');
});

test('add an alias and see mail to it arrive', async () => {
  await go('/aliases');
  await page.fill('#f-alias-name', 'sales');
  await page.fill('#f-alias-targets', 'carol');
  await page.click('text=Save alias');
  await page.getByText(/Alias sales added.*reloaded/).waitFor();
  await shot('aliases');
  assert.match(await sendMail('sales@example.com'), /^250 /);
  assert.equal(maildirCount('carol'), 2);
});

test('change the maximum message size and see the daemon enforce it', async () => {
  await go('/feed');
  await page.fill('#f-smtp-max-message-size', '2k');
  await page.click('text=Save');
  await page.getByText(/Saved: Maximum message size.*reloaded/).waitFor();
  assert.match(fs.readFileSync(ini, 'utf8'), /^max_message_size = 2k$/m);
  assert.match(await sendMail('carol@example.com', 'x'.repeat(70).concat('\r\n').repeat(60)), /^552 /);
  assert.match(await sendMail('carol@example.com', 'small'), /^250 /);
  await shot('feed');
});

test('invalid values show the field error and change nothing', async () => {
  const before = fs.readFileSync(ini, 'utf8');
  await go('/feed');
  await page.fill('#f-smtp-max-message-size', 'abc');
  await page.click('text=Save');
  await page.locator('#f-smtp-max-message-size-err').getByText("value 'abc' is not a size").waitFor();
  assert.equal(await page.locator('#f-smtp-max-message-size').getAttribute('aria-invalid'), 'true');
  await shot('feed-invalid-size');
  await go('/feed');
  await page.check('#f-feed-list');
  await page.fill('#f-smtp-accept-domains', 'exa mple.com');
  await page.click('text=Save');
  await page.locator('#f-smtp-accept-domains-err').getByText("'exa mple.com' contains a space").waitFor();
  await shot('feed-invalid-domain');
  assert.equal(fs.readFileSync(ini, 'utf8'), before);
});

test('POST without or with a wrong CSRF token: 403 and nothing changed', async () => {
  const before = fs.readFileSync(ini, 'utf8');
  for (const form of [{ 'smtp.max_message_size': '9k' }, { 'smtp.max_message_size': '9k', csrf: '0'.repeat(32) }]) {
    const r = await page.request.post(BASE + '/feed', { form });
    assert.equal(r.status(), 403);
  }
  const r = await page.request.post(BASE + '/mailboxes', { form: { action: 'delete', name: 'carol', confirm: 'yes' } });
  assert.equal(r.status(), 403);
  assert.equal(fs.readFileSync(ini, 'utf8'), before);
  assert.match(fs.readFileSync(path.join(dir, 'passwd'), 'utf8'), /^carol:/m);
});

test('a keep-alive HTTP/1.1 client gets every answer (each CGI reply says Connection: close)', async () => {
  // busybox httpd closes the connection after each CGI reply; a client that
  // kept it for the next request used to find it reset (about 1 in 2).
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const statuses = [];
  for (let i = 0; i < 20; i++) {
    statuses.push(await new Promise((resolve) => {
      const req = http.request(BASE + '/login', { method: 'POST', agent,
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': 5 } }, (r) => {
        assert.equal(r.headers.connection, 'close');
        r.resume();
        r.on('end', () => resolve(r.statusCode));
      });
      req.on('error', (e) => resolve(e.code));
      req.end('a=b&c');
    }));
  }
  agent.destroy();
  assert.deepEqual(statuses, Array(20).fill(403));
});

test('over plain HTTP the cookies are not Secure, whatever headers the client sends', async () => {
  // Secure comes from the server's HTTPS variable only (cgi/session.hpp),
  // never from a request header a client or a proxy could add.
  const setCookie = await new Promise((resolve, reject) => {
    http.get(BASE + '/login', { headers: { HTTPS: 'on', 'X-Forwarded-Proto': 'https', 'X-Forwarded-Ssl': 'on',
      'Front-End-Https': 'on' } }, (r) => {
      r.resume();
      r.on('end', () => resolve([].concat(r.headers['set-cookie'] || [])));
    }).on('error', reject);
  });
  const login = setCookie.find((c) => c.startsWith('boxmail_login='));
  assert.ok(login, `no login cookie in ${JSON.stringify(setCookie)}`);
  assert.match(login, /; HttpOnly; SameSite=Strict$/);
  assert.doesNotMatch(login, /Secure/i);
});

test('a login POST without the form\'s CSRF token, or with a wrong one: 403, no session', async () => {
  const anon = await browser.newContext();
  try {
    for (const form of [{ user: 'admin', password: ADMIN_PW }, { user: 'admin', password: ADMIN_PW, csrf: '0'.repeat(32) }]) {
      const r = await anon.request.post(BASE + '/login', { form, maxRedirects: 0 });
      assert.equal(r.status(), 403);
      assert.ok(!(r.headers()['set-cookie'] || '').includes('boxmail_session='));
    }
  } finally {
    await anon.close();
  }
});

test('an alias name holding <script> is shown escaped', async () => {
  await go('/aliases');
  const evil = '<script>document.title="pwned"</script>';
  await page.fill('#f-alias-name', evil);
  await page.fill('#f-alias-targets', 'carol');
  await page.click('text=Save alias');
  await page.locator('#f-alias-name-err').waitFor();
  assert.ok((await page.locator('#f-alias-name-err').innerText()).includes('<script>'));
  assert.equal(await page.locator('#f-alias-name').inputValue(), evil);
  assert.equal(await page.locator('main script').count(), 0);
  assert.notEqual(await page.title(), 'pwned');
  await shot('aliases-escaped');
});

test('a mailbox name like ../../etc is refused', async () => {
  await go('/mailboxes');
  await page.fill('#f-name', '../../etc');
  await page.fill('#f-password', 'whatever-pw');
  await page.click('text=Add mailbox');
  await page.locator('#f-name-err').waitFor();
  assert.ok(!fs.readFileSync(path.join(dir, 'passwd'), 'utf8').includes('etc'));
  await go('/mailboxes?edit=' + encodeURIComponent('../../etc'));
  await page.getByText('There is no mailbox named ../../etc.').waitFor();
});

test('mailbox settings, retrieval, backup pages', async () => {
  await go('/mailboxes?edit=carol');
  if (await page.locator('#f-pop3').count() === 0) fs.writeFileSync(path.join(ARTIFACTS, 'debug.html'), await page.content());
  assert.equal(await page.locator('#f-edit-quota').inputValue(), '500M');
  await page.uncheck('#f-pop3');
  await page.click('text=Save');
  await page.getByText('Mailbox carol saved.').waitFor();
  assert.match(fs.readFileSync(path.join(dir, 'passwd'), 'utf8'), /^carol:.*quota=524288000 nopop3$/m);
  await go('/retrieval');
  await page.fill('#f-pop3-login-failures', '5');
  await page.click('text=Save');
  await page.getByText(/Saved: Login failures.*reloaded/).waitFor();
  await shot('retrieval');
  await go('/backup');
  await shot('backup');
  // What the archive holds and leaves out, from the settings list
  // (panel_env.py: the image's conffiles with /etc/boxmail as the test's dir).
  const held = await page.locator('#backup-held td:first-child').allTextContents();
  for (const name of ['boxmail.ini', 'passwd', 'admin']) assert.ok(held.includes(name), held.join(' '));
  const leftOut = await page.locator('#backup-left-out tr').allTextContents();
  if (process.getuid() === 0) {
    // As the box lays it out: tls/ and relay/ are boxmaild's (boxmail, 0700;
    // the key and the smarthost password), the panel runs as boxmail-web.
    assert.deepEqual(held, ['boxmail.ini', 'passwd', 'admin']);
    assert.ok(leftOut.some((t) => t.startsWith("tls/boxmaild's certificate and private key, not readable by the panel")),
              leftOut.join(' | '));
    assert.ok(leftOut.some((t) => t.startsWith('relay/the smarthost password')), leftOut.join(' | '));
  }
  const r = await page.request.get(BASE + '/backup/download');
  assert.equal(r.status(), 200);
  const tar = await r.body();
  assert.equal(tar.subarray(0, 11).toString(), 'boxmail.ini');
  const members = [];
  for (let at = 0; at + 512 <= tar.length && tar[at] !== 0;) {
    members.push(tar.subarray(at, at + 100).toString().replace(/\0.*$/s, ''));
    at += 512 + Math.ceil(parseInt(tar.subarray(at + 124, at + 136).toString(), 8) / 512) * 512;
  }
  assert.deepEqual(members, held);
  // Round trip: a setting changed after the download comes back with the restore.
  await go('/retrieval');
  await page.fill('#f-pop3-login-failures', '7');
  await page.click('text=Save');
  await page.getByText(/Saved: Login failures.*reloaded/).waitFor();
  assert.match(fs.readFileSync(ini, 'utf8'), /^login_failures = 7$/m);
  await go('/backup');
  const file = path.join(dir, 'backup.tar');
  fs.writeFileSync(file, tar);
  await page.setInputFiles('#f-archive', file);
  await page.click('button:has-text("Restore")');
  await page.getByText(/Restored the configuration, \d+ mailbox accounts and the administrator password/).waitFor();
  assert.match(fs.readFileSync(ini, 'utf8'), /^login_failures = 5$/m);
  await go('/retrieval');
  assert.equal(await page.locator('#f-pop3-login-failures').inputValue(), '5');
  // A broken archive is refused with nothing changed.
  fs.writeFileSync(file, 'not a tar file');
  await go('/backup');
  await page.setInputFiles('#f-archive', file);
  await page.click('button:has-text("Restore")');
  await page.locator('.field.invalid .error').waitFor();
});

test('the certificate page: the self-signed certificate, a refused upload, regenerate', async () => {
  await go('/certificate');
  assert.equal(await page.locator('#cert-subject').textContent(), 'CN=boxmail.localdomain');
  assert.match(await page.locator('#cert-self-signed').textContent(), /^yes/);
  const before = await page.locator('#cert-sha256').textContent();
  assert.match(before, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  await shot('certificate');
  // Garbage for the chain: refused next to its field, nothing changed.
  await page.fill('#f-chain-text', 'this is not a certificate');
  await page.fill('#f-key-text', 'nor is this a key');
  await page.click('button:has-text("Install certificate")');
  await page.locator('#f-chain-err').waitFor();
  assert.match(await page.locator('#f-chain-err').textContent(), /^no valid PEM certificate/);
  assert.equal(await page.locator('#f-key-text').inputValue(), '');   // the key is never shown again
  assert.equal(await page.locator('#cert-sha256').textContent(), before);
  await shot('certificate-refused');
  // Regenerate, through the confirmation.
  await page.click('#regenerate');
  await page.locator('section.confirm').waitFor();
  await page.click('section.confirm button.danger');
  await page.getByText(/A new self-signed certificate is in use/).waitFor();
  assert.notEqual(await page.locator('#cert-sha256').textContent(), before);
  // A phone-width screen takes the fingerprint too.
  await page.setViewportSize({ width: 390, height: 844 });
  await go('/certificate');
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 390, `page is ${width}px wide`);
  await shot('certificate-phone');
  await page.setViewportSize({ width: 1000, height: 800 });
});

test('delete a mailbox with confirmation', async () => {
  await go('/mailboxes');
  await go('/mailboxes?delete=carol');
  await shot('mailboxes-delete-confirm');
  await page.click('button.danger');
  await page.getByText(/Mailbox carol deleted/).waitFor();
  assert.ok(!/^carol:/m.test(fs.readFileSync(path.join(dir, 'passwd'), 'utf8')));
});

test('readable on a phone-width screen', async () => {
  await page.setViewportSize({ width: 390, height: 844 });
  await go('/feed');
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 390, `page is ${width}px wide`);
  await shot('feed-phone');
  await page.setViewportSize({ width: 1000, height: 800 });
});

test('log out', async () => {
  await go('/status');
  await page.click('text=Log out');
  assert.match(page.url(), /\/login$/);
  await page.goto(BASE + '/status');
  assert.match(page.url(), /\/login$/);
});

test('no console errors', () => {
  assert.deepEqual(consoleErrors, []);
});
