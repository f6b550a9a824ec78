// The app shell: server-rendered, then hydrated; a browser preference and a server function.
import { test, expect, Page } from "@playwright/test";

async function openHydrated(page: Page, path = "/") {
  await page.goto(path);
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
}

test("the signed-out page offers sign-in and hydrates", async ({ page }) => {
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await openHydrated(page);
  await expect(page.getByRole("link", { name: "zportal" })).toBeVisible();
  await expect(page.getByRole("button", { name: "Sign in with Zoho" })).toHaveCount(1);
  await expect(page.getByLabel("Data center")).toBeVisible();
  expect(errors).toEqual([]);
});

test("the theme choice is kept in this browser across a reload", async ({ page }) => {
  await openHydrated(page);
  const toggle = page.getByRole("button", { name: "Dark theme" });
  await expect(toggle).toHaveAttribute("aria-pressed", "false");
  await toggle.click();
  await expect(toggle).toHaveAttribute("aria-pressed", "true");
  await expect(page.locator("html")).toHaveAttribute("data-theme", "dark");

  await openHydrated(page);
  await expect(page.getByRole("button", { name: "Dark theme" })).toHaveAttribute("aria-pressed", "true");
  await expect(page.locator("html")).toHaveAttribute("data-theme", "dark");
});

test("choosing a data center round-trips a server function into the session", async ({ page, context }) => {
  await openHydrated(page);
  expect((await context.cookies()).map((c) => c.name)).not.toContain("zportal_session");

  await page.getByLabel("Data center").selectOption({ label: "Europe" });
  await expect(page.getByText(/You will sign in at Zoho Europe/)).toBeVisible();

  const cookie = (await context.cookies()).find((c) => c.name === "zportal_session");
  expect(cookie, "the server function created the session").toBeTruthy();
  expect(cookie!.httpOnly).toBe(true);
  expect(cookie!.sameSite).toBe("Lax");

  // The server renders the remembered choice straight away, before any WASM runs.
  const html = await (await page.request.get("/")).text();
  expect(html).toMatch(/<option value="eu" selected/);
  await openHydrated(page);
  await expect(page.getByLabel("Data center")).toHaveValue("eu");
});

test("an unknown route says so with a 404", async ({ page }) => {
  const response = await page.goto("/no/such/page");
  expect(response?.status()).toBe(404);
  await expect(page.getByRole("heading", { name: "Page not found" })).toBeVisible();
});
