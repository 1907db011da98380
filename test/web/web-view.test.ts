// The web view in a real browser (headless Chromium driven by playwright-core) against the
// real service: the auditor signs in and reads the credit tree of a receivable split down
// to tier 3 with one piece sold and one pledged (every tier drawn, the sums shown, verify
// run from the page); the financier sees the open market; a holder splits through the
// form; a refused split shows the API's message. Screenshots go to a temporary folder, or
// to docs/screenshots/ (the README's pictures) with TIERLINE_SCREENSHOTS=docs/screenshots,
// so that a test run leaves the checkout as it found it.
import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { expect } from "chai";
import type { Browser, Page } from "playwright-core";
import { build } from "vite";
import { ApiClient } from "../server/client.js";
import { startTestService, type TestService } from "../server/harness.js";
import { registeredReceivable } from "../server/repayment-scenario.js";
import { createTestParty } from "../server/scenario.js";
import { launchBrowser } from "./browser.js";
import { buildCreditTreeWorld, type CreditTreeWorld } from "./credit-tree-scenario.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const SCREENSHOTS = process.env.TIERLINE_SCREENSHOTS
  ? path.resolve(ROOT, process.env.TIERLINE_SCREENSHOTS)
  : mkdtempSync(path.join(tmpdir(), "tierline-screenshots-"));

