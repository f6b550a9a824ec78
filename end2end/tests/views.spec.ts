// Finding things: ada orders Leads by Company both ways from the header and reads the total;
// picks an org view; saves a view and finds it in a second browser, where she deletes it; a
// one-letter search is said to be too short. axe finds nothing on the list with a view open, nor
// on "Save view". Other tests add Leads meanwhile: orders are checked, not exact rows.
import { test, expect, Page } from "@playwright/test";
import AxeBuilder from "@axe-core/playwright";
import { hydrated, signIn } from "./helpers";
import { baseURL } from "../site";

const TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"];
const ADA = "ada@us.zportal.test";
const unique = () => `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
const TOTAL = /^\d[\d,]*–\d[\d,]* of (about )?\d[\d,]*$/;

async function expectNoViolations(page: Page, what: string) {
  await expect(page.locator("[aria-busy=true]")).toHaveCount(0);
  const result = await new AxeBuilder({ page }).withTags(TAGS).analyze();
  const found = result.violations.map(
    (v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.length} node(s), e.g. ${v.nodes[0]?.target.join(" ")}`,
  );
  expect(found, what).toEqual([]);
}

/** The text of the list's column `n` (1 is the row's checkbox). */
async function column(page: Page, n: number) {
  return page.locator(`tbody tr td:nth-child(${n})`).allTextContents();
}

function isOrdered(values: string[], descending: boolean) {
  const key = (s: string) => s.toLowerCase();
  return values.every((v, i) => i === 0 || (descending ? key(values[i - 1]) >= key(v) : key(values[i - 1]) <= key(v)));
}

test("ada orders Leads by Company both ways and reads the total", async ({ page }) => {
  await signIn(page, ADA);
  await page.goto("/m/Leads");
  await hydrated(page);
  await expect(page.locator("p.range")).toHaveText(TOTAL);
  await expect(page.locator("p.range")).toHaveText(/^1–50 of /);

  const company = page.getByRole("button", { name: "Company", exact: true });
  const header = page.getByRole("columnheader", { name: "Company" });
  await expect(header).toHaveAttribute("aria-sort", "none");
  await company.click();
  await expect(header).toHaveAttribute("aria-sort", "ascending");
  await expect(page).toHaveURL(/sort=Company&asc=1/);
  await expect(page.locator("[aria-busy=true]")).toHaveCount(0);
  const up = await column(page, 3);
  expect(up.length).toBe(50);
  expect(isOrdered(up, false), up.join(" | ")).toBe(true);

  await company.click();
  await expect(header).toHaveAttribute("aria-sort", "descending");
  await expect(page.locator("[aria-busy=true]")).toHaveCount(0);
  const down = await column(page, 3);
  expect(isOrdered(down, true), down.join(" | ")).toBe(true);
  expect(down[0]).not.toEqual(up[0]);

  // The next page goes on in the same order, and says where it is.
  await page.getByRole("button", { name: "Next page" }).click();
  await expect(page.locator("p.range")).toHaveText(/^51–100 of /);
  const next = await column(page, 3);
  expect(isOrdered([down[down.length - 1], ...next], true)).toBe(true);
});

test("ada picks an org view, and axe finds nothing on it", async ({ page }) => {
  await signIn(page, ADA);
  await page.goto("/m/Leads");
  await hydrated(page);
  const views = page.getByLabel("View", { exact: true });
  await expect(views.locator("option", { hasText: "All Leads" })).toHaveCount(1);
  await views.selectOption({ label: "Contacted Leads" });
  await expect(page).toHaveURL(/cv=\d+/);
  // The view's own columns, and only its records.
  await expect(page.getByRole("columnheader", { name: "Lead Source" })).toBeVisible();
  await expect(page.locator("[aria-busy=true]")).toHaveCount(0);
  const statuses = await column(page, 5);
  expect(statuses.length).toBeGreaterThan(0);
  expect(new Set(statuses)).toEqual(new Set(["Contacted"]));
  await expect(page.locator("p.range")).toHaveText(TOTAL);
  await expectNoViolations(page, "the list with an org view");
  // "Columns" starts from the view's own.
  await page.getByText("Columns", { exact: true }).click();
  await expect(page.getByRole("checkbox", { name: "Lead Source", exact: true })).toBeChecked();
  await expect(page.getByRole("checkbox", { name: "Email", exact: true })).not.toBeChecked();

  // A reload keeps it; Back goes to the plain list.
  await page.reload();
  await hydrated(page);
  await expect(views).toHaveValue(/^cv:/);
  await page.goBack();
  await expect(page).toHaveURL(/\/m\/Leads$/);
});

test("ada saves a view, finds it in a second browser and deletes it there", async ({ page, browser }) => {
  test.setTimeout(90_000);
  const name = `Qualified ${unique()}`;
  await signIn(page, ADA);
  await page.goto("/m/Leads?c=Lead_Status:equals:Pre-Qualified&rows=20");
  await hydrated(page);
  await page.getByRole("button", { name: "Company", exact: true }).click();
  await expect(page).toHaveURL(/sort=Company/);

  await page.getByRole("button", { name: "Save view" }).click();
  const dialog = page.getByRole("form", { name: "Save view" });
  await expect(dialog).toBeVisible();
  await expectNoViolations(page, "Save view");
  await dialog.getByLabel("View name").fill(name);
  await dialog.getByRole("button", { name: "Save" }).click();
  await expect(dialog).toHaveCount(0);
  await expect(page.getByRole("status").filter({ hasText: `Saved the view “${name}”.` })).toBeVisible();
  await expect(page).toHaveURL(/sv=[0-9a-f]+/);

  // Another browser of hers: the view is there, and brings its conditions, order and page size.
  const other = await (await browser.newContext({ baseURL })).newPage();
  await signIn(other, ADA);
  await other.goto("/m/Leads");
  await hydrated(other);
  const views = other.getByLabel("View", { exact: true });
  await expect(views.locator("option", { hasText: name })).toHaveCount(1);
  await views.selectOption({ label: name });
  await expect(other).toHaveURL(/sv=[0-9a-f]+/);
  await expect(other.getByRole("columnheader", { name: "Company" })).toHaveAttribute("aria-sort", "ascending");
  await expect(other.getByLabel("Rows per page")).toHaveValue("20");
  await expect(other.locator("[aria-busy=true]")).toHaveCount(0);
  expect(new Set(await column(other, 5))).toEqual(new Set(["Pre-Qualified"]));

  await other.getByRole("button", { name: "Delete view" }).click();
  await expect(other.getByRole("status").filter({ hasText: `Deleted the view “${name}”.` })).toBeVisible();
  await expect(views.locator("option", { hasText: name })).toHaveCount(0);
  await other.context().close();
});

test("a one-letter search is said to be too short", async ({ page }) => {
  await signIn(page, ADA);
  await page.goto("/m/Leads");
  await hydrated(page);
  const search = page.getByRole("searchbox", { name: "Search" });
  await search.fill("a");
  await search.press("Enter");
  await expect(page.getByRole("alert").filter({ hasText: "Type at least 2 characters" })).toBeVisible();
  await expect(page).toHaveURL(/\/m\/Leads$/);
});
