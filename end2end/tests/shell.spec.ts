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

test("the theme is a cookie the server renders: the first paint is already dark", async ({ page, context }) => {
  await openHydrated(page);
  const theme = page.getByLabel("Theme");
  await expect(theme).toHaveValue("system");
  await expect(page.locator("html")).not.toHaveAttribute("data-theme", /./);
  await theme.selectOption({ label: "Dark" });
  await expect(page.locator("html")).toHaveAttribute("data-theme", "dark");
  const cookie = (await context.cookies()).find((c) => c.name === "zportal_theme");
  expect(cookie?.value).toBe("dark");
  expect(cookie?.sameSite).toBe("Lax");
  expect(cookie!.expires - Date.now() / 1000).toBeGreaterThan(360 * 24 * 3600);

  // The HTML itself carries the theme, before any script runs; signed-out pages vary by cookie.
  const res = await page.request.get("/");
  expect(await res.text()).toContain('<html lang="en" data-theme="dark"');
  expect(res.headers()["vary"]).toMatch(/cookie/i);
  await openHydrated(page);
  await expect(page.getByLabel("Theme")).toHaveValue("dark");

  // System: no cookie, and the browser's own scheme decides, in CSS alone.
  await page.getByLabel("Theme").selectOption({ label: "System" });
  await expect(page.locator("html")).not.toHaveAttribute("data-theme", /./);
  expect((await context.cookies()).map((c) => c.name)).not.toContain("zportal_theme");
  await page.emulateMedia({ colorScheme: "dark" });
  const dark = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  await page.emulateMedia({ colorScheme: "light" });
  const light = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  expect(dark).not.toBe(light);
});

test("a theme an earlier zportal kept in localStorage moves to the cookie once", async ({ page, context }) => {
  await page.addInitScript(() => {
    if (!sessionStorage.getItem("seeded")) {
      sessionStorage.setItem("seeded", "1");
      localStorage.setItem("zportal.theme", JSON.stringify("dark"));
    }
  });
  await openHydrated(page);
  await expect(page.locator("html")).toHaveAttribute("data-theme", "dark");
  await expect.poll(async () => (await context.cookies()).find((c) => c.name === "zportal_theme")?.value).toBe("dark");
  expect(await page.evaluate(() => localStorage.getItem("zportal.theme"))).toBeNull();
  // From now on the server renders it.
  expect(await (await page.request.get("/")).text()).toContain('data-theme="dark"');
});

test("the signed-out sign-in form works with scripts off", async ({ browser }) => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto("/");
  await expect(page.locator('meta[name="description"]')).toHaveAttribute("content", /Zoho CRM/);
  await page.getByLabel("Data center").selectOption({ label: "Europe" });
  await page.getByRole("button", { name: "Sign in with Zoho" }).click();
  await expect(page.getByRole("heading", { name: "Sign in to Zoho" })).toBeVisible();
  expect(new URL(page.url()).pathname).toContain("/eu/");
  await context.close();
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
