// Browser tests of the platform foundation: first-admin setup, sign-in with a second
// factor, language switch, people import, and the audit trail page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, launch, totp, signIn, SHOTS } from './helpers.mjs';

const DEMO_PASSWORD = 'demo-password-2026';

test('first start: the setup link creates the administrator, who signs in with a second factor', async () => {
  const server = await startServer();
  const { browser, page, problems } = await launch('en-US');
  try {
    const link = server.output().match(/open (http:\/\/\S+\/setup\/\S+) to create/)[1];
    await page.goto(link);
    await page.screenshot({ path: `${SHOTS}setup.png` });
    await page.fill('#username', 'chief');
    await page.fill('#display_name', 'Chief Administrator');
    // Long enough for the browser's own check, refused by the server's policy.
    await page.fill('#password', 'chief-password-1');
    await page.click('form.form button[type=submit]');
    assert.match(await page.textContent('#password-error'), /user name/);
    assert.equal(await page.inputValue('#display_name'), 'Chief Administrator', 'typed values are kept');
    await page.fill('#password', 'a sturdy passphrase 42');
    await page.click('form.form button[type=submit]');
    await page.waitForURL(`${server.base}/login`);
    assert.match(await page.textContent('.flash'), /administrator account is ready/);

    await page.fill('#username', 'chief');
    await page.fill('#password', 'a sturdy passphrase 42');
    await page.click('form.form button[type=submit]');
    await page.waitForURL(`${server.base}/account/totp`);
    assert.ok(await page.isVisible('.qr svg'), 'QR code shown');
    await page.screenshot({ path: `${SHOTS}enrol.png` });
    const secret = (await page.textContent('#totp-secret')).trim();
    await page.fill('#code', '123456');
    await page.click('form.form button[type=submit]');
    assert.ok(await page.isVisible('.alert'), 'wrong code refused');
    await page.fill('#code', totp(secret));
    await page.click('form.form button[type=submit]');
    await page.waitForURL(`${server.base}/`);
    assert.match(await page.textContent('h1'), /Overview/);

    // Sign out and in again: now the code is asked for.
    await page.click('form[action="/logout"] button');
    await page.waitForURL(`${server.base}/login`);
    await page.fill('#username', 'chief');
    await page.fill('#password', 'a sturdy passphrase 42');
    await page.click('form.form button[type=submit]');
    await page.waitForURL(`${server.base}/login/totp`);
    await page.screenshot({ path: `${SHOTS}totp.png` });
    await page.fill('#code', totp(secret, 30));
    await page.click('form.form button[type=submit]');
    await page.waitForURL(`${server.base}/`);
    await page.screenshot({ path: `${SHOTS}home.png` });
    assert.deepEqual(problems, []);
    // The setup link works once.
    const again = await page.goto(link);
    assert.equal(again.status(), 404);
  } finally {
    await browser.close();
    await server.stop();
  }
});

test('language: from the browser first, then the user switches and it sticks', async () => {
  const server = await startServer({ demo: true });
  const { browser, page, problems } = await launch('ja-JP');
  try {
    await page.goto(`${server.base}/login`);
    assert.equal(await page.getAttribute('html', 'lang'), 'ja');
    assert.equal(await page.textContent('h1'), 'ログイン');
    await signIn(page, server.base, 'hr', DEMO_PASSWORD);
    assert.equal(await page.textContent('h1'), '概要');
    await page.screenshot({ path: `${SHOTS}home-ja.png` });
    await page.click('button.lang');
    await page.waitForLoadState();
    assert.equal(await page.getAttribute('html', 'lang'), 'en');
    assert.equal(await page.textContent('h1'), 'Overview');
    await page.goto(`${server.base}/people`);
    assert.equal(await page.textContent('h1'), 'People', 'the choice is kept on the account');
    assert.deepEqual(problems, []);
  } finally {
    await browser.close();
    await server.stop();
  }
});

