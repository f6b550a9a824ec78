// Reading CRM records: the modules, a module's records page by page with the user's columns,
// searches by text and by conditions, and record pages.
import { test, expect, Page } from "@playwright/test";
import { hydrated, signIn } from "./helpers";

/** Opens a module from the home page's navigation, as a person does. */
async function openModule(page: Page, plural: string) {
  await page.goto("/");
  await hydrated(page);
  await page.getByRole("navigation", { name: "Modules" }).getByRole("link", { name: plural, exact: true }).click();
  await expect(page).toHaveURL(new RegExp(`/m/\\w+$`));
  await hydrated(page);
  await expect(page.getByRole("heading", { name: plural, level: 1 })).toBeVisible();
}

const kept = (page: Page) =>
  page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith("zportal.c.")));

test("ada opens Leads, pages through them and opens a record", async ({ page }) => {
  await signIn(page, "ada@us.zportal.test");
  await openModule(page, "Leads");
  await expect(page.getByRole("columnheader", { name: "Lead Name" })).toBeVisible();
  await expect(page.getByRole("columnheader", { name: "Company" })).toBeVisible();
  await expect(page.getByRole("link", { name: "Lead 2500" })).toBeVisible();

  await page.getByRole("button", { name: "Next page" }).click();
  await expect(page.getByText("Page 2")).toBeVisible();
  await expect(page.getByRole("link", { name: "Lead 2450" })).toBeVisible();
  await page.getByRole("button", { name: "Previous page" }).click();
  await expect(page.getByRole("link", { name: "Lead 2500" })).toBeVisible();

  await page.getByRole("link", { name: "Lead 2500" }).click();
  await expect(page).toHaveURL(/\/m\/Leads\/\d{19}$/);
  await hydrated(page);
  await expect(page.getByRole("heading", { name: "Lead 2500" })).toBeVisible();
  await expect(page.getByText("Juniper 2500")).toBeVisible();
  await expect(page.getByText("lead2500@example.test")).toBeVisible();
});

test("a row being opened says so at once: busy, with a progress bar, until its page is up", async ({ page }) => {
  await signIn(page, "ada@us.zportal.test");
  await openModule(page, "Leads");
  // A slow phone: the record page's WASM chunk takes a while to arrive. (A plain build has no
  // chunk to wait for, and opens the page at once, with its placeholder.)
  let chunkAsked = false;
  await page.route(/split___record_view.*\.wasm$/, async (route) => {
    chunkAsked = true;
    await new Promise((r) => setTimeout(r, 1500));
    await route.continue();
  });
  const row = page.getByRole("row").filter({ has: page.getByRole("link", { name: "Lead 2499", exact: true }) });
  await page.getByRole("link", { name: "Lead 2499", exact: true }).click();
  const split = (await page.content()).includes("__wasm_split") || chunkAsked;
  if (split) {
    await expect(row).toHaveAttribute("aria-busy", "true", { timeout: 100 });
    await expect(row.getByRole("progressbar", { name: "Opening Lead 2499" })).toBeVisible({ timeout: 100 });
  }
  await expect(page.getByRole("heading", { name: "Lead 2499", level: 1 })).toBeVisible();
  expect(chunkAsked, "the split build fetched the record page's chunk").toBe(split);
});

test("the columns ada chooses stay after a reload, and sign-out forgets them", async ({ page }) => {
  await signIn(page, "ada@us.zportal.test");
  await openModule(page, "Leads");
  const headers = page.locator("thead th:not(.select)");
  await expect(headers).toHaveText(["Lead Name", "Company", "Email", "Lead Status"]);

  await page.getByText("Columns", { exact: true }).click();
  await page.getByRole("checkbox", { name: "Phone", exact: true }).check();
  await page.getByRole("checkbox", { name: "Email", exact: true }).uncheck();
  await expect(headers).toHaveText(["Lead Name", "Company", "Lead Status", "Phone"]);
  await expect(page.getByRole("cell", { name: "+1 555 2500" })).toBeVisible();

  await page.reload();
  await hydrated(page);
  await expect(headers).toHaveText(["Lead Name", "Company", "Lead Status", "Phone"]);
  expect(await kept(page)).toHaveLength(2); // the columns, and the last module opened

  // Home offers the way back to the last module.
  await page.goto("/");
  await hydrated(page);
  await page.getByRole("link", { name: "Continue with Leads" }).click();
  await hydrated(page);
  await expect(headers).toHaveText(["Lead Name", "Company", "Lead Status", "Phone"]);

  await page.getByText("Columns", { exact: true }).click();
  await page.getByRole("button", { name: "Reset columns" }).click();
  await expect(headers).toHaveText(["Lead Name", "Company", "Email", "Lead Status"]);
  await page.getByRole("checkbox", { name: "City", exact: true }).check();
  await expect(page.getByRole("columnheader", { name: "City" })).toBeVisible();

  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page.getByRole("button", { name: "Sign in with Zoho" })).toBeVisible();
  expect(await kept(page)).toEqual([]);
});

