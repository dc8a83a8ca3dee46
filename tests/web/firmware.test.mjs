// firmware.test.mjs - the Firmware page end to end in headless Chromium
// (ctest: web.firmware).
//
//   tests/netns-run node --test tests/web/firmware.test.mjs
//
// boxmaild + lighttpd with the appliance's policy file (tests/web/panel_env.py
// --https: the firmware upload is streamed by lighttpd to boxmail.cgi under
// its own request-size limit) inside a private network namespace. The
// CGI's firmware files point at this test's: BOXMAIL_FIRMWARE_DIR (the
// staging directory, the panel user's, 0700), BOXMAIL_FIRMWARE_KEY (the
// committed test key's public half), BOXMAIL_RELEASE (board fw-test-board,
// parts kernel initramfs) and BOXMAIL_FIRMWARE_STATUS (slot b failed).
// Update files are signed here with board/common/sign_firmware.py and
// tests/unit/data/firmware/test-key.pem (parts of random octets).
//
// Checked: the status and a failed trial on the page; a good file staged
// byte-exact as firmware.bin with request "install\n"; a file with one
// octet flipped in a part, another board, another key, a truncated file,
// each refused with its message and nothing left in the staging directory;
// the form without its CSRF field, and with it after the file: 403, nothing
// staged; the factory reset with a wrong password refused (its field), a
// bad choice word refused, the right one writing "factory-reset wipe\n";
// a 20 MB file staged whole while the CGI's peak RSS (VmHWM, read from
// /proc while it runs) stays small and lighttpd keeps under 1 MiB of it in
// /tmp at a time (streamed: ~80 KiB; buffered it would hold all 20 MB). Screenshots go to
// BOXMAIL_BUILD/web-artifacts/firmware-*.png.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { ARTIFACTS, SOURCE, closeAll, openBrowser, pageTools, startEnv } from './harness.mjs';

const HTTP_PORT = 18095, HTTPS_PORT = 18495, SMTP_PORT = 12550, POP3_PORT = 11125;
const BASE = `https://127.0.0.1:${HTTPS_PORT}/cgi-bin/boxmail.cgi`;
const ADMIN_PW = 'firmware-test-pw';
const BOARD = 'fw-test-board';
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'boxmail-firmware-'));
// Readable by the panel's user (the CGI runs as boxmail-web): key, release, status.
const fwdir = fs.mkdtempSync(path.join(os.tmpdir(), 'boxmail-fwfiles-'));
fs.chmodSync(fwdir, 0o755);
const staging = path.join(fwdir, 'staging');
const files = path.join(fwdir, 'files');   // the update files the test uploads (root's)
const SIGN = path.join(SOURCE, 'board/common/sign_firmware.py');
const KEYS = path.join(SOURCE, 'tests/unit/data/firmware');

let env, browser, context, page;
const consoleErrors = [];
const { shot, go, button } = pageTools(() => page, BASE, 'firmware');

/** Random parts (octets each), signed into FILES/NAME.bmfw; its path. */
function makeFirmware(name, { board = BOARD, key = 'test-key.pem', kernel = 3000, initramfs = 5000,
  version = '2.0.0+web' } = {}) {
  const k = path.join(files, `${name}.kernel`), i = path.join(files, `${name}.initramfs`);
  fs.writeFileSync(k, crypto.randomBytes(kernel));
  fs.writeFileSync(i, crypto.randomBytes(initramfs));
  const out = path.join(files, `${name}.bmfw`);
  execFileSync('/usr/bin/python3', [SIGN, 'sign', '--key', path.join(KEYS, key), '--board', board, '--version',
    version, '--part', `kernel=${k}`, '--part', `initramfs=${i}`, '--out', out]);
  fs.rmSync(k);
  fs.rmSync(i);
  return out;
}

const stagedNow = () => fs.readdirSync(staging).sort();

/** The page's POST of the upload form: resolves to its response. */
async function submitUpload(file) {
  if (file) await page.setInputFiles('#f-firmware', file);
  const [resp] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/firmware')),
    button('Upload and install').click(),
  ]);
  await page.waitForLoadState();
  return resp;
}

/** The highest VmHWM (KiB) of any boxmail.cgi process seen while `fn`
 * runs, and how many request-body files lighttpd had in /tmp meanwhile
 * (server.upload-dirs: it makes lighttpd-upload-* there when it buffers). */
