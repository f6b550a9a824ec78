// Reading CRM records: the modules, a module's records page by page, and one record.
import { test, expect } from "@playwright/test";
import { hydrated, signIn } from "./helpers";

test("ada opens Leads, pages through them and opens a record", async ({ page }) => {
  await signIn(page, "ada@us.zportal.test");
  await page.getByRole("navigation", { name: "Modules" }).getByRole("link", { name: "Leads", exact: true }).click();
  await expect(page).toHaveURL(/\/m\/Leads$/);
  await hydrated(page);
  await expect(page.getByRole("heading", { name: "Leads" })).toBeVisible();
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
  await expect(page.getByText("Company 2500")).toBeVisible();
  await expect(page.getByText("lead2500@example.test")).toBeVisible();
});

test("eva sees only her own org's records", async ({ page }) => {
  await signIn(page, "eva@eu.zportal.test", "Europe");
  await page.goto("/m/Leads");
  await hydrated(page);
  await expect(page.getByRole("link", { name: "Lead 0050" })).toBeVisible();
  await expect(page.getByRole("link", { name: "Lead 2500" })).toHaveCount(0);
  await expect(page.getByRole("button", { name: "Next page" })).toBeDisabled();
});

test("search by word, email and a condition, then page to the last of 2,500 Leads", async ({ page }) => {
  await signIn(page, "ada@us.zportal.test");
  await page.goto("/m/Leads");
  await hydrated(page);
  const search = page.getByRole("searchbox", { name: "Search" });

  await search.fill("Lead 0042");
  await search.press("Enter");
  await expect(page.getByRole("link", { name: "Lead 0042" })).toBeVisible();
  await expect(page.getByRole("link", { name: "Lead 2500" })).toHaveCount(0);

  await search.fill("lead0007@example.test");
  await search.press("Enter");
  await expect(page.getByRole("link", { name: "Lead 0007" })).toBeVisible();

  await page.getByLabel("Field").selectOption({ label: "Company" });
  await page.getByLabel("Operator").selectOption({ label: "starts with" });
  await page.getByLabel("Value").fill("Company (249");
  await page.getByRole("button", { name: "Filter" }).click();
  await expect(page.getByText("No Leads match this search.")).toBeVisible();
  await page.getByLabel("Value").fill("Company 249");
  await page.getByRole("button", { name: "Filter" }).click();
  await expect(page.getByRole("link", { name: "Lead 2499" })).toBeVisible();
  await expect(page.locator("tbody tr")).toHaveCount(10); // Company 2490 … Company 2499

  await page.getByRole("button", { name: "Clear search" }).click();
  await expect(page.getByRole("link", { name: "Lead 2500" })).toBeVisible();

  await page.getByRole("button", { name: "Newest first" }).click();
  await expect(page.getByRole("link", { name: "Lead 0001" })).toBeVisible();
  await page.getByLabel("Rows per page").selectOption("200");
  await expect(page.locator("tbody tr")).toHaveCount(200);
  for (let n = 2; n <= 13; n++) {
    await page.getByRole("button", { name: "Next page" }).click();
    await expect(page.getByText(`Page ${n}`)).toBeVisible();
  }
  await expect(page.getByRole("link", { name: "Lead 2500" })).toBeVisible();
  await expect(page.getByRole("button", { name: "Next page" })).toBeDisabled();
});