test("what a session that ended elsewhere kept in this browser goes on the next page load", async ({ page, context }) => {
  await signIn(page, "ada@us.zportal.test");
  await openModule(page, "Leads");
  await expect.poll(() => kept(page)).toContainEqual(expect.stringMatching(/^zportal\.c\.[^.]+\.last_module$/));
  const mine = await kept(page);
  // An account this browser was signed in with once, signed out in another tab or expired:
  // its draft and columns are still here.
  await page.evaluate(() => {
    localStorage.setItem("zportal.c.gone0000.draft.Leads.new", JSON.stringify({ values: {} }));
    localStorage.setItem("zportal.c.gone0000.cols.Leads", JSON.stringify(["Phone"]));
  });
  await page.reload();
  await hydrated(page);
  await expect.poll(() => kept(page)).toEqual(mine);

  // The session ends without this page's word (its cookie is gone): the next load forgets all.
  await context.clearCookies();
  await page.reload();
  await hydrated(page);
  await expect.poll(() => kept(page)).toEqual([]);
});

test("eva sees only her own org's records", async ({ page }) => {
  await signIn(page, "eva@eu.zportal.test", "Europe");
  await page.goto("/m/Leads");
  await hydrated(page);
  await expect(page.getByRole("link", { name: "Lead 0050" })).toBeVisible();
  await expect(page.getByRole("link", { name: "Lead 2500" })).toHaveCount(0);
  await expect(page.getByRole("button", { name: "Next page" })).toBeDisabled();
  await page.getByRole("searchbox", { name: "Search" }).fill("Lead 2500");
  await page.getByRole("searchbox", { name: "Search" }).press("Enter");
  await expect(page.getByText("No Leads match this search.")).toBeVisible();
});

