// panel_https.test.mjs - the panel over HTTPS as the appliance serves it.
//
//   tests/netns-run node --test tests/web/panel_https.test.mjs   (ctest: web.panel-https)
//
// Starts boxmaild and lighttpd with mod_mbedtls (tests/web/panel_env.py
// --https: the appliance's rootfs-overlay/etc/boxmail/lighttpd-panel.conf on
// loopback ports) serving boxmail.cgi over HTTPS with the certificate
// boxmaild made on its first start, and plain HTTP that only redirects.
// Headless Chromium (playwright-core) trusts exactly that certificate's key:
// --ignore-certificate-errors-spki-list with its SPKI SHA-256, so a
// different certificate would still be refused (checked below). Run inside
// a private network namespace.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { ARTIFACTS, CHROMIUM_ARGS, chromium, closeAll, openBrowser, startEnv } from './harness.mjs';

const HTTP_PORT = 18081, HTTPS_PORT = 18443, SMTP_PORT = 12526, POP3_PORT = 11101;
const HTTPS_BASE = `https://127.0.0.1:${HTTPS_PORT}`;
const BASE = `${HTTPS_BASE}/cgi-bin/boxmail.cgi`;
const ADMIN_PW = 'panel-https-test-pw';
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'boxmail-https-'));

let env, browser, context, page, certPem;
const consoleErrors = [];

/** Base64 SHA-256 of the certificate's SubjectPublicKeyInfo (RFC 7469 2.4),
 * the form Chromium's --ignore-certificate-errors-spki-list takes. */
function spkiHash(pem) {
  const spki = new crypto.X509Certificate(pem).publicKey.export({ type: 'spki', format: 'der' });
  return crypto.createHash('sha256').update(spki).digest('base64');
}

