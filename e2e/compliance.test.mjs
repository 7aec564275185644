// Compliance and risks in a real browser: the CISO imports a framework (a bad file first,
// refused with its line), adds a control with evidence, decides applicability in the
// Statement of Applicability, downloads its XLSX and PDF, and records a risk whose
// residual score needs a reason; an auditor reads the SoA, the risk register and its
// heat maps in Japanese and can change nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { startServer, launch, signIn, SHOTS } from './helpers.mjs';

const PASSWORD = 'demo-password-2026';

const BAD_YAML = `code: mlit-aviation
name: MLIT aviation security guideline (group summary)
requirements:
  - ref: "1"
    title: Governance
  - ref: 1.10
    parent: "1"
    title: Board oversight
`;

const GOOD_YAML = `code: mlit-aviation
name: MLIT aviation security guideline (group summary)
version: "2024"
publisher: Group CISO office
requirements:
  - {ref: "1", title: "Governance", title_ja: "統治"}
  - {ref: "1.1", parent: "1", title: "Executives own cyber risk of flight operations", title_ja: "経営層が運航のサイバーリスクに責任を持つ"}
  - {ref: "1.2", parent: "1", title: "Incidents reported to the ministry without delay", title_ja: "インシデントを遅滞なく国に報告する"}
`;

