// An address change in the draft view: the reviewer sees the address on file and the one
// the customer asked for, side by side, as text (the customer's markup in it is inert).
// Prints one JSON line; exits non-zero on any failure.
//
// Env: BASE_URL, TOKEN, DRAFT_ID, FROM, TO (one-line forms), SCREENSHOT_DIR, CHROMIUM.
import { env, launch, signIn } from "./browser.mjs";

const base = env("BASE_URL");
const shots = env("SCREENSHOT_DIR");
const draftId = env("DRAFT_ID");

const browser = await launch();
const failures = [];
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.on("pageerror", (error) => failures.push(`page error: ${error.message}`));
  page.setDefaultTimeout(15000);
  await signIn(page, base, env("TOKEN"));
  await page.goto(`${base}/#/drafts/${draftId}`);
  await page.waitForSelector("#d-actions .address-diff");
  const from = await page.textContent("#d-actions .address-diff .from");
  const to = await page.textContent("#d-actions .address-diff .to");
  if (from !== `From: ${env("FROM")}`) failures.push(`the address on file reads ${JSON.stringify(from)}`);
  if (to !== `To: ${env("TO")}`) failures.push(`the new address reads ${JSON.stringify(to)}`);
  const injected = await page.evaluate(() => ({
    ran: window.__xss !== undefined,
    elements: document.querySelectorAll("#d-actions b, #d-actions img").length,
  }));
  if (injected.ran || injected.elements) failures.push(`markup in the address became live: ${JSON.stringify(injected)}`);
  await page.screenshot({ path: `${shots}/address-diff.png`, fullPage: true });
  console.log(JSON.stringify({ from, to, failures }));
} catch (error) {
  failures.push(String(error && error.stack || error));
  console.log(JSON.stringify({ failures }));
} finally {
  await browser.close();
}
process.exit(failures.length ? 1 : 0);
