// Zoho failing, as a person sees it: the page says what went wrong and what to do, nothing typed
// is lost, and the page works again once Zoho does. Each fault is limited to the data center of
// the user the test signs in as, so it cannot reach another test's calls.
import { test, expect, Page } from "@playwright/test";
import { control, hydrated, signIn } from "./helpers";

async function openLeads(page: Page) {
  await open(page, "Leads");
}

async function open(page: Page, module: string) {
  await page.goto(`/m/${module}`);
  await hydrated(page);
}

test("when Zoho is down the list says so, and shows the records again once Zoho is back", async ({ page, request }) => {
  await signIn(page, "sami@sa.zportal.test", "Saudi Arabia");
  await openLeads(page);
  await expect(page.locator("tbody tr").first()).toBeVisible();

  // The first try and both retries of the next list fail (a list not read moments ago: the
  // Leads just read would be answered again without asking Zoho).
  await control(request, "faults", { kind: "http_500", endpoint: "records", dc: "sa", count: 3 });
  await open(page, "Contacts");
  await expect(page.getByRole("alert")).toContainText("Zoho could not be reached. Please try again shortly.");
  await expect(page.locator("tbody tr")).toHaveCount(0);

  await open(page, "Contacts");
  await expect(page.locator("tbody tr").first()).toBeVisible();
  await expect(page.getByRole("alert")).toHaveCount(0);
});

test("while Zoho is throttling the page says so and when to try again", async ({ page, request }) => {
  await signIn(page, "uma@uk.zportal.test", "United Kingdom");
  await openLeads(page);
  await expect(page.locator("tbody tr").first()).toBeVisible();

  // The token dies at Zoho, and Zoho answers the refresh with "Access Denied".
  await control(request, "tokens/expire", { email: "uma@uk.zportal.test" });
  await control(request, "faults", { kind: "access_denied", endpoint: "refresh", dc: "uk", count: 1 });
  await open(page, "Contacts");
  const alert = page.getByRole("alert");
  await expect(alert).toContainText("Zoho is limiting requests right now; zportal will retry shortly.");
  await expect(alert).toContainText("Try again after");
  // The connection itself is fine: throttling is not a reason to reconnect.
  await page.goto("/connection");
  await hydrated(page);
  await expect(page.getByTestId("status")).toHaveText("Connected");
  await expect(page.getByText(/Zoho is limiting requests right now; zportal will try again after/)).toBeVisible();
});

test("a save Zoho fails keeps what was typed, and pressing Save again saves it once", async ({ page, request }) => {
  const name = `Steadfast ${Date.now().toString(36)}`;
  await signIn(page, "sami@sa.zportal.test", "Saudi Arabia");
  await openLeads(page);
  await page.getByRole("button", { name: "New", exact: true }).click();
  await expect(page).toHaveURL(/\/m\/Leads\/new$/);
  await hydrated(page);
  await page.getByLabel("Last Name", { exact: true }).fill(name);
  await page.getByLabel("Company", { exact: true }).fill("Steadfast Ltd");

  // The insert fails at Zoho; a write is never retried behind the user's back.
  await control(request, "faults", { kind: "http_503", endpoint: "records", dc: "sa", count: 1 });
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await expect(page.getByRole("alert")).toContainText("Zoho could not be reached. Please try again shortly.");
  await expect(page).toHaveURL(/\/m\/Leads\/new$/);
  await expect(page.getByLabel("Last Name", { exact: true })).toHaveValue(name);
  await expect(page.getByLabel("Company", { exact: true })).toHaveValue("Steadfast Ltd");

  await page.getByRole("button", { name: "Save", exact: true }).click();
  await expect(page).toHaveURL(/\/m\/Leads\/\d{19}$/);
  await expect(page.getByRole("heading", { name, level: 1 })).toBeVisible();

  await openLeads(page);
  await page.getByRole("searchbox", { name: "Search" }).fill(name);
  await page.getByRole("searchbox", { name: "Search" }).press("Enter");
  await expect(page.getByRole("link", { name })).toBeVisible();
  await expect(page.locator("tbody tr")).toHaveCount(1);
});
