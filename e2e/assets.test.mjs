// The asset register in a real browser: the register and its filters, the handling
// categories, conformance findings and an exception, a new asset with a bad field, and a
// take-out request approved by the company's security administrator. Both languages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launch, signIn, SHOTS } from './helpers.mjs';

const PASSWORD = 'demo-password-2026';

test('assets: the CISO reads the register, the rules and the findings, and accepts an exception', async () => {
  const server = await startServer({ demo: true });
  const { browser, page, problems } = await launch('ja-JP');
  try {
    await signIn(page, server.base, 'ciso', PASSWORD);
    await page.goto(`${server.base}/assets`);
    assert.equal(await page.textContent('h1'), '情報資産');
    const rows = await page.locator('#assets-table tbody tr').count();
    assert.equal(rows, 10);
    await page.screenshot({ path: `${SHOTS}assets-register-ja.png`, fullPage: true });

    // Customer information only, as the filter updates the table in place.
    await page.selectOption('#customer', 'yes');
    await page.waitForFunction(() => document.querySelectorAll('#assets-table tbody tr').length === 4);
    const badges = await page.locator('#assets-table tbody .badge.tone-customer').count();
    assert.equal(badges, 4);
    assert.match(page.url(), /customer=yes/);

    // The handling rules, in English.
    await page.goto(`${server.base}/assets/categories`);
    await page.click('button.lang');
    await page.waitForLoadState();
    assert.equal(await page.textContent('h1'), 'Handling categories');
    const first = await page.textContent('#categories tbody tr:first-child th');
    assert.match(first, /Customer personal information/);
    assert.match(first, /Customer information/);
    await page.screenshot({ path: `${SHOTS}assets-categories-en.png`, fullPage: true });

    // Findings: customer data in an analytics service not approved for it.
    await page.goto(`${server.base}/assets/findings?status=open&rule=cloud-not-approved`);
    const finding = page.locator('#findings tbody tr', { hasText: 'マイレージ会員情報' });
    await finding.locator('a').first().click();
    await page.waitForURL(/\/assets\/findings\/[0-9a-f-]+$/);
    assert.match(await page.textContent('#rule-explained'), /not been approved/);
    // A reason that is too short is refused beside its field; nothing changes.
    await page.fill('#reason', 'short');
    await page.fill('#expires_on', '2099-01-01');
    await page.click('text=Accept exception');
    await page.waitForSelector('#reason-error');
    assert.match(await page.textContent('#reason-error'), /10 characters/);
    assert.match(await page.textContent('#expires_on-error'), /year/);
    const nextMonth = new Date(Date.now() + 30 * 86400000).toISOString().slice(0, 10);
    await page.fill('#reason', 'Data is pseudonymised before export; contract amendment under way.');
    await page.fill('#expires_on', nextMonth);
    await page.click('text=Accept exception');
    await page.waitForSelector('.flash');
    assert.match(await page.textContent('main'), /Exception/);
    await page.screenshot({ path: `${SHOTS}assets-finding-en.png`, fullPage: true });
    assert.deepEqual(problems, []);
  } finally {
    await browser.close();
    await server.stop();
  }
});