async function peakCgiRss(fn) {
  let peak = 0, seen = 0, tempBytes = 0;
  const tempNames = new Set();
  let running = true;
  const poll = (async () => {
    while (running) {
      let bytes = 0;
      for (const n of fs.readdirSync('/tmp').filter((f) => f.startsWith('lighttpd-upload-'))) {
        tempNames.add(n);
        try { bytes += fs.statSync(path.join('/tmp', n)).size; } catch { /* gone */ }
      }
      tempBytes = Math.max(tempBytes, bytes);
      for (const pid of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
        try {
          if (fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim() !== 'boxmail.cgi') continue;
          const m = fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmHWM:\s+(\d+) kB/);
          if (m) { peak = Math.max(peak, Number(m[1])); seen++; }
        } catch { /* gone */ }
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  const result = await fn();
  running = false;
  await poll;
  return { result, peak, seen, tempFiles: tempNames.size, tempBytes };
}

before(async () => {
  fs.mkdirSync(files);
  fs.mkdirSync(staging, { mode: 0o700 });
  const web = Number(execFileSync('id', ['-u', 'boxmail-web'], { encoding: 'utf8' }).trim());
  const webGid = Number(execFileSync('id', ['-g', 'boxmail-web'], { encoding: 'utf8' }).trim());
  fs.chownSync(staging, web, webGid);
  fs.copyFileSync(path.join(KEYS, 'test-key.pub.pem'), path.join(fwdir, 'firmware-key.pem'));
  fs.writeFileSync(path.join(fwdir, 'release'), `board=${BOARD}\nversion=1.2.3\nparts=kernel initramfs\n`);
  fs.writeFileSync(path.join(fwdir, 'status'), `running=a\nactive=a\ntrial=\ntries=0\nfailed=b\nboard=${BOARD}\n` +
    'version=1.2.3\nversion.a=1.2.3\nversion.b=<img src=x onerror=alert(1)>\nerror=\n');
  for (const f of ['firmware-key.pem', 'release', 'status']) fs.chmodSync(path.join(fwdir, f), 0o644);
  Object.assign(process.env, {
    BOXMAIL_FIRMWARE_DIR: staging, BOXMAIL_FIRMWARE_KEY: path.join(fwdir, 'firmware-key.pem'),
    BOXMAIL_RELEASE: path.join(fwdir, 'release'), BOXMAIL_FIRMWARE_STATUS: path.join(fwdir, 'status'),
    BOXMAIL_FIRMWARE_RESULT: path.join(fwdir, 'result'),
  });
  env = await startEnv(['--dir', dir, '--http', `127.0.0.1:${HTTP_PORT}`, '--https', `127.0.0.1:${HTTPS_PORT}`,
    '--smtp-port', String(SMTP_PORT), '--pop3-port', String(POP3_PORT), '--admin-password', ADMIN_PW]);
  const certPem = fs.readFileSync(path.join(dir, 'tls', 'cert.pem'), 'utf8');
  const spki = new crypto.X509Certificate(certPem).publicKey.export({ type: 'spki', format: 'der' });
  ({ browser, context, page } = await openBrowser(
    [`--ignore-certificate-errors-spki-list=${crypto.createHash('sha256').update(spki).digest('base64')}`],
    consoleErrors));
  page.on('dialog', (d) => { consoleErrors.push(`dialog: ${d.message()}`); d.dismiss(); });
});

after(async () => {
  await closeAll(browser, env, dir);
  if (process.env.BOXMAIL_KEEP !== '1') fs.rmSync(fwdir, { recursive: true, force: true });
});

test('log in; the Firmware page shows the slots, the failed trial and the last result', async () => {
  assert.equal(process.getuid(), 0, 'runs as root in its own network namespace (tests/netns-run)');
  fs.writeFileSync(path.join(fwdir, 'result'), 'install failed: <b>slot b</b> write error\n');
  await page.goto(BASE + '/login');
  await page.fill('#f-password', ADMIN_PW);
  await page.click('button[type=submit]');
  assert.match(page.url(), /\/status$/);
  await page.getByRole('link', { name: 'Firmware' }).first().click();
  assert.match(page.url(), /\/firmware$/);
  assert.equal(await page.locator('#fw-version').innerText(), '1.2.3');
  assert.equal(await page.locator('#fw-board').innerText(), BOARD);
  assert.equal(await page.locator('#fw-version-b').innerText(), '<img src=x onerror=alert(1)>');
  assert.match(await page.locator('.notice').allInnerTexts().then((t) => t.join(' | ')),
    /The firmware in slot b \(version <img src=x onerror=alert\(1\)>\) did not come up, and the box went back to the running one: slot a \(version 1\.2\.3\)/);
  assert.match(await page.locator('#fw-result').innerText(), /failed: install failed: <b>slot b<\/b> write error/);
  assert.equal(await page.locator('img').count(), 0);
  await shot('page');
});

test('a good signed file is staged byte-exact with the install request', async () => {
  const good = makeFirmware('good');
  await go('/firmware');
  const r = await submitUpload(good);
  assert.equal(r.status(), 200);
  const notices = await page.locator('.notice').allInnerTexts().then((t) => t.join(' | '));
  assert.match(notices, new RegExp(`Firmware 2\\.0\\.0\\+web \\(board ${BOARD}\\) is signed by this box's key and ` +
    'complete\\. The box installs it into the other slot and restarts; that takes about \\d+ minutes\\. Mail and ' +
    'settings are kept\\.'));
  assert.match(notices, /The box is asked to install/);
  assert.deepEqual(stagedNow(), ['firmware.bin', 'request']);
  assert.ok(fs.readFileSync(path.join(staging, 'firmware.bin')).equals(fs.readFileSync(good)), 'byte-exact');
  assert.equal(fs.readFileSync(path.join(staging, 'request'), 'utf8'), 'install\n');
  assert.equal(fs.statSync(path.join(staging, 'firmware.bin')).mode & 0o777, 0o600);
  // While the request waits, the forms are gone.
  assert.equal(await page.locator('#f-firmware').count(), 0);
  await shot('staged');
  // The watcher takes the request (as the init script's would).
  for (const f of stagedNow()) fs.rmSync(path.join(staging, f));
});

test('refused: a changed octet, another board, another key, a truncated file; nothing staged', async () => {
  const good = fs.readFileSync(makeFirmware('base'));
  const flipped = Buffer.from(good);
  flipped[flipped.length - 10] ^= 0x40;   // in the initramfs part
  fs.writeFileSync(path.join(files, 'flipped.bmfw'), flipped);
  fs.writeFileSync(path.join(files, 'truncated.bmfw'), good.subarray(0, good.length - 1000));
  const ours = execFileSync('/usr/bin/python3', [SIGN, 'key-id', path.join(KEYS, 'test-key.pub.pem')], { encoding: 'utf8' }).trim();
  const theirs = execFileSync('/usr/bin/python3', [SIGN, 'key-id', path.join(KEYS, 'other-key.pub.pem')], { encoding: 'utf8' }).trim();
  const cases = [
    [path.join(files, 'flipped.bmfw'), /the part 'initramfs' does not match its SHA-256 in the signed header \(corrupt or changed\)/],
    [makeFirmware('board', { board: 'other-board' }), new RegExp(`this firmware is for the board 'other-board', this box is '${BOARD}'`)],
    [makeFirmware('key', { key: 'other-key.pem' }), new RegExp(`the file is signed with key ${theirs}; this box trusts key ${ours} only`)],
    [path.join(files, 'truncated.bmfw'), /the file ends inside the part 'initramfs' \(cut short\?\)/],
    [path.join(KEYS, 'test-key.pub.pem'), /not a boxmail firmware file/],
  ];
  for (const [file, want] of cases) {
    await go('/firmware');
    const r = await submitUpload(file);
    assert.equal(r.status(), 200, file);
    assert.match(await page.locator('#f-firmware-err').innerText(), want);
    assert.deepEqual(stagedNow(), [], `nothing staged for ${file}`);
  }
  await shot('refused');
});

test('without the CSRF field, or with it after the file: 403 and nothing staged', async () => {
  const good = makeFirmware('csrf');
  for (const how of ['removed', 'after the file']) {
    await go('/firmware');
    await page.setInputFiles('#f-firmware', good);
    await page.evaluate((h) => {
      const form = document.getElementById('upload-form');
      const csrf = form.querySelector('input[name=csrf]');
      if (h === 'removed') csrf.remove(); else form.appendChild(csrf);
    }, how);
    const r = await submitUpload(null);
    assert.equal(r.status(), 403, how);
    assert.match(await page.locator('body').innerText(), /security token is missing or wrong/);
    assert.deepEqual(stagedNow(), [], how);
  }
  // The browser logs each 403 page as a failed load: those two, and no other.
  const forbidden = consoleErrors.filter((e) => /\/firmware: .*status of 403/.test(e));
  assert.equal(forbidden.length, 2, consoleErrors.join('\n'));
  consoleErrors.splice(0, consoleErrors.length, ...consoleErrors.filter((e) => !forbidden.includes(e)));
});

test('a 20 MB firmware is streamed: staged whole, the CGI stays small', async () => {
  const big = makeFirmware('big', { kernel: 8 * 1024 * 1024, initramfs: 12 * 1024 * 1024 });
  await go('/firmware');
  await page.setInputFiles('#f-firmware', big);
  const t0 = Date.now();
  const { result: r, peak, seen, tempFiles, tempBytes } = await peakCgiRss(() => submitUpload(null));
  const seconds = (Date.now() - t0) / 1000;
  assert.equal(r.status(), 200);
  assert.match(await page.locator('.notice').first().innerText(), /is signed by this box's key and complete/);
  assert.equal(fs.statSync(path.join(staging, 'firmware.bin')).size, fs.statSync(big).size);
  assert.ok(fs.readFileSync(path.join(staging, 'firmware.bin')).equals(fs.readFileSync(big)), 'byte-exact');
  const size = fs.statSync(big).size;
  console.log(`firmware upload: ${size} octets in ${seconds.toFixed(2)} s; boxmail.cgi peak RSS ${peak} KiB ` +
    `(${seen} samples); lighttpd temporary files in /tmp: ${tempFiles}, at most ${tempBytes} octets at once`);
  fs.writeFileSync(path.join(ARTIFACTS, 'firmware-upload.txt'), `octets ${size}\nseconds ${seconds.toFixed(2)}\n` +
    `cgi_peak_rss_kib ${peak}\nsamples ${seen}\nlighttpd_temp_files ${tempFiles}\nlighttpd_temp_max_octets ${tempBytes}\n`);
  assert.ok(seen > 0, 'the CGI was seen running');
  // Streamed, lighttpd still passes the body through small temporary files
  // (about 80 KiB in /tmp at a time); buffered, one file holds all of it.
  assert.ok(tempBytes < 1024 * 1024, `lighttpd streamed the body: at most ${tempBytes} octets in /tmp at once`);
  assert.ok(peak < 16 * 1024, `boxmail.cgi peak RSS ${peak} KiB`);
  for (const f of stagedNow()) fs.rmSync(path.join(staging, f));
});

/** A POST of `octets` octets to PATH over HTTPS without a session; its status. */
function rawPost(urlPath, octets) {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port: HTTPS_PORT, path: urlPath, method: 'POST',
      rejectUnauthorized: false, headers: { 'content-type': 'multipart/form-data; boundary=xyz',
        'content-length': octets } }, (r) => { r.resume(); r.on('end', () => resolve(r.statusCode)); });
    req.on('error', (e) => (e.code === 'ECONNRESET' || e.code === 'EPIPE' ? resolve('reset') : reject(e)));
    const chunk = Buffer.alloc(65536, 0x61);
    let left = octets;
    const pump = () => {
      while (left > 0) {
        const n = Math.min(left, chunk.length);
        left -= n;
        if (!req.write(chunk.subarray(0, n))) { req.once('drain', pump); return; }
      }
      req.end();
    };
    pump();
  });
}

