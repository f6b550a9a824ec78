// Handing records over and changing many at once: ada changes one Lead's owner to ben from its
// page; changes the owner of three at once from a list's selection; and sets Lead Status on five
// with "Update field". ben's open list follows without a reload. axe finds nothing on either
// dialog. Bounds are generous: the bench measures.
import { test, expect, Page } from "@playwright/test";
import AxeBuilder from "@axe-core/playwright";
import { hydrated, signIn, zohoDirect } from "./helpers";
import { baseURL } from "../site";

const TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"];
const LIVE = { timeout: 15_000 };
const unique = () => `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;

async function expectNoViolations(page: Page, what: string) {
  await expect(page.locator("[aria-busy=true]")).toHaveCount(0);
  const result = await new AxeBuilder({ page }).withTags(TAGS).analyze();
  const found = result.violations.map(
    (v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.length} node(s), e.g. ${v.nodes[0]?.target.join(" ")}`,
  );
  expect(found, what).toEqual([]);
}

/** Leads searched for `word`: only the test's own. */
async function searchLeads(page: Page, word: string) {
  await page.goto("/m/Leads");
  await hydrated(page);
  const search = page.getByRole("searchbox", { name: "Search" });
  await search.fill(word);
  await search.press("Enter");
}

test("ada changes one lead's owner to ben from its page", async ({ page, request }) => {
  test.setTimeout(90_000);
  const name = `Handover ${unique()}`;
  // Signed in first: zportal then holds her connection, whatever another app is granted after.
  await signIn(page, "ada@us.zportal.test");
  const zoho = await zohoDirect(request, "ada@us.zportal.test");
  const id = await zoho.create("Leads", { Last_Name: name });
  await page.goto(`/m/Leads/${id}`);
  await expect(page.getByRole("heading", { name, level: 1 })).toBeVisible();
  await hydrated(page);
  await expect(page.getByText("Owner: Ada Lovelace")).toBeVisible();

  const open = page.getByRole("button", { name: "Change owner" });
  const dialog = page.getByRole("dialog", { name: "Change owner" });
  // Zoho's notification of the new Lead redraws the page's header once, just after it loads; a
  // click that lands while it is redrawn is lost (noted on the issue), so it is made again.
  await expect(async () => {
    if (!(await dialog.isVisible())) await open.click();
    await expect(dialog).toBeVisible({ timeout: 2_000 });
  }).toPass({ timeout: 15_000 });
  const owner = dialog.getByLabel("New owner", { exact: true });
  await expect(owner.locator("option").first()).toHaveText("Ada Lovelace");
  await expect(owner.locator("option", { hasText: "Ines Duarte" })).toHaveCount(0);
  await owner.selectOption({ label: "Ben Okafor" });
  await expectNoViolations(page, "the Change owner dialog");
  await dialog.getByRole("button", { name: "Set owner" }).dblclick();
  await expect(dialog).toHaveCount(0);
  await expect(page.getByRole("status").filter({ hasText: "Changed the owner of 1 record." })).toBeVisible();
  await expect(page.getByText("Owner: Ben Okafor")).toBeVisible(LIVE);
});

test("ada hands three leads to ben and sets Lead Status on five; ben's list follows", async ({ page, browser, request }) => {
  test.setTimeout(120_000);
  const word = unique();
  await signIn(page, "ada@us.zportal.test");
  const zoho = await zohoDirect(request, "ada@us.zportal.test");
  const names = [1, 2, 3, 4, 5].map((n) => `Block ${word} ${n}`);
  for (const Last_Name of names) {
    await zoho.create("Leads", { Last_Name, Lead_Status: "Not Contacted" });
  }

  // ben's search of them is open in another browser.
  const ben = await (await browser.newContext({ baseURL })).newPage();
  await signIn(ben, "ben@us.zportal.test");
  await searchLeads(ben, word);
  await expect(ben.getByRole("row").filter({ hasText: "Not Contacted" })).toHaveCount(5, LIVE);

  await searchLeads(page, word);
  await expect(page.locator("tbody tr")).toHaveCount(5, LIVE);

  // Three to ben.
  for (const name of names.slice(0, 3)) {
    await page.getByRole("checkbox", { name: `Select ${name}` }).check();
  }
  await page.getByRole("button", { name: "Change owner" }).click();
  const owners = page.getByRole("dialog", { name: "Change owner" });
  await owners.getByLabel("New owner", { exact: true }).selectOption({ label: "Ben Okafor" });
  await owners.getByRole("button", { name: "Set owner" }).click();
  await expect(owners).toHaveCount(0);
  await expect(page.getByText("Changed the owner of 3 records.")).toBeVisible();

  // Lead Status on all five.
  await page.getByRole("checkbox", { name: "Select all on this page" }).check();
  await expect(page.getByText("5 selected")).toBeVisible();
  await page.getByRole("button", { name: "Update field" }).click();
  const update = page.getByRole("dialog", { name: "Update field" });
  const field = update.getByLabel("Field", { exact: true });
  await expect(field.locator("option", { hasText: /^Email$/ })).toHaveCount(0);
  await field.selectOption({ label: "Lead Status" });
  await update.getByLabel("Value", { exact: true }).selectOption("Contacted");
  await expectNoViolations(page, "the Update field dialog");
  await update.getByRole("button", { name: "Update 5 records" }).click();
  await expect(update).toHaveCount(0);
  await expect(page.getByText("Updated 5 records.")).toBeVisible();

  // ben's list follows.
  await expect(ben.getByRole("row").filter({ hasText: "Contacted" }).filter({ hasNotText: "Not Contacted" })).toHaveCount(5, LIVE);
  await ben.context().close();
});