test('assets: a company administrator adds an asset; an employee asks to take information out and gets an answer', async () => {
  const server = await startServer({ demo: true });
  const admin = await launch('en-GB');
  const emp = await launch('ja-JP');
  try {
    await signIn(admin.page, server.base, 'secadmin', PASSWORD);
    await admin.page.goto(`${server.base}/assets/new`);
    await admin.page.fill('#name', '');
    await admin.page.fill('#volume', 'many');
    await admin.page.click('form.form button[type=submit]');
    await admin.page.waitForSelector('#volume-error');
    assert.match(await admin.page.textContent('#volume-error'), /not a whole number/);
    await admin.page.fill('#volume', '1200');
    await admin.page.fill('#name', 'Baggage claim forms');
    await admin.page.selectOption('#category_id', { label: 'Customer personal information — Customer information' });
    await admin.page.selectOption('#medium', 'paper');
    await admin.page.selectOption('#supports', { label: 'AZA / Paper storage / 記録保管室 B2、キャビネット 4' });
    await admin.page.click('form.form button[type=submit]');
    await admin.page.waitForURL(/\/assets\/[0-9a-f-]{36}$/);
    assert.equal(await admin.page.textContent('h1'), 'Baggage claim forms');
    // No owner was given: the check names it at once.
    assert.match(await admin.page.textContent('#findings'), /Asset without an owner/);
    await admin.page.screenshot({ path: `${SHOTS}assets-record-en.png`, fullPage: true });

    // The employee: customer information may never leave; employee information may, with approval.
    await signIn(emp.page, server.base, 'employee', PASSWORD);
    await emp.page.goto(`${server.base}/takeouts/new`);
    await emp.page.selectOption('#category_id', { label: '顧客個人情報' });
    await emp.page.fill('#what', '予約一覧');
    await emp.page.fill('#purpose', '出張先での確認');
    await emp.page.selectOption('#medium', 'device');
    const back = new Date(Date.now() + 7 * 86400000).toISOString().slice(0, 10);
    await emp.page.fill('#return_by', back);
    await emp.page.click('form.form button[type=submit]');
    await emp.page.waitForSelector('#category_id-error');
    assert.match(await emp.page.textContent('#category_id-error'), /持ち出せません/);
    await emp.page.selectOption('#category_id', { label: '従業員個人情報' });
    await emp.page.fill('#what', 'シフト表');
    await emp.page.click('form.form button[type=submit]');
    await emp.page.waitForURL(/\/takeouts\/[0-9a-f-]{36}$/);
    const url = emp.page.url();
    assert.match(await emp.page.textContent('main'), /申請中/);
    await emp.page.screenshot({ path: `${SHOTS}takeout-request-ja.png`, fullPage: true });
    // The requester never decides their own request.
    assert.equal(await emp.page.locator('button[value=approve]').count(), 0);

    await admin.page.goto(url);
    await admin.page.click('button[value=approve]');
    await admin.page.waitForSelector('.flash');
    assert.match(await admin.page.textContent('main'), /Outside/);
    await emp.page.goto(`${server.base}/takeouts?status=outside`);
    assert.equal(await emp.page.locator('#takeouts tbody tr').count(), 1);
    assert.deepEqual(admin.problems, []);
    assert.deepEqual(emp.problems, []);
  } finally {
    await admin.browser.close();
    await emp.browser.close();
    await server.stop();
  }
});

test('assets: import a register file — problems by line first, then a preview, then the commit', async () => {
  const server = await startServer({ demo: true });
  const { browser, page, problems } = await launch('ja-JP');
  try {
    await signIn(page, server.base, 'secadmin', PASSWORD);
    await page.goto(`${server.base}/assets/import`);
    assert.equal(await page.textContent('h1'), '情報資産の取り込み');
    const bad = 'name,category_code,company_code,medium,held_by\nCheck-in lists,INTERNAL,AZA,paper,記録保管室 B2 キャビネット 4\nFlight plans,SECRET,AZA,electronic,\n';
    await page.setInputFiles('#file', { name: 'bad.csv', mimeType: 'text/csv', buffer: Buffer.from(bad) });
    await page.click('#import-form button[type=submit]');
    await page.waitForSelector('#import-errors');
    const lines = await page.locator('#import-errors tbody tr td:first-child').allTextContents();
    assert.deepEqual(lines, ['2', '3']);
    assert.match(await page.textContent('#import-errors'), /SECRET/);
    await page.screenshot({ path: `${SHOTS}assets-import-errors-ja.png`, fullPage: true });

    const good = 'name,category_code,company_code,medium,held_by,owner_employee_number\nCheck-in lists,INTERNAL,AZA,paper,"記録保管室 B2、キャビネット 4",E00036\n乗務員の勤務表,EMPLOYEE-PI,AZA,electronic,ノート PC AZA-PC-0142,E00037\n';
    await page.setInputFiles('#file', { name: 'good.csv', mimeType: 'text/csv', buffer: Buffer.from(good) });
    await page.click('#import-form button[type=submit]');
    await page.waitForSelector('#import-preview');
    assert.equal(await page.locator('#import-preview tbody tr').count(), 2);
    assert.match(await page.textContent('#import-preview-summary'), /追加 1 件、更新 1 件/);
    await page.screenshot({ path: `${SHOTS}assets-import-preview-ja.png`, fullPage: true });
    // Nothing is written before the commit.
    await page.goto(`${server.base}/assets?q=Check-in`);
    assert.equal(await page.locator('#assets-table tbody tr td.empty').count(), 1);
    await page.goBack();
    await page.goto(`${server.base}/assets/import`);
    await page.setInputFiles('#file', { name: 'good.csv', mimeType: 'text/csv', buffer: Buffer.from(good) });
    await page.click('#import-form button[type=submit]');
    await page.click('#import-commit');
    await page.waitForSelector('#import-ok');
    await page.goto(`${server.base}/assets?q=Check-in`);
    assert.equal(await page.locator('#assets-table tbody tr').count(), 1);
    assert.deepEqual(problems, []);
  } finally {
    await browser.close();
    await server.stop();
  }
});
