// Threat intelligence in a real browser: a CSIRT member finds the demo ISAC feed and the
// sighting it raised, pastes defanged indicators into it and reads the import report,
// adds a TAXII feed whose server cannot be reached and sees the failure on the feed page,
// and an auditor reads the feeds in Japanese without the forms that change them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launch, signIn, SHOTS } from './helpers.mjs';

const PASSWORD = 'demo-password-2026';

test('threat intelligence: feeds, sightings, pasted indicators, a failing TAXII feed', async () => {
  const server = await startServer({ demo: true });
  const csirt = await launch('en-GB');
  const auditor = await launch('ja-JP');
  try {
    await signIn(csirt.page, server.base, 'csirt', PASSWORD);
    const p = csirt.page;

    // From the alert queue to the feeds: the demo feed and the address it caught.
    await p.goto(`${server.base}/monitoring`);
    await p.click('a[href="/monitoring/intel"]');
    await p.waitForSelector('#feeds');
    assert.match(await p.locator('#feeds').textContent(), /Aviation ISAC sample bundle/);
    const sighting = await p.locator('#sightings tr', { hasText: '203.0.113.66' }).textContent();
    assert.match(sighting, /TLP:GREEN/);
    await p.screenshot({ path: `${SHOTS}intel-feeds-en.png`, fullPage: true });

    // The alert it raised: the address is sinkholed, so the analyst suppresses the group.
    await p.click('#sightings tr:has-text("203.0.113.66") a:has-text("Open the alert")');
    await p.waitForSelector('#suppress-form');
    await p.fill('#suppress-reason', 'Sinkholed by the ISP; blocked at the proxy');
    await p.click('#alert-suppress');
    await p.waitForSelector('#suppression .badge');
    assert.match(await p.locator('#suppression').textContent(), /Suppressed until .*Sinkholed by the ISP/s);
    assert.match(await p.locator('main').textContent(), /Benign/);
    await p.screenshot({ path: `${SHOTS}alert-suppressed-en.png`, fullPage: true });

    // The event behind it, found by the address among the events that raised alerts.
    await p.goto(`${server.base}/monitoring/events?q=203.0.113.66`);
    await p.waitForSelector('#events');
    assert.equal(await p.locator('#events tbody tr').count(), 1);
    assert.match(await p.locator('#events tbody tr').textContent(), /AZA-WS-0217/);
    await p.click('#events summary');
    await p.screenshot({ path: `${SHOTS}alert-events-en.png`, fullPage: true });
    await p.goto(`${server.base}/monitoring/intel`);

    // Pasted, defanged indicators: two recognised, one line refused with its number.
    await p.click('#feeds a:has-text("Aviation ISAC sample bundle")');
    await p.waitForSelector('#indicators');
    assert.equal(await p.locator('#indicators tbody tr').count(), 3);
    await p.fill('#text', 'hxxp://evil[.]example/payload\n198.51.100[.]23\nplease block these\n');
    await p.click('#feed-import-go');
    await p.waitForSelector('#import-report');
    assert.match(await p.locator('#import-report').textContent(), /2 added.*1 refused/s);
    assert.match(await p.locator('#import-refused').textContent(), /line 3/);
    assert.equal(await p.locator('#indicators tbody tr').count(), 5);
    await p.screenshot({ path: `${SHOTS}intel-import-en.png`, fullPage: true });

    // A TAXII feed whose server is not there: the pull fails and the page says why.
    await p.goto(`${server.base}/monitoring/intel`);
    await p.fill('#name', 'JP transport ISAC');
    await p.selectOption('#format', 'taxii');
    await p.fill('#url', 'http://127.0.0.1:9/taxii2/');
    await p.selectOption('#auth', 'basic');
    await p.fill('#username', 'aozora');
    await p.fill('#secret', 'not-shown-again');
    await p.click('#feed-create');
    await p.waitForSelector('#feed-pull');
    await p.click('#feed-pull');
    await p.waitForSelector('#feed-error');
    assert.match(await p.locator('#feed-error').textContent(), /could not be reached/);
    assert.equal(await p.locator('#secret').inputValue(), '', 'the secret is never sent back');
    await p.screenshot({ path: `${SHOTS}intel-feed-failing-en.png`, fullPage: true });

    // The auditor reads, in Japanese, and changes nothing.
    await signIn(auditor.page, server.base, 'auditor', PASSWORD);
    const a = auditor.page;
    await a.goto(`${server.base}/monitoring/intel`);
    await a.waitForSelector('#feeds');
    assert.match(await a.locator('h1').textContent(), /脅威インテリジェンス/);
    assert.equal(await a.locator('#feed-form').count(), 0);
    assert.equal(await a.locator('#sightings-export').count(), 0);
    await a.screenshot({ path: `${SHOTS}intel-feeds-ja.png`, fullPage: true });
  } finally {
    await csirt.browser.close();
    await auditor.browser.close();
    await server.stop();
  }
});
