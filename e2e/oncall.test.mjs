// On call in a real browser: a CSIRT member finds the demo rotation and who is on call,
// plans a cover for the next shift, makes a rotation for one company (first refused with
// the field named), sees on an alert who was paged and when it escalates, and an auditor
// reads the rotations in Japanese without the forms that change them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launch, signIn, SHOTS } from './helpers.mjs';

const PASSWORD = 'demo-password-2026';

test('on call: rotations, covers, pages on an alert', async () => {
  const server = await startServer({ demo: true });
  const csirt = await launch('en-GB');
  const auditor = await launch('ja-JP');
  try {
    await signIn(csirt.page, server.base, 'csirt', PASSWORD);
    const p = csirt.page;

    // From the alert queue to the rotations: the demo's group SOC, the CSIRT member on call.
    await p.goto(`${server.base}/monitoring`);
    await p.click('a[href="/monitoring/oncall"]');
    await p.waitForSelector('#rotations');
    const row = await p.locator('#rotations tr', { hasText: 'Group SOC' }).textContent();
    assert.match(row, /Sample csirt/);
    assert.match(row, /Every company/);

    // The rotation: weekly turns, the demo's high and critical alerts paged.
    await p.click('#rotations a:has-text("Group SOC")');
    await p.waitForSelector('#shifts');
    const shifts = await p.locator('#shifts tbody tr').allTextContents();
    assert.equal(shifts.length, 8);
    assert.match(shifts[0], /Sample csirt/);
    assert.match(shifts[1], /Sample ciso/);
    assert.match(await p.locator('#pages').textContent(), /Shadow copies deleted/);
    assert.doesNotMatch(await p.locator('#pages').textContent(), /Account discovery/, 'a medium alert pages nobody here');

    // A cover for the next shift: the CISO's week goes to the CSIRT member.
    await p.selectOption('#cover-user', { label: 'Sample csirt' });
    await p.fill('#cover-reason', 'Swap: the CISO is at the ISAC meeting');
    await p.click('#cover-add');
    await p.waitForSelector('#covers tbody tr:has-text("Swap")');
    assert.match(await p.locator('#shifts tbody tr').nth(1).textContent(), /Sample csirt.*covering/s);
    await p.screenshot({ path: `${SHOTS}oncall-rotation-en.png`, fullPage: true });

    // A rotation for one company: without a name it is refused, the field named.
    await p.goto(`${server.base}/monitoring/oncall`);
    const aza = await p.$eval('#company_id', (s) => [...s.options].find((o) => o.text.startsWith('AZA')).value);
    await p.selectOption('#company_id', aza);
    await p.selectOption('#min_severity', 'medium');
    await p.fill('#shift_hours', '24');
    await p.locator('select[name="member"]').nth(0).selectOption({ label: 'Sample secadmin' });
    await p.locator('select[name="member"]').nth(1).selectOption({ label: 'Sample csirt' });
    await p.selectOption('#lead_user_id', { label: 'Sample ciso' });
    await p.click('#rotation-create');
    await p.waitForSelector('#name[aria-invalid="true"], .field-error');
    assert.match(await p.locator('main').textContent(), /required/i);
    assert.equal(await p.locator('select[name="member"]').nth(1).inputValue() !== '', true, 'the members chosen stay chosen');
    await p.fill('#name', 'AZA day desk');
    await p.click('#rotation-create');
    await p.waitForSelector('#on-call-now');
    assert.match(await p.locator('#on-call-now').textContent(), /Sample secadmin|Sample csirt/);
    assert.match(await p.locator('#on-call-now').textContent(), /Medium/);

    // An alert shows who was paged for it and when it escalates.
    await p.goto(`${server.base}/monitoring`);
    await p.click('a:has-text("Shadow copies deleted")');
    await p.waitForSelector('#paging');
    const paging = await p.locator('#paging').textContent();
    assert.match(paging, /Sample csirt/);
    assert.match(paging, /on call/);
    assert.match(paging, /Escalates at/);
    await p.screenshot({ path: `${SHOTS}alert-paging-en.png`, fullPage: true });

    // Raw events: the demo workstations keep theirs, so an event that raised no alert
    // is found too.
    await p.goto(`${server.base}/monitoring/events`);
    await p.click('#tab-raw-events');
    await p.waitForSelector('#events');
    await p.fill('#q', 'notepad');
    await p.click('#event-search button');
    await p.waitForSelector('#events tbody tr:has-text("AZA-WS-0142")');
    assert.equal(await p.locator('#events tbody tr').count(), 1);
    assert.match(await p.locator('#events tbody tr').textContent(), /AZA workstations/);
    await p.screenshot({ path: `${SHOTS}raw-events-en.png`, fullPage: true });

    // The auditor reads the rotations in Japanese, without forms.
    await signIn(auditor.page, server.base, 'auditor', PASSWORD);
    const a = auditor.page;
    await a.goto(`${server.base}/monitoring/oncall`);
    await a.waitForSelector('#rotations');
    assert.match(await a.locator('h1').textContent(), /当番/);
    assert.equal(await a.locator('#rotation-form').count(), 0);
    await a.click('#rotations a:has-text("Group SOC")');
    await a.waitForSelector('#shifts');
    assert.equal(await a.locator('#cover-form').count(), 0);
    assert.match(await a.locator('#covers').textContent(), /Swap/);
    await a.screenshot({ path: `${SHOTS}oncall-rotation-ja.png`, fullPage: true });
  } finally {
    await csirt.browser.close();
    await auditor.browser.close();
    await server.stop();
  }
});
