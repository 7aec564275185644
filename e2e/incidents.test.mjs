// Incident response in a real browser: an employee reports a misdirected e-mail with one
// line; the CSIRT triages it, records the facts (customer data of 1,500 people), starts the
// playbook, sees the regulatory clocks start, files the preliminary report, moves the case through its steps
// — a skipped requirement is refused with the reason — and closes it after the review.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launch, signIn, totp, SHOTS } from './helpers.mjs';

const PASSWORD = 'demo-password-2026';

test('incidents: report, triage, playbook tasks, clocks, review, close', async () => {
  const server = await startServer({ demo: true });
  const emp = await launch('ja-JP');
  const csirt = await launch('en-GB');
  try {
    await signIn(emp.page, server.base, 'employee', PASSWORD);
    await emp.page.goto(`${server.base}/incidents/report`);
    await emp.page.fill('#title', 'お客さまリストを社外に誤送信した');
    await emp.page.check('input[name=customer_data]');
    await emp.page.screenshot({ path: `${SHOTS}incident-report-ja.png`, fullPage: true });
    await emp.page.click('form.form button[type=submit]');
    await emp.page.waitForURL(/\/incidents\/[0-9a-f-]+$/);
    assert.match(await emp.page.textContent('.flash'), /CSIRT/);
    const url = emp.page.url();

    const secret = await signIn(csirt.page, server.base, 'csirt', PASSWORD);
    await csirt.page.goto(`${server.base}/notifications`);
    await csirt.page.click('#notifications a:has-text("お客さまリストを社外に誤送信した")');
    await csirt.page.waitForURL(url);
    await csirt.page.click('#transitions button:has-text("Start triage")');
    await csirt.page.waitForSelector('.flash');
    // Containment before the triage decisions is refused with the reason.
    await csirt.page.click('#transitions button:has-text("Start containment")');
    await csirt.page.waitForSelector('.alert');
    assert.match(await csirt.page.textContent('.alert'), /severity/);

    await csirt.page.selectOption('#f-kind', 'data_leak');
    await csirt.page.selectOption('#impact', 'significant');
    await csirt.page.selectOption('#exposure', 'customer');
    await csirt.page.selectOption('#personal_data', 'yes');
    await csirt.page.fill('#people_affected', '1500');
    await csirt.page.fill('#data_categories', 'name, mileage number, e-mail');
    await csirt.page.click('#facts button[type=submit]');
    await csirt.page.waitForSelector('.flash');
    assert.match(await csirt.page.textContent('main'), /Critical/);
    const clocks = await csirt.page.textContent('#clocks');
    assert.match(clocks, /APPI reporting duty applies/);
    assert.match(clocks, /More than 1,000 people/);
    assert.match(clocks, /preliminary report/);
    // The playbook for a data leak: its tasks appear with their deadlines.
    assert.match(await csirt.page.textContent("#playbook_id"), /個人データの漏えい/);
    await csirt.page.click('#start-playbook button');
    await csirt.page.waitForSelector('.flash');
    assert.equal(await csirt.page.locator('#tasks tbody tr').count(), 5);
    await csirt.page.click('#tasks tbody tr:first-child button:has-text("Mark done")');
    await csirt.page.waitForSelector('.flash');
    assert.match(await csirt.page.textContent('#tasks tbody tr:first-child'), /Done/);
    await csirt.page.fill('#clocks input[name=note] >> nth=0', 'PPC online form, receipt 2026-0042');
    await csirt.page.click('#clocks button:has-text("Mark done") >> nth=0');
    await csirt.page.waitForSelector('.flash');
    assert.match(await csirt.page.textContent('#clocks'), /receipt 2026-0042/);
    await csirt.page.screenshot({ path: `${SHOTS}incident-clocks-en.png`, fullPage: true });

    for (const step of ['Start containment', 'Contained: eradicate', 'Eradicated: recover', 'Recovered: review']) {
      await csirt.page.click(`#transitions button:has-text("${step}")`);
      await csirt.page.waitForSelector('.flash');
    }
    await csirt.page.click('#transitions button:has-text("Close")');
    await csirt.page.waitForSelector('.alert');
    assert.match(await csirt.page.textContent('.alert'), /root cause/);
    await csirt.page.fill('#root_cause', 'Address autocomplete picked an outside recipient');
    await csirt.page.fill('#lessons', 'Confirm outside recipients before sending customer data');
    await csirt.page.fill('#actions_note', 'Outbound mail check for customer data (IT, by March)');
    await csirt.page.click('#facts button[type=submit]');
    await csirt.page.waitForSelector('.flash');
    // The case does not close while a reporting deadline runs or a task is open: the page
    // lists what is open, and the refusal says so.
    assert.ok(await csirt.page.isVisible('#open-duties'));
    const open = await csirt.page.locator('#open-duties li').count();
    assert.ok(open >= 5, `${open} open duties listed`);
    await csirt.page.click('#transitions button:has-text("Close")');
    await csirt.page.waitForSelector('.alert[role=alert]');
    assert.match(await csirt.page.textContent('.alert[role=alert]'), /still running/);
    assert.doesNotMatch(await csirt.page.textContent('main .badge[data-state^="incident-status"]'), /Closed/);
    await csirt.page.screenshot({ path: `${SHOTS}incident-close-refused-en.png`, fullPage: false });
    // The running clocks page lists the case's deadlines, soonest first.
    const caseUrl = csirt.page.url().replace(/\/transition$/, '');
    await csirt.page.goto(`${server.base}/incidents/clocks`);
    const dues = await csirt.page.locator('#running-clocks tbody tr').count();
    assert.ok(dues >= 1);
    await csirt.page.screenshot({ path: `${SHOTS}running-clocks-en.png`, fullPage: true });
    await csirt.page.goto(caseUrl);
    // A deadline that does not apply needs its reason; then each is settled.
    await csirt.page.locator('#clocks input[type=checkbox][name=not_applicable] >> nth=0').check();
    await csirt.page.click('#clocks button:has-text("Mark done") >> nth=0');
    await csirt.page.waitForSelector('.alert[role=alert]');
    assert.match(await csirt.page.textContent('.alert[role=alert]'), /does not apply/);
    while (await csirt.page.locator('#clocks button:has-text("Mark done")').count() > 0) {
      await csirt.page.fill('#clocks input[name=note] >> nth=0', 'Final report filed with the Commission, receipt 2026-0057');
      await csirt.page.click('#clocks button:has-text("Mark done") >> nth=0');
      await csirt.page.waitForSelector('.flash');
    }
    while (await csirt.page.locator('#tasks button:has-text("Cancel task")').count() > 0) {
      await csirt.page.fill('#tasks input[name=reason] >> nth=0', 'Not needed: the recipient deleted the mail and confirmed it in writing');
      await csirt.page.click('#tasks button:has-text("Cancel task") >> nth=0');
      await csirt.page.waitForSelector('.flash');
    }
    assert.match(await csirt.page.textContent('#tasks'), /Cancelled/);
    assert.equal(await csirt.page.isVisible('#open-duties'), false);
    await csirt.page.click('#transitions button:has-text("Close")');
    await csirt.page.waitForSelector('.flash');
    assert.match(await csirt.page.textContent('main .badge[data-state="incident-status:closed"]'), /Closed/);
    await csirt.page.screenshot({ path: `${SHOTS}incident-closed-en.png`, fullPage: true });

    // A note typed while the session runs out is not lost: sign in again and it is back.
    await csirt.page.fill('#note-text', 'Recipient confirmed deletion by phone at 16:10');
    await csirt.context.addCookies([{ name: 'isms_session', value: 'ran-out-long-ago-0123456789', url: server.base }]);
    await csirt.page.click('button:has-text("Add note")');
    await csirt.page.waitForURL(/\/login\?next=/);
    await csirt.page.fill('#username', 'csirt');
    await csirt.page.fill('#password', PASSWORD);
    await csirt.page.click('form.form button[type=submit]');
    await csirt.page.waitForURL(/\/login\/totp/);
    await csirt.page.fill('#code', totp(secret, 30));
    await csirt.page.click('form.form button[type=submit]');
    await csirt.page.waitForURL(url);
    assert.equal(await csirt.page.inputValue('#note-text'), 'Recipient confirmed deletion by phone at 16:10');
    assert.equal(await csirt.page.locator('form[data-keep] .restored-note:visible').count(), 1);
    await csirt.page.click('button:has-text("Add note")');
    await csirt.page.waitForSelector('.flash');
    assert.match(await csirt.page.textContent('#timeline'), /confirmed deletion by phone/);
    assert.equal(await csirt.page.inputValue('#note-text'), '');

    // The regulator report, drafted from the case in Japanese.
    await csirt.page.selectOption('#release-kind', 'regulator_report');
    await csirt.page.selectOption('#release-lang', 'ja');
    await csirt.page.click('#draft-release button');
    await csirt.page.waitForSelector('.flash');
    const report = await csirt.page.inputValue('#releases textarea');
    assert.match(report, /本人の数\n\n1500 名/);
    assert.match(report, /再発防止/);

    // The playbooks, the figures and the drill schedule.
    await csirt.page.goto(`${server.base}/incidents/playbooks`);
    assert.ok(await csirt.page.locator('#pb-PB-LEAK table tbody tr').count() >= 3);
    await csirt.page.screenshot({ path: `${SHOTS}incident-playbooks-en.png`, fullPage: true });
    await csirt.page.goto(`${server.base}/incidents/kpis`);
    assert.match(await csirt.page.textContent('#by-kind'), /Data leak/);
    await csirt.page.screenshot({ path: `${SHOTS}incident-kpis-en.png`, fullPage: true });
    await csirt.page.goto(`${server.base}/incidents/drills`);
    assert.equal(await csirt.page.locator('#drill-gaps').count(), 1);
    const nextWeek = new Date(Date.now() + 7 * 86400000).toISOString().slice(0, 10);
    await csirt.page.fill('#title', 'Ransomware on the check-in system');
    await csirt.page.fill('#planned_on', nextWeek);
    await csirt.page.click('form.form button[type=submit]');
    await csirt.page.waitForSelector('.flash');
    assert.match(await csirt.page.textContent('#drills'), /Ransomware on the check-in system/);
    await csirt.page.click('#drills button:has-text("Start the drill")');
    await csirt.page.waitForURL(/\/incidents\/[0-9a-f-]+$/);
    assert.match(await csirt.page.textContent('main'), /Drill/);
    await csirt.page.goto(`${server.base}/incidents/drills`);
    await csirt.page.screenshot({ path: `${SHOTS}incident-drills-en.png`, fullPage: true });

    // The reporter sees the outcome, in Japanese, without the CSIRT's working notes.
    await emp.page.reload();
    assert.match(await emp.page.textContent('main'), /完了/);
    assert.equal(await emp.page.locator('#facts').count(), 0);
    for (const p of [emp, csirt]) assert.deepEqual(p.problems, []);
  } finally {
    for (const p of [emp, csirt]) await p.browser.close();
    await server.stop();
  }
});
