// Stored XSS: a draft whose email carries markup and script in its subject, body, sender
// and customer name is opened in the queue and in the draft view; every payload must show
// as text and none may run or become an element. Prints one JSON line; exits non-zero on
// any failure.
//
// Env: BASE_URL, TOKEN, DRAFT_ID, SCREENSHOT_DIR, CHROMIUM (default /usr/bin/chromium).
import { env, launch, signIn } from "./browser.mjs";

const base = env("BASE_URL");
const shots = env("SCREENSHOT_DIR");
const draftId = env("DRAFT_ID");

const browser = await launch();
const failures = [];
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  page.on("pageerror", (error) => failures.push(`page error: ${error.message}`));
  page.on("dialog", async (dialog) => { failures.push(`a dialog opened: ${dialog.message()}`); await dialog.dismiss(); });
  page.setDefaultTimeout(15000);
  // Whatever a payload would run sets window.__xss; markup would leave these elements.
  const injected = () => page.evaluate(() => ({
    ran: window.__xss !== undefined,
    elements: document.querySelectorAll("img[src='x'], script[data-xss], iframe, svg[onload], [onerror], [onload]").length,
  }));

  await signIn(page, base, env("TOKEN"));
  await page.waitForFunction(() => document.querySelectorAll("#queue-rows tr").length >= 1);
  const queueText = await page.textContent("#queue-rows");
  if (!queueText.includes("<img src=x")) failures.push("the subject's markup is not shown as text in the queue");
  const inQueue = await injected();
  await page.screenshot({ path: `${shots}/xss-queue.png`, fullPage: true });

  await page.goto(`${base}/#/drafts/${draftId}`);
  await page.waitForSelector("#view-draft:not([hidden])");
  await page.waitForFunction(() => document.getElementById("d-subject").textContent.length > 0);
  const shown = await page.evaluate(() => document.getElementById("view-draft").textContent);
  for (const payload of ["<img src=x onerror=", "<script data-xss>", "<svg onload="]) {
    if (!shown.includes(payload)) failures.push(`the payload ${payload} is not shown as text in the draft`);
  }
  const inDraft = await injected();
  await page.screenshot({ path: `${shots}/xss-draft.png`, fullPage: true });
  for (const [where, found] of [["queue", inQueue], ["draft", inDraft]]) {
    if (found.ran) failures.push(`a payload ran in the ${where}`);
    if (found.elements) failures.push(`${found.elements} injected elements in the ${where}`);
  }
  console.log(JSON.stringify({ inQueue, inDraft, failures }));
} catch (error) {
  failures.push(String(error && error.stack || error));
  console.log(JSON.stringify({ failures }));
} finally {
  await browser.close();
}
process.exit(failures.length ? 1 : 0);
