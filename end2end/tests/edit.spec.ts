// Writing CRM records: forms built from Zoho's field metadata, Zoho's refusals beside the field,
// drafts that survive a reload, one record per double-clicked "Save", and deletes.
import { test, expect, Page } from "@playwright/test";
import { hydrated, signIn } from "./helpers";

const unique = () => `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;

/** Finds `name` with the searchbox of the module list the page is on. */
async function findInList(page: Page, module: string, name: string) {
  await page.goto(`/m/${module}`);
  await hydrated(page);
  await page.getByRole("searchbox", { name: "Search" }).fill(name);
  await page.getByRole("searchbox", { name: "Search" }).press("Enter");
}

async function openNew(page: Page, module: string) {
  await page.goto(`/m/${module}`);
  await hydrated(page);
  await page.getByRole("button", { name: "New", exact: true }).click();
  await expect(page).toHaveURL(new RegExp(`/m/${module}/new$`));
  await hydrated(page);
  await expect(page.getByRole("button", { name: "Save", exact: true })).toBeVisible();
}

test("ada creates a Lead, finds it, edits it and deletes it", async ({ page }) => {
  const name = `Quill ${unique()}`;
  await signIn(page, "ada@us.zportal.test");
  await openNew(page, "Leads");
  await expect(page.getByRole("heading", { name: "New Lead" })).toBeVisible();
  await page.getByLabel("Last Name", { exact: true }).fill(name);
  await page.getByLabel("Company", { exact: true }).fill("Quill & Sons (UK), Ltd");
  await page.getByLabel("Email", { exact: true }).fill("quill@example.test");
  await page.getByLabel("Lead Status", { exact: true }).selectOption({ label: "Contacted" });
  await page.getByLabel("No. of Employees", { exact: true }).fill("12");
  await page.getByRole("group", { name: "Tag" }).getByLabel("VIP").check();
  await page.getByRole("button", { name: "Save", exact: true }).click();

  await expect(page).toHaveURL(/\/m\/Leads\/\d{19}$/);
  await expect(page.getByRole("heading", { name, level: 1 })).toBeVisible();
  await expect(page.getByText("Quill & Sons (UK), Ltd")).toBeVisible();
  await expect(page.getByRole("definition").filter({ hasText: "VIP" })).toBeVisible();
  const url = page.url();

  await findInList(page, "Leads", name);
  await expect(page.getByRole("link", { name })).toBeVisible();
  await expect(page.locator("tbody tr")).toHaveCount(1);

  await page.goto(url);
  await hydrated(page);
  await page.getByRole("button", { name: "Edit", exact: true }).click();
  await expect(page).toHaveURL(/\/edit$/);
  await hydrated(page);
  await expect(page.getByLabel("Last Name", { exact: true })).toHaveValue(name);
  await expect(page.getByLabel("Lead Status", { exact: true })).toHaveValue("Contacted");
  await page.getByLabel("Company", { exact: true }).fill("Quill Holdings");
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await expect(page).toHaveURL(url);
  // The History section says so too ("from … to Quill Holdings"); the field is what is checked here.
  await expect(page.getByRole("region", { name: "Details" }).getByText("Quill Holdings")).toBeVisible();

  // The edited Lead is the most recently modified.
  // An old link's order (`sort=modified_time`, newest first) still opens in that order.
  await page.goto("/m/Leads?sort=modified_time");
  await hydrated(page);
  await expect(page.locator("tbody tr").first()).toContainText(name);

  await page.goto(url);
  await hydrated(page);
  await page.getByRole("button", { name: "Delete", exact: true }).click();
  await page.getByRole("button", { name: "Yes, delete it" }).click();
  await expect(page).toHaveURL(/\/m\/Leads$/);
  await findInList(page, "Leads", name);
  await expect(page.getByText("No Leads match this search.")).toBeVisible();
});

test("a Lead without Last Name is refused beside that field, by the browser and by Zoho", async ({ page }) => {
  await signIn(page, "ada@us.zportal.test");
  await openNew(page, "Leads");
  const lastName = page.getByLabel("Last Name", { exact: true });
  await page.getByLabel("Company", { exact: true }).fill("Nameless Inc");
  await page.getByRole("button", { name: "Save", exact: true }).click();
  // The browser's own check stops the form: nothing was sent.
  expect(await lastName.evaluate((el: HTMLInputElement) => el.validity.valueMissing)).toBe(true);
  await expect(page).toHaveURL(/\/m\/Leads\/new$/);

  // Without the browser's check, Zoho's MANDATORY_NOT_FOUND comes back beside the field.
  await page.locator("form.record-form").evaluate((f: HTMLFormElement) => (f.noValidate = true));
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await expect(lastName).toHaveAttribute("aria-invalid", "true");
  await expect(lastName).toHaveAccessibleDescription("Last Name is required.");
  await expect(page.getByRole("alert")).toContainText("Please correct the fields marked below.");
  await expect(page.getByLabel("Company", { exact: true })).toHaveValue("Nameless Inc");
  await expect(page).toHaveURL(/\/m\/Leads\/new$/);

  // A value the field cannot take is stopped before Zoho, beside its field too.
  await lastName.fill("Numbers");
  await page.getByLabel("No. of Employees", { exact: true }).evaluate((el: HTMLInputElement) => (el.type = "text"));
  await page.getByLabel("No. of Employees", { exact: true }).fill("a dozen");
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await expect(page.getByLabel("No. of Employees", { exact: true })).toHaveAccessibleDescription("Enter a whole number.");
});

test("a draft survives a reload, and saving clears it", async ({ page }) => {
  const name = `Draft ${unique()}`;
  await signIn(page, "ada@us.zportal.test");
  await openNew(page, "Leads");
  await page.getByLabel("Last Name", { exact: true }).fill(name);
  await page.getByLabel("City", { exact: true }).fill("Lisbon");
  await page.reload();
  await hydrated(page);
  await expect(page.getByLabel("Last Name", { exact: true })).toHaveValue("");
  await page.getByRole("button", { name: "Restore draft" }).click();
  await expect(page.getByLabel("Last Name", { exact: true })).toHaveValue(name);
  await expect(page.getByLabel("City", { exact: true })).toHaveValue("Lisbon");
  const drafts = () =>
    page.evaluate(() => Object.keys(localStorage).filter((k) => k.includes(".draft.")));
  expect(await drafts()).toHaveLength(1);
  const stored = await page.evaluate(() => JSON.stringify(localStorage));
  expect(stored).not.toMatch(/token|secret/i);

  // One Lead, however fast "Save" is clicked.
  await page.getByRole("button", { name: "Save", exact: true }).dblclick();
  await expect(page).toHaveURL(/\/m\/Leads\/\d{19}$/);
  expect(await drafts()).toEqual([]);
  await findInList(page, "Leads", name);
  await expect(page.getByRole("link", { name })).toBeVisible();
  await expect(page.locator("tbody tr")).toHaveCount(1);

  await page.goto("/m/Leads/new");
  await hydrated(page);
  await expect(page.getByRole("button", { name: "Restore draft" })).toHaveCount(0);
});

test("a bulk delete of 3 rows", async ({ page }) => {
  await signIn(page, "ish@in.zportal.test", "India");
  await page.goto("/m/Leads");
  await hydrated(page);
  for (const n of ["0041", "0042", "0043"]) {
    await page.getByRole("checkbox", { name: `Select Lead ${n}` }).check();
  }
  await expect(page.getByText("3 selected")).toBeVisible();
  await page.getByRole("button", { name: "Delete selected" }).click();
  await page.getByRole("button", { name: "Yes, delete them" }).click();
  await expect(page.getByText("Deleted 3 Leads.")).toBeVisible();
  for (const n of ["0041", "0042", "0043"]) {
    await expect(page.getByRole("link", { name: `Lead ${n}` })).toHaveCount(0);
  }
  await expect(page.getByRole("link", { name: "Lead 0044" })).toBeVisible();
  await expect(page.getByRole("link", { name: "Lead 0040" })).toBeVisible();
});

/** Fills every field the form marks as required, whatever its kind. */
async function fillRequired(page: Page, tag: string) {
  const required = page.locator("form.record-form [required]");
  const count = await required.count();
  expect(count).toBeGreaterThan(0);
  const filled: string[] = [];
  for (let i = 0; i < count; i++) {
    const el = required.nth(i);
    const kind = await el.evaluate((e) =>
      e.getAttribute("role") === "combobox"
        ? "combobox"
        : `${e.tagName.toLowerCase()}:${(e as HTMLInputElement).type}`,
    );
    if (kind.startsWith("select")) {
      const value = await el.locator("option").nth(1).getAttribute("value");
      await el.selectOption(value ?? "");
    } else if (kind === "input:date") {
      await el.fill("2026-12-01");
    } else if (kind === "input:number") {
      await el.fill("7");
    } else if (kind === "input:email") {
      await el.fill(`${tag.toLowerCase().replace(/\W/g, "")}@example.test`);
    } else if (kind === "combobox") {
      await el.fill("00");
      await page.getByRole("option").first().click();
    } else {
      await el.fill(tag);
      filled.push(tag);
    }
  }
  return filled;
}

for (const module of ["Contacts", "Accounts", "Deals"]) {
  test(`ada creates and edits ${module} with the fields Zoho marks mandatory`, async ({ page }) => {
    const tag = `E2E ${module} ${unique()}`;
    await signIn(page, "ada@us.zportal.test");
    await openNew(page, module);
    // Zoho's metadata decides what is mandatory: the form marks exactly those fields.
    await page.locator("form.record-form").evaluate((f: HTMLFormElement) => (f.noValidate = true));
    await page.getByRole("button", { name: "Save", exact: true }).click();
    await expect(page.locator("[aria-invalid=true]").first()).toBeVisible();
    await page.locator("form.record-form").evaluate((f: HTMLFormElement) => (f.noValidate = false));

    const texts = await fillRequired(page, tag);
    expect(texts.length).toBeGreaterThan(0);
    await page.getByRole("button", { name: "Save", exact: true }).click();
    await expect(page).toHaveURL(new RegExp(`/m/${module}/\\d{19}$`));
    await hydrated(page);
    await expect(page.getByText(tag).first()).toBeVisible();

    await page.getByRole("button", { name: "Edit", exact: true }).click();
    await hydrated(page);
    const first = page.locator("form.record-form [required]").first();
    await first.fill(`${tag} edited`);
    await page.getByRole("button", { name: "Save", exact: true }).click();
    await expect(page).toHaveURL(new RegExp(`/m/${module}/\\d{19}$`));
    await expect(page.getByText(`${tag} edited`).first()).toBeVisible();
  });
}
