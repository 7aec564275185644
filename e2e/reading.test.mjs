// Reading the product as the walk-through found it: the menu folds on a phone, the
// dashboard's clock count agrees with the clocks page, the drill tile counts only this
// half, a case's parts are one tap away, a request in the inbox ends when it is done,
// and an auditor reads incidents and the audit trail in Japanese on a phone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launch, signIn, SHOTS } from './helpers.mjs';

const PASSWORD = 'demo-password-2026';

test('reading: menu, dashboard tiles, the case page, requests that end, the auditor on a phone', async () => {
  const server = await startServer({ demo: true });
  const csirt = await launch('ja-JP');
  const committee = await launch('ja-JP');
  const auditor = await launch('ja-JP');
  const employee = await launch('ja-JP');
  try {
    const p = csirt.page;
    await signIn(p, server.base, 'csirt', PASSWORD);

    // The dashboard: the running clocks tile agrees with the page it leads to; the drill
    // tile names this half and counts nothing for the next.
    await p.goto(`${server.base}/`);
    const clocksTile = p.locator('a.tile[href="/incidents/clocks"]');
    const counted = Number(await clocksTile.locator('.tile-value').textContent());
    assert.ok(counted >= 3, `running clocks: ${counted}`);
    // The demo plans no drill, so this half is missing one.
    const drill = p.locator('a.tile[href="/incidents/drills"]');
    assert.equal(await drill.locator('.tile-value').textContent(), '0');
    assert.match(await drill.locator('.tile-label').textContent(), /今期（\d{4}年度[上下]期）/);
    assert.match(await drill.locator('.tile-note').textContent(), /次の \d{4}年度[上下]期 の訓練も未計画です/);
    assert.ok((await drill.locator('.tile-value').boundingBox()).height < 60, 'a number, not a sentence, in the big font');
    await clocksTile.click();
    await p.waitForURL(/\/incidents\/clocks$/);
    assert.equal(await p.locator('main tbody tr').count(), counted);

    // The case whose clocks run: its parts in a menu that stays in view.
    await p.click('main a:has-text("INC-") >> nth=0');
    await p.waitForURL(/\/incidents\/[0-9a-f-]{36}/);
    const nav = p.locator('nav.section-nav');
    assert.match(await nav.textContent(), /法令上の報告期限\s*3/);
    for (const href of await nav.locator('a').evaluateAll((as) => as.map((a) => a.getAttribute('href')))) {
      assert.equal(await p.locator(href).count(), 1, `the menu's ${href} leads somewhere`);
    }
    await nav.locator('a[href="#sec-timeline"]').click();
    assert.ok(await nav.isVisible(), 'the menu stays in view');
    await p.screenshot({ path: `${SHOTS}case-sections-ja.png` });

    // On a phone the main menu folds behind its button and nothing scrolls sideways.
    await p.setViewportSize({ width: 390, height: 844 });
    await p.reload();
    assert.equal(await p.locator('#mainnav').isVisible(), false);
    assert.ok((await p.locator('header.topbar').boundingBox()).height < 80, 'the header is one line');
    await p.click('.menu-toggle');
    assert.equal(await p.getAttribute('.menu-toggle', 'aria-expanded'), 'true');
    assert.ok(await p.locator('#mainnav a:has-text("インシデント")').isVisible());
    await p.screenshot({ path: `${SHOTS}menu-open-ja-390.png` });
    assert.ok(await p.evaluate(() => document.documentElement.scrollWidth <= 390));
    assert.deepEqual(csirt.problems, []);

    // A request to approve ends when it is answered: the inbox shows it done.
    const c = committee.page;
    await signIn(c, server.base, 'committee', PASSWORD);
    await c.goto(`${server.base}/notifications`);
    const ask = c.locator('#notifications tbody tr', { hasText: /HBK-001 第 2 版.*承認をお願いします/ });
    assert.equal(await ask.count(), 1);
    assert.match(await ask.textContent(), /未読/);
    // The first version's request was answered when the demo approved it.
    assert.match(await c.locator('#notifications tbody tr', { hasText: /HBK-001 第 1 版.*承認をお願いします/ }).textContent(), /対応済み/);
    await ask.locator('a').first().click();
    await c.waitForURL(/\/policies\/[0-9a-f-]+\/versions\/2$/);
    await c.click('button[value=approve]');
    await c.waitForSelector('.flash');
    await c.goto(`${server.base}/notifications`);
    assert.match(await ask.textContent(), /対応済み/);
    assert.doesNotMatch(await ask.textContent(), /未読/);
    await c.screenshot({ path: `${SHOTS}notifications-done-ja.png`, fullPage: true });
    assert.deepEqual(committee.problems, []);

    // The auditor: the incidents menu leads to the cases; the audit trail in words on a phone.
    const a = auditor.page;
    await signIn(a, server.base, 'auditor', PASSWORD);
    await a.click('#mainnav a:has-text("インシデント")');
    await a.waitForURL(/\/incidents$/);
    assert.ok(await a.locator('main a:has-text("INC-")').count() >= 1, 'an auditor reads the cases');
    await a.setViewportSize({ width: 390, height: 844 });
    await a.goto(`${server.base}/audit`);
    assert.match(await a.textContent('#audit-table'), /システム（自動処理）|Sample/);
    assert.doesNotMatch(await a.textContent('#audit-table thead'), /entity|record/);
    assert.ok(await a.evaluate(() => document.documentElement.scrollWidth <= 390), 'the table scrolls inside itself');
    await a.screenshot({ path: `${SHOTS}audit-ja-390.png` });
    assert.deepEqual(auditor.problems, []);

    // An employee's own report names their company.
    const e = employee.page;
    await signIn(e, server.base, 'employee', PASSWORD);
    await e.goto(`${server.base}/incidents`);
    await e.click('main a:has-text("マイレージ口座の確認")');
    await e.waitForURL(/\/incidents\/[0-9a-f-]{36}/);
    assert.match(await e.locator('#summary dl.props').textContent(), /会社\s*AZA/);
    assert.deepEqual(employee.problems, []);
  } finally {
    await csirt.browser.close();
    await committee.browser.close();
    await auditor.browser.close();
    await employee.browser.close();
    await server.stop();
  }
});