test('people: search as you type, then import a CSV file (bad rows named, nothing half-imported)', async () => {
  const server = await startServer({ demo: true });
  const { browser, page, problems } = await launch('en-US');
  try {
    await signIn(page, server.base, 'hr', DEMO_PASSWORD);
    await page.goto(`${server.base}/people`);
    const before = await page.textContent('.count');
    await page.fill('#q', 'E00040');
    await page.waitForFunction(() => document.querySelectorAll('#people-table tbody tr').length === 1);
    assert.match(await page.textContent('#people-table tbody'), /E00040/);
    await page.screenshot({ path: `${SHOTS}people.png` });

    const dir = mkdtempSync(join(tmpdir(), 'isms-csv-'));
    const bad = join(dir, 'bad.csv');
    writeFileSync(bad, 'employee_number,name,email,company_code,department_code\nW-1,Wanda Wise,wanda@aza.example,AZA,IT\nW-2,Broken Mail,broken,AZA,IT\nW-3,Nowhere,n@aza.example,XXX,\n');
    await page.goto(`${server.base}/people/import`);
    await page.setInputFiles('#file', bad);
    await page.click('#import-form button[type=submit]');
    await page.waitForSelector('#import-errors');
    const rows = await page.$$eval('#import-errors tbody tr', (trs) => trs.map((tr) => tr.innerText));
    assert.ok(rows.some((r) => r.startsWith('3') && r.includes('email')), rows.join('|'));
    assert.ok(rows.some((r) => r.startsWith('4') && r.includes('company_code')), rows.join('|'));
    await page.screenshot({ path: `${SHOTS}import-errors.png` });

    const good = join(dir, 'good.csv');
    writeFileSync(good, 'employee_number,name,email,company_code,department_code\nW-1,Wanda Wise,wanda@aza.example,AZA,IT\nW-2,Walter Wise,walter@aza.example,AZA,HR\n');
    await page.setInputFiles('#file', good);
    await page.click('#import-form button[type=submit]');
    await page.waitForSelector('#import-ok');
    assert.match(await page.textContent('#import-ok'), /2 added/);
    await page.goto(`${server.base}/people?q=wise`);
    assert.equal(await page.locator('#people-table tbody tr').count(), 2);
    await page.click('text=W-1');
    await page.waitForSelector('.timeline li');
    assert.match(await page.textContent('.timeline'), /Added by import/);
    assert.notEqual(before, await page.textContent('h1'));
    assert.deepEqual(problems, []);
  } finally {
    await browser.close();
    await server.stop();
  }
});

test('audit trail: an auditor filters entries and exports them', async () => {
  const server = await startServer({ demo: true });
  const { browser, page, problems } = await launch('en-US');
  try {
    await signIn(page, server.base, 'auditor', DEMO_PASSWORD);
    await page.goto(`${server.base}/audit`);
    const first = await page.locator('#audit-table tbody tr').count();
    assert.ok(first >= 50, `entries shown: ${first}`);
    // Filters in words: the area and the kind of record, not codes to type.
    await page.selectOption('#action', { label: 'Sign-in' });
    await page.click('.filters button[type=submit]');
    await page.waitForURL(/action=auth/);
    const actions = await page.$$eval('#audit-table tbody td:nth-child(4)', (tds) => tds.map((t) => t.innerText));
    assert.ok(actions.length > 0 && actions.every((a) => /auth\./.test(a)), actions.join(','));
    assert.ok(actions.some((a) => a.startsWith('Signed in') || a.startsWith('Sign')), actions.join(','));
    const actors = await page.$$eval('#audit-table tbody td:nth-child(3)', (tds) => tds.map((t) => t.innerText));
    assert.ok(actors.every((a) => !a.startsWith('user:')), actors.join(','));
    await page.screenshot({ path: `${SHOTS}audit.png` });
    // Records by name: the incidents area shows case references, the detail as pairs.
    await page.goto(`${server.base}/audit?action=incidents.`);
    assert.match(await page.textContent('#audit-table'), /INC-\d{4}-\d{4}/);
    assert.ok(await page.locator('#audit-table dl.kv dt').count() > 0);
    // The chain check from the page.
    await page.click('#check-chain');
    await page.waitForSelector('#chain-check');
    assert.match(await page.textContent('#chain-check'), /intact: all \d+ entries verified/);
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('text=Export CSV')]);
    const path = await download.path();
    const { readFileSync } = await import('node:fs');
    const raw = readFileSync(path);
    assert.deepEqual([...raw.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'a byte-order mark for Excel');
    const csv = raw.subarray(3).toString('utf8');
    assert.match(csv.split('\n')[0], /^No\.,Time,Actor,Action,Action code/);
    assert.ok(csv.includes('auth.login') && csv.includes('+09:00'));
    assert.deepEqual(problems, []);
  } finally {
    await browser.close();
    await server.stop();
  }
});