test('compliance: import a framework, controls and evidence, the SoA and its exports, risks and heat maps', async () => {
  const server = await startServer({ demo: true });
  const ciso = await launch('en-GB');
  const auditor = await launch('ja-JP');
  try {
    await signIn(ciso.page, server.base, 'ciso', PASSWORD);
    const p = ciso.page;

    // The shipped frameworks.
    await p.goto(`${server.base}/frameworks`);
    const iso = p.locator('#frameworks tr', { hasText: 'ISO/IEC 27001:2022' });
    assert.match(await iso.textContent(), /123/); // 30 clause requirements and 93 Annex A controls
    assert.match(await p.locator('#frameworks tr', { hasText: 'NIST Cybersecurity Framework 2.0' }).textContent(), /106/);

    // A bad file is refused with its line; nothing is imported.
    await p.setInputFiles('#file', { name: 'mlit.yaml', mimeType: 'application/yaml', buffer: Buffer.from(BAD_YAML) });
    await p.click('#framework-import button[type=submit]');
    await p.waitForSelector('#import-errors');
    const err = await p.textContent('#import-errors');
    assert.match(err, /6/);
    assert.match(err, /quotes/);
    assert.doesNotMatch(await p.textContent('#frameworks'), /MLIT/);
    await p.screenshot({ path: `${SHOTS}frameworks-import-error-en.png`, fullPage: true });

    await p.setInputFiles('#file', { name: 'mlit.yaml', mimeType: 'application/yaml', buffer: Buffer.from(GOOD_YAML) });
    await p.click('#framework-import button[type=submit]');
    await p.waitForURL(/\/frameworks\/[0-9a-f-]+$/);
    assert.match(await p.textContent('#requirements'), /Incidents reported to the ministry/);

    // A control for one of its requirements, with a link as evidence.
    await p.click('#requirements a:has-text("1.2")');
    await p.click('a:has-text("New control")');
    await p.fill('#code', 'CTL-090');
    await p.fill('#title', 'Report aviation incidents to the ministry within a day');
    await p.fill('#owner_id', 'E00002');
    await p.selectOption('#status', 'implemented');
    await p.click('#control-form button[type=submit]');
    await p.waitForURL(/\/controls\/[0-9a-f-]+$/);
    assert.match(await p.textContent('#control-requirements'), /mlit-aviation/);
    await p.fill('#evidence-title', 'Reporting drill record');
    await p.fill('#url', 'https://intranet.example/drills/ministry-report');
    await p.click('#evidence-form button[type=submit]');
    await p.waitForSelector('.flash');
    assert.match(await p.textContent('#evidence'), /Reporting drill record/);
    assert.match(await p.textContent('main'), /proven/);
    await p.screenshot({ path: `${SHOTS}control-en.png`, fullPage: true });

    // The basic policy implements a control: its published version becomes the control's evidence.
    await p.goto(`${server.base}/policies?search=POL-001`);
    await p.click('#documents a:has-text("Basic Information Security Policy")');
    await p.click('a:has-text("Edit")');
    await p.selectOption('#control_ids', { label: 'CTL-004 取扱区分による顧客情報の分離' });
    await p.click('form.form button[type=submit]');
    await p.waitForSelector('#document-controls');
    await p.click('#document-controls a:has-text("CTL-004")');
    assert.match(await p.textContent('#evidence'), /Published document/);
    assert.match(await p.textContent('#evidence'), /POL-001/);

    // Nothing is overdue in the demo group: the findings list is empty.
    await p.goto(`${server.base}/findings`);
    assert.match(await p.textContent('#review-findings'), /Nothing matches/);
    await p.click('#findings-check');
    await p.waitForSelector('.flash');

    // Its SoA: the requirement is met; the other is a gap.
    await p.goto(`${server.base}/soa?framework=mlit-aviation&scope=group`);
    const met = p.locator('#soa tr[data-ref="1.2"]');
    assert.match(await met.textContent(), /Met/);
    assert.match(await p.textContent('#assessment-summary'), /50\.0% met/);

    // ISO 27001 for the group: exclusion needs its reason.
    await p.goto(`${server.base}/soa?framework=iso27001-2022&scope=group`);
    const row = p.locator('#soa tr[data-ref="A.7.12"]');
    // Undecided: the select chooses nothing for the reader.
    assert.equal(await row.locator('select[name=applicable]').inputValue(), '');
    assert.match(await row.textContent(), /not yet decided/);
    await row.locator('select[name=applicable]').selectOption('no');
    await row.locator('button').click();
    await p.waitForLoadState();
    // The refusal is in the row, the choice kept, the reader still at the row.
    const refused = p.locator('#soa tr[data-ref="A.7.12"]');
    assert.match(await refused.locator('.field-error').textContent(), /say why the requirement does not apply/i);
    assert.equal(await refused.locator('select[name=applicable]').inputValue(), 'no');
    assert.ok(p.url().endsWith('#r-' + (await refused.getAttribute('id')).slice(2)), p.url());
    assert.equal(await p.locator('.error-card').count(), 0, 'no error page');
    const row2 = refused;
    await row2.locator('input[name=justification]').fill('No cabling of our own: all premises are leased with managed cabling');
    await row2.locator('button').click();
    await p.waitForSelector('.flash');
    assert.match(await p.locator('#soa tr[data-ref="A.7.12"]').textContent(), /Excluded/);
    assert.match(await p.locator('#soa tr[data-ref="A.8.5"]').textContent(), /CTL-002/);
    await p.screenshot({ path: `${SHOTS}soa-en.png`, fullPage: false });

    // The exports, made by the binary.
    const pdf = await p.request.get(`${server.base}/soa/export.pdf?framework=iso27001-2022&scope=group`);
    assert.equal(pdf.status(), 200);
    assert.equal(pdf.headers()['content-type'], 'application/pdf');
    const pdfBody = await pdf.body();
    assert.equal(pdfBody.subarray(0, 5).toString(), '%PDF-');
    writeFileSync(`${SHOTS}soa-en.pdf`, pdfBody);
    const xlsx = await p.request.get(`${server.base}/soa/export.xlsx?framework=iso27001-2022&scope=group`);
    assert.equal(xlsx.status(), 200);
    assert.equal((await xlsx.body()).subarray(0, 2).toString(), 'PK');

    // A risk whose residual score is above the inherent one needs a reason.
    await p.goto(`${server.base}/risks/new`);
    await p.fill('#title', 'Ground handling vendor loses passenger manifests');
    await p.selectOption('#company_id', { label: 'Aozora Airlines' });
    await p.fill('#owner_id', 'E00002');
    await p.fill('#threat', 'Vendor staff take printed manifests off site');
    await p.selectOption('#inherent_likelihood', '2');
    await p.selectOption('#inherent_impact', '3');
    await p.selectOption('#residual_likelihood', '3');
    await p.selectOption('#residual_impact', '3');
    await p.click('#risk-form button[type=submit]');
    await p.waitForLoadState();
    assert.match(await p.textContent('main'), /say why/);
    await p.fill('#residual_reason', 'The new vendor contract starts before its audit');
    await p.click('#risk-form button[type=submit]');
    await p.waitForURL(/\/risks\/[0-9a-f-]+$/);
    assert.match(await p.textContent('#residual'), /9 = 3 × 3/);
    await p.goto(`${server.base}/risks`);
    // The heat maps: every cell coloured and named by the matrix's band, never colour
    // alone, and a link to the risks it counts.
    assert.equal(await p.locator('#heat-inherent td a').count(), 25);
    const cell = p.locator('#heat-residual td.rating-medium:not(.empty) a').first();
    assert.match(await cell.textContent(), /Medium/);
    assert.match(await cell.getAttribute('title'), /Likelihood .* × impact .*: Medium, \d+ risks/);
    assert.equal(await p.locator('#heat-residual td.rating-critical').first().locator('.band').textContent(), 'Critical');
    const counted = Number(await cell.locator('.n').textContent());
    await cell.click();
    await p.waitForURL(/basis=residual&likelihood=\d&impact=\d/);
    assert.equal(await p.locator('#risks tbody tr').count(), counted);
    assert.match(await p.textContent('#heat-filter'), /residual likelihood/);
    assert.equal(await p.locator('#heat-residual td.chosen').count(), 1);
    await p.screenshot({ path: `${SHOTS}risks-en.png`, fullPage: true });
    await p.click('#heat-filter a');
    await p.waitForURL(`${server.base}/risks`);
    assert.deepEqual(ciso.problems, []);

    // The auditor reads everything in Japanese and may change nothing.
    await signIn(auditor.page, server.base, 'auditor', PASSWORD);
    const a = auditor.page;
    await a.goto(`${server.base}/soa?framework=iso27001-2022&scope=group`);
    assert.match(await a.textContent('h1'), /適用宣言書/);
    assert.equal(await a.locator('form.decide').count(), 0);
    assert.match(await a.locator('#soa tr[data-ref="A.7.12"]').textContent(), /適用除外/);
    await a.screenshot({ path: `${SHOTS}soa-ja.png`, fullPage: false });
    const pdfJa = await a.request.get(`${server.base}/soa/export.pdf?framework=iso27001-2022&scope=group`);
    assert.equal(pdfJa.status(), 200);
    writeFileSync(`${SHOTS}soa-ja.pdf`, await pdfJa.body());
    await a.goto(`${server.base}/risks`);
    assert.match(await a.textContent('#heat-residual figcaption'), /残留リスク/);
    assert.match(await a.textContent('#heat-inherent'), /重大/); // the impact axis speaks Japanese
    assert.match(await a.locator('#heat-inherent td a').first().getAttribute('title'), /発生可能性「.+」× 影響度「.+」/);
    await a.setViewportSize({ width: 390, height: 844 });
    assert.ok(await a.evaluate(() => document.documentElement.scrollWidth <= 390), 'the heat maps fit a phone');
    await a.screenshot({ path: `${SHOTS}risks-ja-390.png`, fullPage: true });
    await a.setViewportSize({ width: 1280, height: 860 });
    assert.equal(await a.locator('a:has-text("リスクの登録")').count(), 0);
    await a.screenshot({ path: `${SHOTS}risks-ja.png`, fullPage: true });
    await a.goto(`${server.base}/risks/matrix`);
    assert.equal(await a.locator('#matrix-form input[name="likelihood.1.label"]').count(), 0);
    await a.screenshot({ path: `${SHOTS}risk-matrix-ja.png`, fullPage: true });
    assert.deepEqual(auditor.problems, []);
  } finally {
    await ciso.browser.close();
    await auditor.browser.close();
    await server.stop();
  }
});
