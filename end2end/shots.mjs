// Screenshots of each page, to look at by eye: `node shots.mjs` with zportal on ZPORTAL_URL.
import { chromium } from "@playwright/test";

const base = process.env.ZPORTAL_URL ?? "http://127.0.0.1:3400";
const out = process.env.SHOTS_DIR ?? "/tmp/shots";
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const hydrated = (page) => page.waitForSelector("body[data-hydrated=true]");
for (const [name, viewport] of [["wide", { width: 1280, height: 860 }], ["phone", { width: 390, height: 844 }]]) {
  const page = await browser.newPage({ viewport });
  const shot = (what) => page.screenshot({ path: `${out}/${name}-${what}.png`, fullPage: true });
  await page.goto(base);
  await hydrated(page);
  await shot("signed-out");
  await page.getByRole("button", { name: "Sign in with Zoho" }).click();
  await page.getByLabel("Email").fill("ada@us.zportal.test");
  await page.getByRole("button", { name: "Accept" }).click();
  await page.waitForURL((u) => u.href.startsWith(base));
  await hydrated(page);
  await shot("home");
  await page.goto(`${base}/m/Leads`);
  await hydrated(page);
  await page.waitForSelector("tbody tr");
  await shot("leads");
  await page.getByText("Columns", { exact: true }).click();
  await shot("leads-columns");
  await page.getByText("Columns", { exact: true }).click();
  await page.getByRole("button", { name: "Add condition" }).click();
  await page.getByRole("checkbox", { name: "Select Lead 2500" }).check();
  await shot("leads-conditions");
  await page.getByRole("link", { name: "Lead 2500" }).click();
  await hydrated(page);
  await page.waitForSelector("h1");
  await shot("lead");
  await page.getByRole("button", { name: "Delete", exact: true }).click();
  await shot("lead-delete");
  await page.goto(`${base}/m/Leads/new`);
  await hydrated(page);
  await page.waitForSelector("form.record-form");
  await page.locator("form.record-form").evaluate((f) => (f.noValidate = true));
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await page.waitForSelector("[aria-invalid=true]");
  await shot("lead-new-refused");
  await page.goto(`${base}/m/Contacts`);
  await hydrated(page);
  await page.waitForSelector("tbody tr");
  await page.locator("tbody tr").first().getByRole("link").click();
  await hydrated(page);
  await page.getByRole("button", { name: "Edit", exact: true }).click();
  await hydrated(page);
  await page.waitForSelector("form.record-form");
  await shot("contact-edit");
  await page.close();
}
await browser.close();