/** One plain-HTTP request, no redirect followed: { status, location }. */
function plainRequest(method, urlPath, body) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: HTTP_PORT, path: urlPath, method,
      headers: body ? { 'content-type': 'application/x-www-form-urlencoded', 'content-length': body.length } : {} },
    (r) => {
      let text = '';
      r.setEncoding('utf8');
      r.on('data', (d) => { text += d; });
      r.on('end', () => resolve({ status: r.statusCode, location: r.headers.location, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** A TLS handshake with the given client options: the negotiated
 * { protocol, cipher } or { error }. */
function handshake(options) {
  return new Promise((resolve) => {
    const s = tls.connect({ host: '127.0.0.1', port: HTTPS_PORT, ca: certPem, checkServerIdentity: () => undefined,
      ...options }, () => {
      resolve({ protocol: s.getProtocol(), cipher: s.getCipher().standardName });
      s.end();
    });
    s.on('error', (e) => resolve({ error: e.code || e.message }));
  });
}

before(async () => {
  env = await startEnv(['--dir', dir, '--http', `127.0.0.1:${HTTP_PORT}`, '--https', `127.0.0.1:${HTTPS_PORT}`,
    '--smtp-port', String(SMTP_PORT), '--pop3-port', String(POP3_PORT), '--admin-password', ADMIN_PW]);
  certPem = fs.readFileSync(path.join(dir, 'tls', 'cert.pem'), 'utf8');
  // Chromium takes the SPKI list only with a --user-data-dir, which
  // playwright gives every launch.
  ({ browser, context, page } = await openBrowser([`--ignore-certificate-errors-spki-list=${spkiHash(certPem)}`],
    consoleErrors));
});

after(() => closeAll(browser, env, dir));

test('plain HTTP answers every request with 308 to the same path over HTTPS, and serves nothing', async () => {
  for (const [method, p, body] of [['GET', '/', null], ['GET', '/cgi-bin/boxmail.cgi/login', null],
    ['GET', '/cgi-bin/boxmail.cgi/status?x=1&y=2', null], ['POST', '/cgi-bin/boxmail.cgi/login', 'user=admin'],
    ['GET', '/cgi-bin/boxmail.cgi/style.css', null], ['GET', '/no-such-file', null]]) {
    const r = await plainRequest(method, p, body);
    assert.equal(r.status, 308, `${method} ${p}`);
    assert.equal(r.location, `${HTTPS_BASE}${p}`, `${method} ${p}`);
    assert.doesNotMatch(r.text, /password|boxmail_/i, `${method} ${p} must not carry the panel`);
  }
});

test('the browser follows http:// to https:// and gets the login page without a certificate error', async () => {
  const r = await page.goto(`http://127.0.0.1:${HTTP_PORT}/`);
  assert.equal(r.status(), 200);
  await page.waitForURL(/\/cgi-bin\/boxmail\.cgi\/login$/);
  assert.ok(page.url().startsWith(`${HTTPS_BASE}/`), page.url());
  await page.locator('#f-password').waitFor();
  await page.screenshot({ path: path.join(ARTIFACTS, 'https-login.png'), fullPage: true });
});

test('another certificate is not accepted: the SPKI pin checks the key', async () => {
  const other = await chromium.launch({ executablePath: '/usr/bin/chromium',
    args: [...CHROMIUM_ARGS, `--ignore-certificate-errors-spki-list=${crypto.createHash('sha256').update('not this key').digest('base64')}`] });
  try {
    const p = await (await other.newContext()).newPage();
    await assert.rejects(p.goto(`${BASE}/login`), /ERR_CERT_AUTHORITY_INVALID|ERR_CERT_COMMON_NAME_INVALID|ERR_CERT/);
  } finally {
    await other.close();
  }
});

test('log in over HTTPS: the session and login cookies are Secure, HttpOnly, SameSite=Strict', async () => {
  const login = await page.goto(`${BASE}/login`);
  const loginCookie = (await login.headersArray()).filter((h) => h.name.toLowerCase() === 'set-cookie')
    .map((h) => h.value).find((v) => v.startsWith('boxmail_login='));
  assert.match(loginCookie, /; HttpOnly; SameSite=Strict; Secure$/);
  await page.fill('#f-password', ADMIN_PW);
  await page.click('button[type=submit]');
  await page.waitForURL(/\/status$/);
  await page.getByRole('heading', { name: 'Status' }).waitFor();
  const c = (await context.cookies()).find((x) => x.name === 'boxmail_session');
  assert.ok(c && c.secure && c.httpOnly && c.sameSite === 'Strict' && /^[0-9a-f]{32}$/.test(c.value),
    JSON.stringify(c));
});

test('forms work over HTTPS: add a mailbox (POST with the CSRF token), restore a backup (multipart upload)', async () => {
  await page.goto(`${BASE}/mailboxes`);
  await page.fill('#f-name', 'dave');
  await page.fill('#f-password', 'dave-password');
  await page.click('text=Add mailbox');
  await page.getByText('Mailbox dave added.').waitFor();
  assert.match(fs.readFileSync(path.join(dir, 'passwd'), 'utf8'), /^dave:/m);
  // The archive through lighttpd's request buffering: the same backup
  // padded past 64 KiB (lighttpd keeps larger bodies in a temporary file).
  // Downloaded by node (playwright's own requests would not take the pin),
  // trusting the box's certificate, with the browser's session cookie.
  const session = (await context.cookies()).find((x) => x.name === 'boxmail_session');
  const tar = await new Promise((resolve, reject) => {
    https.get(`${BASE}/backup/download`, { ca: certPem, checkServerIdentity: () => undefined,
      headers: { cookie: `boxmail_session=${session.value}` } }, (r) => {
      const parts = [];
      r.on('data', (d) => parts.push(d));
      r.on('end', () => (r.statusCode === 200 ? resolve(Buffer.concat(parts)) : reject(new Error(`${r.statusCode}`))));
    }).on('error', reject);
  });
  assert.equal(tar.subarray(0, 11).toString(), 'boxmail.ini');
  const file = path.join(dir, 'backup.tar');
  fs.writeFileSync(file, Buffer.concat([tar, Buffer.alloc(96 * 1024)]));
  await page.goto(`${BASE}/backup`);
  await page.setInputFiles('#f-archive', file);
  await page.click('button:has-text("Restore")');
  await page.getByText(/Restored the configuration/).waitFor();
});

test('one TLS connection carries several panel pages (keep-alive: no handshake per page)', async () => {
  const agent = new https.Agent({ keepAlive: true, maxSockets: 1, ca: certPem, checkServerIdentity: () => undefined });
  const sockets = new Set();
  for (let i = 0; i < 5; i++) {
    await new Promise((resolve, reject) => {
      https.get(`${BASE}/login`, { agent }, (r) => {
        sockets.add(r.socket);
        assert.equal(r.statusCode, 200);
        assert.notEqual(r.headers.connection, 'close');
        r.resume();
        r.on('end', resolve);
      }).on('error', reject);
    });
  }
  agent.destroy();
  assert.equal(sockets.size, 1);
});

test('static files carry the security headers too', async () => {
  const headers = await new Promise((resolve, reject) => {
    https.get(`${HTTPS_BASE}/`, { ca: certPem, checkServerIdentity: () => undefined }, (r) => {
      r.resume();
      r.on('end', () => resolve(r.headers));
    }).on('error', reject);
  });
  assert.match(headers['content-security-policy'], /default-src 'none'.*frame-ancestors 'none'/);
  assert.equal(headers['x-frame-options'], 'DENY');
  assert.equal(headers['x-content-type-options'], 'nosniff');
  assert.equal(headers['referrer-policy'], 'same-origin');
});

test('TLS policy: TLS 1.2 with ECDHE and AEAD only; older versions, CBC and non-ECDHE suites refused', async () => {
  const ok = await handshake({ maxVersion: 'TLSv1.2' });
  assert.equal(ok.protocol, 'TLSv1.2');
  // The server's first choice (server preference, boxmaild's order).
  assert.equal(ok.cipher, 'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384');
  const chacha = await handshake({ maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-CHACHA20-POLY1305' });
  assert.equal(chacha.cipher, 'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256');
  for (const [what, options] of [
    ['TLS 1.1', { minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT:@SECLEVEL=0' }],
    ['CBC suites only', { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-SHA256:ECDHE-ECDSA-AES256-SHA384:ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA' }],
    ['no ECDHE (static RSA, DHE)', { maxVersion: 'TLSv1.2', ciphers: 'AES128-GCM-SHA256:AES256-GCM-SHA384:DHE-RSA-AES128-GCM-SHA256' }],
  ]) {
    const r = await handshake(options);
    // Refused by the server (an alert), not by this client's own settings.
    assert.match(r.error ?? '', /^ERR_SSL_.*ALERT_(PROTOCOL_VERSION|HANDSHAKE_FAILURE)$/, `${what}: ${JSON.stringify(r)}`);
  }
});

test('no console errors', () => {
  assert.deepEqual(consoleErrors, []);
});