describe("Web view in a browser", function () {
  this.timeout(240_000);
  let t: TestService;
  let api: ApiClient;
  let w: CreditTreeWorld;
  let browser: Browser;
  let page: Page;
  /** Console errors and CSP refusals seen on the page: there must be none. */
  let problems: string[];

  before(async function () {
    // The page under test is built from the sources of this checkout, as npm start does.
    await build({ configFile: path.join(ROOT, "web", "vite.config.ts"), logLevel: "warn" });
    mkdirSync(SCREENSHOTS, { recursive: true });
    t = await startTestService();
    api = new ApiClient(() => t.baseUrl);
    w = await buildCreditTreeWorld(t, api);
    browser = await launchBrowser();
  });
  after(async function () {
    await browser?.close();
    await t?.close();
  });

  beforeEach(async function () {
    problems = [];
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on("console", (m) => {
      // A refused request (401, 409) is logged by Chromium itself; that is the API answering.
      if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) problems.push(m.text());
    });
    page.on("pageerror", (e) => problems.push(e.message));
  });
  afterEach(async function () {
    await page.close();
    expect(problems, problems.join("\n")).to.deep.equal([]);
  });

  /** Signs in with the keyboard only: the key field has focus, Enter submits. */
  async function signIn(apiKey: string): Promise<void> {
    await page.goto(`${t.baseUrl}/`);
    const field = page.getByLabel("API key");
    await field.waitFor();
    expect(await field.evaluate((el) => el.matches(":focus"))).to.equal(true);
    await page.keyboard.type(apiKey);
    await page.keyboard.press("Enter");
    await page.locator("header .who-name").waitFor();
    expect(page.url()).to.not.include(apiKey);
    expect(await page.evaluate(() => sessionStorage.getItem("tierline.apiKey"))).to.equal(apiKey);
    expect(await page.evaluate(() => localStorage.length)).to.equal(0);
  }

  it("serves the page at / with a CSP that allows only its own scripts and styles", async function () {
    const response = await fetch(`${t.baseUrl}/`);
    expect(response.status).to.equal(200);
    const csp = response.headers.get("content-security-policy")!;
    expect(csp).to.include("script-src 'self'");
    expect(csp).to.include("style-src 'self'");
    expect(csp).to.include("connect-src 'self'");
    expect(csp).to.not.include("unsafe-inline");
    expect(csp).to.not.include("https:");
    const html = await response.text();
    const scripts = [...html.matchAll(/<script\b[^>]*>/g)].map((m) => m[0]);
    expect(scripts.length).to.be.greaterThan(0);
    for (const tag of scripts) expect(tag).to.match(/src="\/assets\/[^"]+\.js"/);
    expect(html).to.not.match(/<style\b/);
  });

  it("refuses a wrong API key with the API's message and keeps nothing", async function () {
    await page.goto(`${t.baseUrl}/`);
    await page.getByLabel("API key").fill("tl_not-a-real-key");
    await page.getByRole("button", { name: "Sign in" }).click();
    const alert = page.getByRole("alert");
    await alert.waitFor();
    expect(await alert.textContent()).to.include("UNAUTHENTICATED");
    expect(await page.evaluate(() => sessionStorage.length)).to.equal(0);
  });

  it("shows the auditor the whole credit tree, every tier, the sums, and verify's result", async function () {
    await signIn(w.parties.auditor.apiKey);
    await page.getByRole("heading", { name: "Audit" }).waitFor();
    await page.getByLabel(/Receivable id/).fill(w.receivable.id);
    await page.getByRole("button", { name: "Search" }).click();
    await page.locator(".graph canvas").first().waitFor();

    const graph = page.locator(".graph");
    expect(await graph.getAttribute("data-nodes")).to.equal("5");
    expect(await graph.getAttribute("data-tiers")).to.equal("1,2,3");
    const outline = page.getByTestId("outline");
    const items = await outline.locator("li").allTextContents();
    expect(items).to.have.length(5);
    const text = (await outline.innerText()).replace(/\s+/g, " ");
    expect(text).to.include("tier 1 · Acme Components · 100.00 tUSD");
    expect(text).to.include("tier 3 · Harbor Bank · 25.00 tUSD");
    expect(text).to.include("sold to Harbor Bank for 24.00");
    expect(text).to.include("pledged to Summit Factoring: lent 30.00, owed 34.00");
    expect(text).to.include("tier 1 · Acme Components · 40.00 tUSD");
    expect(text).to.include("offered for 38.00");

    const conservation = (await page.getByTestId("conservation").innerText()).replace(/\s+/g, " ");
    expect(conservation).to.include("Face value conserved down the tree");
    expect(conservation).to.include("Root 100.00 tUSD = sum of 3 leaves 100.00 tUSD");

    await page.getByRole("button", { name: "Verify against the chain" }).click();
    const verified = page.getByTestId("verify-result");
    await verified.getByText("The index matches the chain").waitFor();
    expect(await verified.innerText()).to.include("5 certificates, 3 financing requests");

    // A certificate chosen in the outline shows its transactions.
    await outline.locator(`button[data-certificate="${w.receivable.leaves.tier3}"]`).click();
    await page.getByRole("heading", { name: `Certificate #${w.receivable.leaves.tier3}` }).waitFor();
    expect(await page.locator(".node-details").innerText()).to.include("financing");

    await page.getByRole("button", { name: "Fit the whole tree" }).click();
    await page.screenshot({ path: path.join(SCREENSHOTS, "auditor-credit-tree.png"), fullPage: true });

    // At phone width the page reflows: nothing wider than the screen but the scrolling tables.
    await page.setViewportSize({ width: 390, height: 844 });
    expect(await page.evaluate("document.documentElement.scrollWidth")).to.be.at.most(390);
  });

  it("shows the auditor a party's exposure by tier, debtor and maturity", async function () {
    await signIn(w.parties.auditor.apiKey);
    await page.goto(`${t.baseUrl}/#/party/${w.parties.tier2.id}`);
    await page.getByRole("heading", { name: "Bolt Metals" }).waitFor();
    const owed = (await page.getByRole("region", { name: "Owed to this party" }).innerText()).replace(/\s+/g, " ");
    expect(owed).to.include("Total 35.00 tUSD — direct (tier 1) 0.00 tUSD, through deeper tiers 35.00 tUSD");
    expect(owed).to.include("Summit Factoring (34.00 tUSD)");
  });

  it("shows a debtor what it owes a page at a time, the next page a click away", async function () {
    // More receivables than the view's page (20) owed by one new debtor, sold by three new
    // suppliers (more than 10 from one supplier in a day is held for review as brushing).
    const operator = api.as(t.operatorKey);
    const suppliers = [];
    for (let i = 0; i < 3; i++) suppliers.push(await createTestParty(operator, ["supplier"]));
    const debtor = await createTestParty(operator, ["debtor"]);
    for (let i = 0; i < 21; i++) await registeredReceivable(api, suppliers[i % 3]!, debtor);
    const owes = (await api.as(w.parties.auditor.apiKey).get(`/v1/audit/parties/${debtor.id}/exposure`)).body.owes;
    expect(owes.count).to.equal(21);
    await signIn(debtor.apiKey);
    const table = page.getByRole("region", { name: "What I owe by due date" });
    await table.waitFor();
    expect(await table.locator("tbody tr").count()).to.equal(20);
    const more = page.getByRole("button", { name: /^Show more/ });
    expect(await more.innerText()).to.equal(`Show more (20 of ${owes.count} shown)`);
    await more.click();
    await page.getByRole("status").filter({ hasText: "more what i owe by due date" }).waitFor();
    expect(await table.locator("tbody tr").count()).to.equal(21);
    // The second page follows the first: no receivable twice.
    const rows = await table.locator("tbody tr").allInnerTexts();
    expect(new Set(rows).size).to.equal(rows.length);
    expect(await more.count()).to.equal(0); // the last page: no button
    expect(problems).to.deep.equal([]);
  });

  it("shows the financier the open market with the ask and the quote", async function () {
    await signIn(w.parties.buyer.apiKey);
    await page.getByRole("heading", { name: "Open market" }).waitFor();
    const market = page.locator("main table");
    const rows = await market.locator("tbody tr").allInnerTexts();
    expect(rows).to.have.length(1);
    expect(rows[0]).to.include("Northwind Mart");
    expect(rows[0]).to.include("40.00 tUSD");
    expect(rows[0]).to.include("38.00 tUSD");
    expect(rows[0]).to.match(/\d+\.\d{2,6} tUSD at \d+\.\d{2} %/);
    await page.screenshot({ path: path.join(SCREENSHOTS, "financier-market.png"), fullPage: true });
  });

  it("lets a holder split a certificate through the form", async function () {
    const fresh = await registeredReceivable(api, w.parties.tier1, w.parties.debtor);
    await signIn(w.parties.tier1.apiKey);
    await page.getByRole("heading", { name: "What I hold" }).waitFor();
    const form = page.getByRole("form", { name: "Split a certificate" });
    await form.getByLabel("Certificate").selectOption(fresh.rootId);
    const pieces = form.locator("fieldset");
    await pieces.nth(0).getByLabel("To party id").fill(w.parties.tier1.id);
    await pieces.nth(0).getByLabel("Amount (tUSD)").fill("40");
    await pieces.nth(1).getByLabel("To party id").fill(w.parties.tier2.id);
    await pieces.nth(1).getByLabel("Amount (tUSD)").fill("60.00");
    await form.getByRole("button", { name: "Split" }).click();
    const status = form.getByRole("status");
    await status.waitFor();
    expect(await status.innerText()).to.match(new RegExp(`^Split #${fresh.rootId} into `));

    const held = await api.as(w.parties.tier2.apiKey).get(`/v1/parties/${w.parties.tier2.id}/certificates`);
    const piece = held.body.certificates.find((c: { receivableId: string }) => c.receivableId === fresh.id);
    expect(piece).to.include({ faceValue: "60000000", tier: 2 });
    // The holdings table was refreshed: the root is gone, the kept piece is listed.
    const table = page.getByRole("region", { name: "Certificates I hold" });
    await table.getByText("40.00 tUSD").first().waitFor();
  });

  it("shows a refused action's error: splitting a pledged certificate", async function () {
    await signIn(w.parties.tier2.apiKey);
    await page.getByRole("heading", { name: "What I hold" }).waitFor();
    const form = page.getByRole("form", { name: "Split a certificate" });
    await form.getByLabel("Certificate").selectOption(w.receivable.leaves.tier2);
    const pieces = form.locator("fieldset");
    await pieces.nth(0).getByLabel("To party id").fill(w.parties.tier2.id);
    await pieces.nth(0).getByLabel("Amount (tUSD)").fill("20");
    await pieces.nth(1).getByLabel("To party id").fill(w.parties.tier3.id);
    await pieces.nth(1).getByLabel("Amount (tUSD)").fill("15");
    await form.getByRole("button", { name: "Split" }).click();
    const alert = form.getByRole("alert");
    await alert.waitFor();
    expect(await alert.innerText()).to.include("CERTIFICATE_LOCKED");
    const still = await api.as(w.parties.tier2.apiKey).get(`/v1/certificates/${w.receivable.leaves.tier2}`);
    expect(still.body.state).to.equal("locked");
  });
});
