// The bench's browser measurements of a running zportal (`bench` starts this with `node`):
// Lighthouse 12, mobile and desktop presets, on the signed-out home, the Leads list and a Lead's
// page; and how long a click on a list row takes until the record is on screen, with the record
// page's code not yet loaded (cold) and loaded (warm). Prints one JSON object on stdout.
//
//   node pages.mjs --base http://127.0.0.1:PORT --email ada@us.zportal.test
//
// Chromium is the machine's (CHROME_PATH, else /usr/bin/chromium): browser downloads are not
// possible everywhere. Over http, Chromium advertises gzip but not brotli, so bytes are gzip.
import { chromium } from "playwright-core";
import * as chromeLauncher from "chrome-launcher";
import lighthouse from "lighthouse";
import desktopConfig from "lighthouse/core/config/desktop-config.js";

const FLAGS = [
  "--headless=new",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

const base = arg("base");
const email = arg("email", "ada@us.zportal.test");
const chromePath = process.env.CHROME_PATH || "/usr/bin/chromium";
if (!base) throw new Error("--base is required");

/** Signs in through the emulator's page as a person does; returns the context, signed in. */
async function signedIn(browser) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${base}/`);
  await page.getByLabel("Data center").selectOption({ label: "United States" });
  await page.getByRole("button", { name: "Sign in with Zoho" }).click();
  await page.getByLabel("Email").fill(email);
  await page.getByRole("button", { name: "Accept" }).click();
  await page.waitForURL((url) => url.origin === base);
  await page.close();
  return context;
}

/** The first Lead's page, from the list as the server renders it. */
async function firstLeadUrl(context) {
  const page = await context.newPage();
  await page.goto(`${base}/m/Leads`);
  const href = await page.locator("tbody a").first().getAttribute("href");
  await page.close();
  return `${base}${href}`;
}

/** Milliseconds from a click on the `row`-th list row to its record's heading on screen,
 * measured in the page. */
async function clickToRecord(page, row) {
  await page.goto(`${base}/m/Leads`);
  await page.locator("body[data-hydrated=true]").waitFor();
  return page.evaluate(async (row) => {
    const link = document.querySelectorAll("tbody a")[row];
    const name = link.textContent.trim();
    const start = performance.now();
    const shown = new Promise((resolve) => {
      const check = () => {
        const h1 = document.querySelector("main h1");
        if (h1 && h1.textContent.trim() === name && location.pathname !== "/m/Leads") {
          observer.disconnect();
          resolve(performance.now() - start);
        }
      };
      const observer = new MutationObserver(check);
      observer.observe(document.body, { subtree: true, childList: true, characterData: true });
    });
    link.click();
    return shown;
  }, row);
}

async function lighthouseRuns(urls, cookie) {
  const chrome = await chromeLauncher.launch({ chromePath, chromeFlags: FLAGS });
  const results = {};
  try {
    for (const [name, url, signedIn] of urls) {
      for (const preset of ["mobile", "desktop"]) {
        const flags = {
          port: chrome.port,
          output: "json",
          logLevel: "error",
          onlyCategories: ["performance", "accessibility", "best-practices", "seo"],
          extraHeaders: signedIn ? { Cookie: cookie } : undefined,
        };
        const run = await lighthouse(url, flags, preset === "desktop" ? desktopConfig : undefined);
        const { categories, audits } = run.lhr;
        const key = `${name}.${preset}`;
        for (const [id, category] of Object.entries(categories)) {
          results[`${key}.${id}`] = Math.round(category.score * 100);
        }
        results[`${key}.lcp_ms`] = audits["largest-contentful-paint"].numericValue;
        results[`${key}.tbt_ms`] = audits["total-blocking-time"].numericValue;
        results[`${key}.cls`] = audits["cumulative-layout-shift"].numericValue;
        results[`${key}.bytes_kb`] = audits["total-byte-weight"].numericValue / 1024;
      }
    }
  } finally {
    await chrome.kill();
  }
  return results;
}

const browser = await chromium.launch({ executablePath: chromePath, args: FLAGS.slice(1) });
const figures = {};
try {
  const context = await signedIn(browser);
  const cookie = (await context.cookies(base)).map((c) => `${c.name}=${c.value}`).join("; ");
  const record = await firstLeadUrl(context);

  // Cold: a new context (an empty cache) with the same session; warm: the same page again.
  const cold = await browser.newContext({ storageState: await context.storageState() });
  const page = await cold.newPage();
  figures["click_to_record.cold_ms"] = await clickToRecord(page, 0);
  figures["click_to_record.warm_ms"] = await clickToRecord(page, 1);
  await cold.close();

  Object.assign(
    figures,
    await lighthouseRuns(
      [
        ["home", `${base}/`, false],
        ["leads", `${base}/m/Leads`, true],
        ["record", record, true],
      ],
      cookie,
    ),
  );
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(figures));