test('lighttpd: the large limit is the firmware URL\'s only', async () => {
  // 3 MiB: over the 2 MiB every other URL keeps, under the firmware's.
  assert.equal(await rawPost('/cgi-bin/boxmail.cgi/backup', 3 * 1024 * 1024), 413);
  assert.equal(await rawPost('/cgi-bin/boxmail.cgi/firmware', 3 * 1024 * 1024), 403);   // the CGI: no session
  assert.deepEqual(stagedNow(), []);
});

test('factory reset: a wrong password and a bad choice are refused; the right one asks for it', async () => {
  await go('/firmware');
  await page.check('#f-choice-wipe');
  await page.fill('#f-password', 'not-the-password');
  await button('Factory reset and restart').click();
  await page.locator('#f-password-err').waitFor();
  assert.match(await page.locator('#f-password-err').innerText(), /wrong password/);
  assert.deepEqual(stagedNow(), []);
  await shot('reset-wrong');
  // A choice word the form never offers (and one with a line end).
  for (const word of ['everything', 'wipe\r\nwipe']) {
    await page.evaluate((w) => { document.getElementById('f-choice-wipe').value = w; }, word);
    await page.check('#f-choice-wipe');
    await page.fill('#f-password', ADMIN_PW);
    await button('Factory reset and restart').click();
    await page.locator('#f-choice-err').waitFor();
    assert.deepEqual(stagedNow(), [], word);
  }
  await go('/firmware');
  await page.check('#f-choice-wipe');
  await page.fill('#f-password', ADMIN_PW);
  await button('Factory reset and restart').click();
  await page.locator('.notice.ok, .notice:not(.bad)').first().waitFor();
  const notices = await page.locator('.notice').allInnerTexts().then((t) => t.join(' | '));
  assert.match(notices, /Factory reset \(wipe\) asked: the box restarts with its factory settings/);
  assert.match(notices, /A new administrator password is printed on its console/);
  assert.deepEqual(stagedNow(), ['request']);
  assert.equal(fs.readFileSync(path.join(staging, 'request'), 'utf8'), 'factory-reset wipe\n');
  await shot('reset-asked');
  assert.deepEqual(consoleErrors, []);
});