test("search by word, email and conditions, then page to the last of 2,500 Leads", async ({ page }) => {
  await signIn(page, "ada@us.zportal.test");
  await page.goto("/m/Leads");
  await hydrated(page);
  const search = page.getByRole("searchbox", { name: "Search" });
  const rows = page.locator("tbody tr");

  await search.fill("Lead 0042");
  await search.press("Enter");
  await expect(page.getByRole("link", { name: "Lead 0042" })).toBeVisible();
  await expect(page.getByRole("link", { name: "Lead 2500" })).toHaveCount(0);

  await search.fill("lead0007@example.test");
  await search.press("Enter");
  await expect(page.getByRole("link", { name: "Lead 0007" })).toBeVisible();

  // The builder is folded away until wanted.
  await page.getByText("Conditions", { exact: true }).click();
  const first = page.getByRole("group", { name: "Condition 1" });
  await first.getByLabel("Field", { exact: true }).selectOption({ label: "Last Name" });
  await first.getByLabel("Operator", { exact: true }).selectOption({ label: "starts with" });
  await first.getByLabel("Value", { exact: true }).fill("Lead (249");
  await page.getByRole("button", { name: "Filter" }).click();
  await expect(page.getByText("No Leads match this search.")).toBeVisible();
  await first.getByLabel("Value", { exact: true }).fill("Lead 249");
  await page.getByRole("button", { name: "Filter" }).click();
  await expect(page.getByRole("link", { name: "Lead 2499" })).toBeVisible();
  await expect(rows).toHaveCount(10); // Lead 2490 … Lead 2499

  // Two conditions: all of them, then any of them.
  await page.getByRole("button", { name: "Add condition" }).click();
  const second = page.getByRole("group", { name: "Condition 2" });
  await second.getByLabel("Field", { exact: true }).selectOption({ label: "Lead Status" });
  // A picklist's condition offers its values.
  await second.getByLabel("Value", { exact: true }).selectOption({ label: "Contacted" });
  await page.getByRole("button", { name: "Filter" }).click();
  // The page before stays on screen until the new one is in.
  await expect.poll(() => rows.count()).toBeLessThan(10);
  const both = await rows.count();
  expect(both).toBeGreaterThan(0);
  await page.getByLabel("Match").selectOption({ label: "any condition" });
  await page.getByRole("button", { name: "Filter" }).click();
  await expect(page.getByText("Page 1")).toBeVisible();
  await expect(page.getByRole("button", { name: "Next page" })).toBeEnabled();
  // The conditions in force show as chips, each removable.
  await expect(page.getByRole("list", { name: "Conditions in force" }).getByRole("listitem")).toHaveCount(2);
  await page.getByRole("button", { name: "Remove Lead Status is Contacted" }).click();
  await expect(page.getByRole("group", { name: "Condition 2" })).toHaveCount(0);
  await expect(page.getByRole("list", { name: "Conditions in force" }).getByRole("listitem")).toHaveCount(1);

  // A search longer than a page pages by number: Lead 2000 … Lead 2500 is 501 Leads.
  await first.getByLabel("Value", { exact: true }).fill("Lead 2");
  await page.getByLabel("Rows per page").selectOption("200");
  await page.getByRole("button", { name: "Filter" }).click();
  await expect(rows).toHaveCount(200);
  await page.getByRole("button", { name: "Next page" }).click();
  await expect(page.getByText("Page 2")).toBeVisible();
  await expect(rows).toHaveCount(200);
  await page.getByRole("button", { name: "Next page" }).click();
  await expect(page.getByText("Page 3")).toBeVisible();
  await expect(rows).toHaveCount(101);
  await expect(page.getByRole("button", { name: "Next page" })).toBeDisabled();

  await page.getByRole("button", { name: "Clear search" }).click();
  await expect(page.getByRole("link", { name: "Lead 2500" })).toBeVisible();

  // The headers order the list: Lead Name ascending, then descending, then ascending again
  // (other tests' Leads may be among them, so the order is what is checked).
  const fullName = page.getByRole("button", { name: "Lead Name", exact: true });
  const header = page.getByRole("columnheader", { name: "Lead Name" });
  const names = () => rows.locator("td:nth-child(2) a").allTextContents();
  const ordered = (list: string[], descending: boolean) => {
    const sorted = [...list].sort((a, b) => (a.toLowerCase() < b.toLowerCase() ? -1 : a.toLowerCase() > b.toLowerCase() ? 1 : 0));
    return descending ? sorted.reverse() : sorted;
  };
  await fullName.click();
  await expect(header).toHaveAttribute("aria-sort", "ascending");
  await expect(page.getByRole("link", { name: "Lead 0001", exact: true })).toBeVisible();
  expect(await names()).toEqual(ordered(await names(), false));
  await fullName.click();
  await expect(header).toHaveAttribute("aria-sort", "descending");
  await expect(page.getByRole("link", { name: "Lead 0001", exact: true })).toHaveCount(0);
  expect(await names()).toEqual(ordered(await names(), true));
  await fullName.click();
  await expect(header).toHaveAttribute("aria-sort", "ascending");
  await expect(page.getByRole("link", { name: "Lead 0001", exact: true })).toBeVisible();
  for (let n = 2; n <= 13; n++) {
    await page.getByRole("button", { name: "Next page" }).click();
    await expect(page.getByText(`Page ${n}`)).toBeVisible();
  }
  await expect(page.getByRole("link", { name: "Lead 2500" })).toBeVisible();
  await expect(page.getByRole("button", { name: "Next page" })).toBeDisabled();
});

for (const [plural, header, record, detail] of [
  ["Contacts", "Email", /Contact \d{3}/, "Account Name"],
  ["Accounts", "Industry", /Account \d{3}/, "Website"],
  ["Deals", "Stage", /Deal \d{3}/, "Contact Name"],
] as const) {
  test(`ada lists and opens ${plural}`, async ({ page }) => {
    await signIn(page, "ada@us.zportal.test");
    await openModule(page, plural);
    await expect(page.getByRole("columnheader", { name: header })).toBeVisible();
    // The seeded records (other tests may have added some of their own).
    const link = page.locator("tbody").getByRole("link", { name: record }).first();
    const name = (await link.textContent()) ?? "";
    expect(name).toMatch(record);
    await link.click();
    await hydrated(page);
    await expect(page.getByRole("heading", { name, level: 1 })).toBeVisible();
    await expect(page.getByRole("term").filter({ hasText: detail })).toBeVisible();
    if (plural !== "Accounts") {
      // A lookup shows the record's name and leads to it.
      await page.getByRole("definition").getByRole("link", { name: /^Account \d{3}$/ }).click();
      await expect(page).toHaveURL(/\/m\/Accounts\/\d{19}$/);
      await hydrated(page);
      await expect(page.getByRole("heading", { name: /^Account \d{3}$/, level: 1 })).toBeVisible();
    }
  });
}
