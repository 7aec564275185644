// Documents in a real browser: a company administrator writes a procedure with a live
// preview and sends it for approval; the CISO approves it; it is published; an employee
// is notified, reads and confirms; anyone reads the public page in both languages and
// prints it. Also the comparison of two versions of the Handbook.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launch, signIn, SHOTS } from './helpers.mjs';

const PASSWORD = 'demo-password-2026';

test('policies: write, approve, publish, acknowledge, and the public page', async () => {
  const server = await startServer({ demo: true });
  const admin = await launch('en-GB');
  const ciso = await launch('ja-JP');
  const emp = await launch('ja-JP');
  const anon = await launch('ja-JP');
  try {
    // The company's security administrator writes a procedure.
    await signIn(admin.page, server.base, 'secadmin', PASSWORD);
    await admin.page.goto(`${server.base}/policies/new`);
    await admin.page.fill('#code', 'aza-prc-7');
    await admin.page.selectOption('#kind', 'procedure');
    await admin.page.fill('#title', 'Lost laptop procedure');
    await admin.page.selectOption('#company_id', { label: 'Aozora Airlines' });
    await admin.page.fill('#owner_id', 'E00001');
    await admin.page.check('input[name=public]');
    await admin.page.check('input[name=must_acknowledge]');
    await admin.page.fill('#body', '# Lost laptop\n\nReport **at once** to the CSIRT.\n');
    await admin.page.click('form.form button[type=submit]');
    await admin.page.waitForURL(/\/policies\/[0-9a-f-]+$/);
    assert.match(await admin.page.textContent('h1'), /AZA-PRC-7/);
    // The draft: the preview follows the typing; script tags stay text.
    await admin.page.click('#versions a:has-text("Version 1")');
    await admin.page.click('a:has-text("Edit")');
    await admin.page.fill('#summary', 'First issue');
    await admin.page.fill('#body', '# Lost laptop\n\nReport **at once** to the CSIRT.\n\n<script>alert(1)</script>\n\n| Step | Who |\n|---|---|\n| Revoke access | IT desk |\n');
    await admin.page.waitForFunction(() => document.querySelector('#preview table') !== null);
    assert.equal(await admin.page.locator('#preview strong').textContent(), 'at once');
    assert.match(await admin.page.textContent('#preview'), /<script>alert\(1\)<\/script>/);
    assert.equal(await admin.page.locator('#preview script').count(), 0);
    await admin.page.screenshot({ path: `${SHOTS}policies-draft-en.png`, fullPage: true });
    await admin.page.click('form.form button[type=submit]');
    await admin.page.waitForURL(/\/versions\/1$/);
    await admin.page.click('button:has-text("Send for approval")');
    await admin.page.waitForSelector('.flash');
    assert.match(await admin.page.textContent('.badge[data-state="version:in_review"]'), /In review/);

    // The CISO is asked, approves from the version page.
    await signIn(ciso.page, server.base, 'ciso', PASSWORD);
    await ciso.page.goto(`${server.base}/`);
    await ciso.page.click('a.tile:has-text("あなたの承認待ちの版")');
    await ciso.page.click('#documents a:has-text("AZA-PRC-7")');
    await ciso.page.click('a:has-text("第 1 版: 承認待ち")');
    await ciso.page.click('button:has-text("承認")');
    await ciso.page.waitForSelector('.flash');
    assert.match(await ciso.page.textContent('#approvals'), /承認/);
    await ciso.page.screenshot({ path: `${SHOTS}policies-approved-ja.png`, fullPage: true });

    // The administrator publishes.
    await admin.page.reload();
    await admin.page.click('button:has-text("Publish")');
    await admin.page.waitForSelector('.flash');
    assert.match(await admin.page.textContent('main'), /Version 1 in force/);

    // An employee of the company is told and confirms reading.
    await signIn(emp.page, server.base, 'employee', PASSWORD);
    await emp.page.goto(`${server.base}/notifications`);
    const notice = emp.page.locator('#notifications tbody tr', { hasText: 'AZA-PRC-7' });
    assert.equal(await notice.count(), 1);
    assert.ok(await emp.page.locator('.userbox .count').count() > 0);
    await notice.locator('a').first().click();
    await emp.page.waitForURL(/\/policies\/[0-9a-f-]+$/);
    assert.equal(await emp.page.locator('#versions').count(), 0, 'an employee sees only the version in force');
    await emp.page.click('#acknowledge button');
    await emp.page.waitForSelector('#acknowledged');
    await emp.page.screenshot({ path: `${SHOTS}policies-acknowledged-ja.png`, fullPage: true });

    // Progress by department, for the administrator.
    await admin.page.reload();
    assert.match(await admin.page.textContent('#progress'), /1 \/ \d+/);
    await admin.page.screenshot({ path: `${SHOTS}policies-progress-en.png`, fullPage: true });

    // The public page: no sign-in, both languages, printable.
    await anon.page.goto(`${server.base}/public/policies`);
    assert.match(await anon.page.textContent('#public-documents'), /情報セキュリティ基本方針/);
    assert.match(await anon.page.textContent('#public-documents'), /Lost laptop procedure/);
    await anon.page.screenshot({ path: `${SHOTS}public-policies-ja.png`, fullPage: true });
    await anon.page.click('a:has-text("情報セキュリティ基本方針")');
    assert.match(await anon.page.textContent('main h1'), /情報セキュリティ基本方針/);
    assert.equal(await anon.page.locator('#document h1').count(), 0, 'the title is shown once');
    assert.equal(await anon.page.getAttribute('#translation-link', 'lang'), 'en');
    await anon.page.click('#translation-link');
    assert.match(await anon.page.textContent('main h1'), /Basic Information Security Policy/);
    assert.equal(await anon.page.textContent('#translation-link'), '日本語版');
    await anon.page.goto(`${server.base}/public/policies/AZA-PRC-7`);
    assert.equal(await anon.page.locator('#document script').count(), 0);
    await anon.page.emulateMedia({ media: 'print' });
    await anon.page.screenshot({ path: `${SHOTS}public-policy-print.png`, fullPage: true });
    assert.equal(await anon.page.locator('header.topbar').isVisible(), false);

    // Two versions of the Handbook side by side.
    await ciso.page.goto(`${server.base}/policies?search=HBK`);
    await ciso.page.click('#documents a:has-text("HBK-001")');
    await ciso.page.click('a:has-text("版を比較")');
    assert.ok(await ciso.page.locator('#diff ins').count() > 0);
    await ciso.page.screenshot({ path: `${SHOTS}policies-compare-ja.png`, fullPage: true });
    for (const p of [admin, ciso, emp, anon]) assert.deepEqual(p.problems, []);
  } finally {
    for (const p of [admin, ciso, emp, anon]) await p.browser.close();
    await server.stop();
  }
});
