// Shared steps of the browser tests: waiting for hydration, and signing in through the emulator's
// Zoho page the way a person does.
import { expect, Page, APIRequestContext } from "@playwright/test";

export const port = Number(process.env.ZPORTAL_E2E_PORT ?? 3400);
export const emulator = `http://127.0.0.1:${port + 1}`;

export async function hydrated(page: Page) {
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
}

/** At zportal's sign-in page, choose a data center and sign in as `email`. */
export async function signIn(page: Page, email: string, dataCenter = "United States") {
  // Zoho grants a client 10 codes per 10 minutes, and this suite signs in far more often than that.
  const res = await page.request.post(`${emulator}/__emulator/config`, {
    data: { limits: { codes_per_client: 1000 } },
  });
  expect(res.ok()).toBeTruthy();
  await page.goto("/");
  await hydrated(page);
  await page.getByLabel("Data center").selectOption({ label: dataCenter });
  await page.getByRole("button", { name: "Sign in with Zoho" }).click();
  await acceptAtZoho(page, email);
}

/** On the emulator's Zoho sign-in page: type the email and accept. */
export async function acceptAtZoho(page: Page, email: string) {
  await expect(page.getByRole("heading", { name: "Sign in to Zoho" })).toBeVisible();
  await page.getByLabel("Email").fill(email);
  await page.getByRole("button", { name: "Accept" }).click();
  await page.waitForURL((url) => url.port === String(port));
  await hydrated(page);
}

/** A call to the emulator's control API. */
export async function control(request: APIRequestContext, path: string, body: object) {
  const res = await request.post(`${emulator}/__emulator/${path}`, { data: body });
  expect(res.ok()).toBeTruthy();
  return res.json();
}
