// A reviewer's session in a real browser: sign in, open the queue, open the first draft
// with the keyboard, edit the reply, approve, see the next draft open by itself and the
// approved one leave the queue, then look at the stats page. Screenshots go to
// $SCREENSHOT_DIR. Prints one JSON line with what it did; exits non-zero on any failure.
//
// Env: BASE_URL, TOKEN, EDITED_REPLY, EDITED_SUBJECT, EXPECT_QUEUE (drafts pending at the start),
// SCREENSHOT_DIR, CHROMIUM (default /usr/bin/chromium).
import { env, launch } from "./browser.mjs";

const base = env("BASE_URL");
const shots = env("SCREENSHOT_DIR");
const expected = Number(env("EXPECT_QUEUE"));
const edited = env("EDITED_REPLY");
const editedSubject = env("EDITED_SUBJECT");

const browser = await launch();
const failures = [];
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  page.on("pageerror", (error) => failures.push(`page error: ${error.message}`));
  // The 401s of the first visit (nobody signed in yet) and of the wrong token are expected.
  page.on("console", (message) => {
    if (message.type() === "error" && !message.text().includes("status of 401")) failures.push(`console: ${message.text()}`);
  });
  page.setDefaultTimeout(15000);

  await page.goto(`${base}/`);
  await page.waitForSelector("#view-login:not([hidden])");
  await page.screenshot({ path: `${shots}/1-sign-in.png` });
  await page.fill("#token", "dh_wrong");
  await page.click("#login-form button[type=submit]");
  await page.waitForFunction(() => document.getElementById("login-error").textContent.length > 0);
  await page.fill("#token", env("TOKEN"));
  await page.click("#login-form button[type=submit]");

  await page.waitForSelector("#view-queue:not([hidden])");
  await page.waitForFunction((n) => document.querySelectorAll("#queue-rows tr").length === n, expected);
  await page.screenshot({ path: `${shots}/2-queue.png`, fullPage: true });

  // Keyboard: the first row is selected; j/k move, Enter opens.
  await page.keyboard.press("j");
  await page.keyboard.press("k");
  const firstId = await page.getAttribute("#queue-rows tr.selected", "data-id");
  await page.keyboard.press("Enter");
  await page.waitForSelector("#view-draft:not([hidden])");
  await page.waitForFunction(() => document.getElementById("d-reply").value.length > 0);
  const evidence = await page.locator("#d-evidence li").count();
  const actions = await page.locator("#d-actions input[type=checkbox]").count();
  // The subject that will be sent is shown, and may be edited.
  const draftedSubject = await page.inputValue("#d-reply-subject");
  if (!draftedSubject) failures.push("the reply's subject is not shown");
  await page.screenshot({ path: `${shots}/3-draft.png`, fullPage: true });

  await page.fill("#d-reply", edited);
  await page.fill("#d-reply-subject", editedSubject);
  await page.click("#approve");
  // The next draft opens by itself.
  await page.waitForFunction((id) => location.hash.startsWith("#/drafts/") && !location.hash.includes(id), firstId);
  await page.waitForFunction(() => document.getElementById("d-reply").value.length > 0);
  const nextId = await page.evaluate(() => location.hash);
  await page.screenshot({ path: `${shots}/4-next-draft.png`, fullPage: true });

  await page.click("a[data-nav=queue]");
  await page.waitForFunction((n) => document.querySelectorAll("#queue-rows tr").length === n, expected - 1);
  const stillQueued = await page.$$eval("#queue-rows tr", (rows) => rows.map((r) => r.dataset.id));
  if (stillQueued.includes(firstId)) failures.push("the approved draft is still in the queue");

  await page.click("a[data-nav=stats]");
  await page.waitForSelector("#chart-queue svg");
  await page.waitForSelector("#chart-outcomes svg rect");
  await page.screenshot({ path: `${shots}/5-stats.png`, fullPage: true });

  console.log(JSON.stringify({ approved: firstId, evidence, actions, next: nextId, failures }));
} catch (error) {
  failures.push(String(error && error.stack || error));
  console.log(JSON.stringify({ failures }));
} finally {
  await browser.close();
}
process.exit(failures.length ? 1 : 0);
