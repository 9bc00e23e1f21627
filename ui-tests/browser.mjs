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
