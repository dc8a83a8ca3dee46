// harness.mjs - what the browser tests share (panel.test.mjs,
// panel_https.test.mjs, outgoing.test.mjs, security.test.mjs): the panel's
// servers (tests/web/panel_env.py) as a child process, headless Debian
// Chromium through playwright-core, and the list of console errors every
// test file checks at its end, the page helpers (pageTools) and a small
// SMTP client.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

export const BUILD = path.resolve(process.env.BOXMAIL_BUILD ?? 'build');
export const SOURCE = path.resolve(process.env.BOXMAIL_SOURCE ?? '.');
export const ARTIFACTS = path.join(BUILD, 'web-artifacts');
/** playwright-core as tests/web/install.sh put it into BUILD/web. */
export const { chromium } = createRequire(path.join(BUILD, 'web') + '/')('playwright-core');

/** Chromium's switches for these tests (playwright adds its own, among
 * them a fresh temporary --user-data-dir for each launch). */
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** Starts panel_env.py with `args` (after --build BUILD) and resolves to
 * the child once it printed "panel-env: ready"; rejects when it exits
 * first. The child stops when its stdin ends (--stdin-stop). */
export function startEnv(args) {
  return new Promise((resolve, reject) => {
    const p = spawn('/usr/bin/python3', [path.join(SOURCE, 'tests/web/panel_env.py'), '--build', BUILD, ...args,
      '--stdin-stop'], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d) => {
      out += d;
      if (out.includes('panel-env: ready')) resolve(p);
    });
    p.on('exit', (code) => reject(new Error(`panel_env.py exited with ${code}: ${out}`)));
  });
}

/** Launches Chromium (CHROMIUM_ARGS plus `extraArgs`) with one page of a
 * 1000x800 context; console errors and page errors of that page are pushed
 * to `consoleErrors` as "URL: text". Resolves to { browser, context, page }. */
export async function openBrowser(extraArgs, consoleErrors) {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: [...CHROMIUM_ARGS, ...extraArgs] });
  const context = await browser.newContext({ viewport: { width: 1000, height: 800 } });
  const page = await context.newPage();
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(`${page.url()}: ${m.text()}`); });
  page.on('pageerror', (e) => consoleErrors.push(`${page.url()}: ${e.message}`));
  return { browser, context, page };
}

/** What the page tests do on the panel's pages, for the page `getPage()`
 * returns (set in a test's before()): `shot(name)` saves a full-page
 * screenshot as ARTIFACTS/PREFIX-NAME.png; `go(p)` opens `base + p` and
 * expects 200; `notices()` resolves to the page's notices (ok or not)
 * joined with " | "; `submit(button)` clicks a submit button and resolves
 * to the notices of the page the POST answered with (every POST's answer
 * has one); `button(name)` is the button of that exact accessible name. */
export function pageTools(getPage, base, prefix) {
  const notices = () => getPage().locator('.notice').allInnerTexts().then((t) => t.join(' | '));
  return {
    shot: (name) => getPage().screenshot({ path: path.join(ARTIFACTS, `${prefix}-${name}.png`), fullPage: true }),
    go: async (p) => {
      const r = await getPage().goto(base + p);
      assert.equal(r.status(), 200, `GET ${p}`);
    },
    notices,
    submit: async (button) => {
      await button.click();
      await getPage().locator('.notice').first().waitFor();
      return notices();
    },
    button: (name) => getPage().getByRole('button', { name, exact: true }),
  };
}

/** Closes the browser, stops panel_env.py and removes `dir` (kept with
 * BOXMAIL_KEEP=1). Any argument may be undefined (a failed start). */
export async function closeAll(browser, env, dir) {
  if (browser) await browser.close();
  if (env) { env.stdin.end(); await new Promise((r) => env.on('exit', r)); }
  if (process.env.BOXMAIL_KEEP !== '1') fs.rmSync(dir, { recursive: true, force: true });
}

/** A minimal SMTP client: sends one message from `from` to `to` on
 * 127.0.0.1:`port`; resolves to the last reply line (to the end of DATA,
 * or the first command that failed). */
export async function sendSmtp(port, to, body, from = 'tester@example.org') {
  const s = net.connect(port, '127.0.0.1');
  s.setEncoding('latin1');
  let buf = '';
  const waiters = [];
  const pump = () => {
    while (waiters.length) {
      const m = buf.match(/^(?:\d{3}-.*\r\n)*\d{3} .*\r\n/);
      if (!m) return;
      buf = buf.slice(m[0].length);
      waiters.shift()(m[0].trim().split('\r\n').pop());
    }
  };
  s.on('data', (d) => { buf += d; pump(); });
  const closed = new Promise((resolve, reject) => { s.on('close', resolve); s.on('error', reject); });
  const reply = () => new Promise((resolve) => { waiters.push(resolve); pump(); });
  const cmd = (line) => { s.write(line + '\r\n'); return reply(); };
  let r = await reply();
  for (const [line, ok] of [['EHLO test.example', /^250/], [`MAIL FROM:<${from}>`, /^250/],
    [`RCPT TO:<${to}>`, /^25/], ['DATA', /^354/],
    [`From: ${from}\r\nTo: ${to}\r\nSubject: panel test\r\n\r\n${body}\r\n.`, null]]) {
    r = await cmd(line);
    if (ok && !ok.test(r)) break;
  }
  s.end('QUIT\r\n');
  await closed;
  return r;
}
