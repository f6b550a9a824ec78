// Signing in with Zoho through the emulator's sign-in page, as a person does it.
import { test, expect, Browser } from "@playwright/test";
import { acceptAtZoho, emulator, hydrated, signIn } from "./helpers";

async function newPage(browser: Browser) {
  const context = await browser.newContext();
  return context.newPage();
}

test("two people in two data centers sign in at once and each sees only their own account", async ({ browser }) => {
  const ada = await newPage(browser);
  const eva = await newPage(browser);
  await Promise.all([signIn(ada, "ada@us.zportal.test"), signIn(eva, "eva@eu.zportal.test", "Europe")]);

  const adaAccount = ada.getByTestId("account");
  await expect(adaAccount).toContainText("ada@us.zportal.test");
  await expect(adaAccount).toContainText("Acme Corp");
  await expect(adaAccount).not.toContainText("eva@");
  const evaAccount = eva.getByTestId("account");
  await expect(evaAccount).toContainText("eva@eu.zportal.test");
  await expect(evaAccount).toContainText("Euro GmbH");
  await expect(evaAccount).not.toContainText("ada@");
  await expect(ada.getByRole("button", { name: "Sign in with Zoho" })).toHaveCount(0);
  // The browser holds no token: only the opaque session cookie.
  const html = await ada.content();
  expect(html).not.toMatch(/1000\.[0-9a-f]{32}\.[0-9a-f]{32}/);
});

test("ada adds ben's account, switches between them, and signs out", async ({ page }) => {
  await signIn(page, "ada@us.zportal.test");
  await page.getByRole("button", { name: "Add account" }).click();
  await acceptAtZoho(page, "ben@us.zportal.test");
  const account = page.getByTestId("account");
  await expect(account.locator(".email")).toHaveText("ben@us.zportal.test");

  await page.getByLabel("Account").selectOption({ label: "ada@us.zportal.test (Acme Corp)" });
  await page.getByRole("button", { name: "Switch account" }).click();
  await hydrated(page);
  await expect(account.locator(".email")).toHaveText("ada@us.zportal.test");

  await page.getByRole("button", { name: "Sign out" }).click();
  await hydrated(page);
  await expect(page.getByRole("button", { name: "Sign in with Zoho" })).toBeVisible();
  await expect(page.getByTestId("account")).toHaveCount(0);
});

test("disconnect revokes the refresh token at Zoho", async ({ page, request }) => {
  await signIn(page, "uma@uk.zportal.test", "United Kingdom");
  const before = await (await request.get(`${emulator}/__emulator/requests`)).json();
  const since = before.requests.length ? before.requests[before.requests.length - 1].seq : 0;

  await page.getByRole("button", { name: "Disconnect" }).click();
  await hydrated(page);
  await expect(page.getByRole("button", { name: "Sign in with Zoho" })).toBeVisible();

  const after = await (await request.get(`${emulator}/__emulator/requests?since=${since}`)).json();
  const revokes = after.requests.filter((r: { endpoint: string; dc: string }) => r.endpoint === "revoke");
  expect(revokes).toHaveLength(1);
  expect(revokes[0].dc).toBe("uk");
  expect(revokes[0].status).toBe(200);
});

test("declining at Zoho lands on a page that says so", async ({ page }) => {
  await page.goto("/");
  await hydrated(page);
  await page.getByRole("button", { name: "Sign in with Zoho" }).click();
  await page.getByRole("button", { name: "Reject" }).click();
  await expect(page).toHaveURL(/\/auth\/error\?reason=access_denied/);
  await expect(page.getByRole("alert")).toHaveText("You declined access at Zoho, so you are not signed in.");
  await expect(page.getByRole("button", { name: "Sign in with Zoho" })).toBeVisible();
});

test("the Connection page shows the active connection, or offers to sign in", async ({ page }) => {
  await page.goto("/connection");
  await hydrated(page);
  await expect(page.getByRole("alert")).toHaveText("You are not signed in.");
  await expect(page.getByRole("button", { name: "Sign in with Zoho" })).toBeVisible();

  await signIn(page, "jun@jp.zportal.test", "Japan");
  await page.goto("/connection");
  await hydrated(page);
  await expect(page.getByTestId("status")).toHaveText("Connected");
  await expect(page.getByText("Japan (jp)")).toBeVisible();
  await expect(page.getByText("Sakura KK (zgid 70005)")).toBeVisible();
  await expect(page.getByText("ZohoCRM.org.READ")).toBeVisible();
  await expect(page.getByTestId("expiry").locator("time")).toHaveAttribute("datetime", /Z$/);
});
