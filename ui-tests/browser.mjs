// What the browser flows share: their settings from the environment, and Debian's
// chromium launched headless.
import { chromium } from "playwright-core";

/** The environment variable `name`; a flow without it cannot run. */
export const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};

/** Chromium headless ($CHROMIUM, default /usr/bin/chromium). */
export const launch = () => chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking"],
});

/** Signs in with `token` on the review UI at `base` and waits for the queue. */
export const signIn = async (page, base, token) => {
  await page.goto(`${base}/`);
  await page.waitForSelector("#view-login:not([hidden])");
  await page.fill("#token", token);
  await page.click("#login-form button[type=submit]");
  await page.waitForSelector("#view-queue:not([hidden])");
};
