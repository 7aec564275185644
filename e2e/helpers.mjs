// Shared helpers for the browser tests: a real isms server per test file on a free port
// with its own data folder, Chromium from the system, and TOTP codes.
import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import { chromium } from 'playwright-core';

export const BIN = process.env.ISMS_BIN || new URL('../target/debug/isms', import.meta.url).pathname;
export const SHOTS = new URL('./screenshots/', import.meta.url).pathname;
mkdirSync(SHOTS, { recursive: true });

async function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
    s.on('error', reject);
  });
}

/** Starts `isms serve` and resolves once it prints that it is ready. */
export async function startServer({ demo = false } = {}) {
  const port = await freePort();
  const data = mkdtempSync(join(tmpdir(), 'isms-e2e-'));
  const args = ['serve', '--listen', `127.0.0.1:${port}`, '--data', data];
  if (demo) args.push('--demo');
  const proc = spawn(BIN, args, { env: { ...process.env, ISMS_LOG: 'warn' }, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${out}`)), 30000);
    proc.stdout.on('data', (d) => {
      out += d.toString();
      if (out.includes('isms is ready at') && (!demo || out.includes('desk'))) { clearTimeout(timer); setTimeout(resolve, 100); }
    });
    proc.on('exit', (code) => { clearTimeout(timer); reject(new Error(`server exited with ${code}:\n${out}`)); });
  });
  const base = `http://127.0.0.1:${port}`;
  return {
    base,
    output: () => out,
    async stop() {
      proc.kill('SIGTERM');
      await new Promise((r) => proc.once('exit', r));
      rmSync(data, { recursive: true, force: true });
    },
  };
}

export async function launch(locale = 'ja-JP', options = {}) {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const context = await browser.newContext({ locale, viewport: { width: 1280, height: 860 }, ...options });
  const page = await context.newPage();
  const problems = [];
  // A 422 answer to a deliberately bad form is expected; anything else logged as an error is a problem.
  page.on('console', (m) => { if (m.type() === 'error' && !/status of 422/.test(m.text())) problems.push(m.text()); });
  page.on('pageerror', (e) => problems.push(String(e)));
  return { browser, context, page, problems };
}

function base32(s) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of s.replace(/=+$/, '').toUpperCase()) bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  const out = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) out.push(parseInt(bits.slice(i, i + 8), 2));
  return Buffer.from(out);
}

/** RFC 6238 code for a base32 secret, `offset` seconds from now. */
export function totp(secret, offset = 0) {
  const step = Math.floor((Date.now() / 1000 + offset) / 30);
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(step));
  const h = createHmac('sha1', base32(secret)).update(msg).digest();
  const o = h[h.length - 1] & 0xf;
  const n = ((h[o] & 0x7f) << 24) | (h[o + 1] << 16) | (h[o + 2] << 8) | h[o + 3];
  return String(n % 1_000_000).padStart(6, '0');
}

/** Signs in; enrols the second factor when the account's role asks for it. Returns the secret. */
export async function signIn(page, base, username, password) {
  await page.goto(`${base}/login`);
  await page.fill('#username', username);
  await page.fill('#password', password);
  await page.click('form.form button[type=submit]');
  await page.waitForLoadState();
  if (page.url().endsWith('/account/totp')) {
    const secret = (await page.textContent('#totp-secret')).trim();
    await page.fill('#code', totp(secret));
    await page.click('form.form button[type=submit]');
    await page.waitForURL(`${base}/`);
    return secret;
  }
  return null;
}
