// Accessibility: axe-core (WCAG 2.2 A and AA) finds nothing on any page, nor on live pages' marks
// (a row marked new, an open form's changed-meanwhile notice) and a save's conflict notice, in
// light and dark, at desktop and phone widths; and a record can be created and saved with the
// keyboard alone.
import { baseURL } from "../site";
import { test, expect, Page, Locator } from "@playwright/test";
import AxeBuilder from "@axe-core/playwright";
import { hydrated, signIn } from "./helpers";

const TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"];

async function expectNoViolations(page: Page, what: string) {
  // What is judged is the settled page: a list dims while a page of it is in flight.
  await expect(page.locator("[aria-busy=true]")).toHaveCount(0);
  const result = await new AxeBuilder({ page }).withTags(TAGS).analyze();
  const found = result.violations.map(
    (v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.length} node(s), e.g. ${v.nodes[0]?.target.join(" ")}`,
  );
  expect(found, what).toEqual([]);
}

/** Opens the first record of `module` from its list. */
async function firstRecord(page: Page, module: string) {
  await page.goto(`/m/${module}`);
  await hydrated(page);
  await page.locator("tbody a").first().click();
  await expect(page).toHaveURL(new RegExp(`/m/${module}/\\d{19}$`));
  await hydrated(page);
}

for (const theme of ["light", "dark"] as const) {
  for (const [device, viewport] of [
    ["desktop", { width: 1280, height: 800 }],
    ["phone", { width: 360, height: 740 }],
  ] as const) {
    test(`every page passes axe in the ${theme} theme on a ${device}`, async ({ page }) => {
      test.setTimeout(120_000);
      await page.setViewportSize(viewport);
      await page.context().addCookies([{ name: "zportal_theme", value: theme, url: baseURL }]);
      await page.goto("/");
      await hydrated(page);
      await expect(page.locator("html")).toHaveAttribute("data-theme", theme);
      await expectNoViolations(page, "signed-out home");
      await page.goto("/auth/error?reason=access_denied");
      await hydrated(page);
      await expectNoViolations(page, "sign-in error");

      await signIn(page, "ada@us.zportal.test");
      await expectNoViolations(page, "signed-in home");
      for (const path of ["/connection", "/m/Leads", "/m/Deals", "/m/Deals?view=board", "/m/Leads/new", "/m/Contacts/new", "/nowhere"]) {
        await page.goto(path);
        await hydrated(page);
        await expect(page.locator("main h1")).toBeVisible();
        await expectNoViolations(page, path);
      }
      await firstRecord(page, "Accounts");
      await expect(page.getByRole("heading", { name: "History", level: 2 })).toBeVisible();
      await expectNoViolations(page, "an Account's page");
      // The page is no wider than the screen.
      const wide = await page.evaluate(() => document.documentElement.scrollWidth);
      expect(wide).toBeLessThanOrEqual(viewport.width);
    });
    test(`live pages' marks and a save's conflict notice pass axe in the ${theme} theme on a ${device}`, async ({ page, browser }) => {
      test.setTimeout(60_000);
      await page.setViewportSize(viewport);
      await page.context().addCookies([{ name: "zportal_theme", value: theme, url: baseURL }]);
      await signIn(page, "ada@us.zportal.test");
      const ben = await (await browser.newContext()).newPage();
      await signIn(ben, "ben@us.zportal.test");
      // Ada's list is open when ben adds a Lead to it: the row comes in marked "New".
      const name = `Axe ${theme} ${device} ${Date.now().toString(36)}`;
      await page.goto("/m/Leads");
      await hydrated(page);
      await page.getByRole("searchbox", { name: "Search" }).fill(name);
      await page.getByRole("searchbox", { name: "Search" }).press("Enter");
      await expect(page.getByText("No Leads match this search.")).toBeVisible();
      await ben.goto("/m/Leads/new");
      await hydrated(ben);
      await ben.getByLabel("Last Name", { exact: true }).fill(name);
      await ben.getByRole("button", { name: "Save", exact: true }).click();
      await expect(ben).toHaveURL(/\/m\/Leads\/\d{19}$/);
      const record = new URL(ben.url()).pathname;
      await expect(page.locator("tr.new-row .badge-new")).toBeVisible({ timeout: 15_000 });
      await expectNoViolations(page, "a row marked new");

      // Both edit it; ben saves first: ada's open form says so, then her save is a conflict.
      for (const p of [page, ben]) {
        await p.goto(`${record}/edit`);
        await hydrated(p);
      }
      await ben.getByLabel("Company", { exact: true }).fill("Ben's Co");
      await ben.getByRole("button", { name: "Save", exact: true }).click();
      await expect(ben).toHaveURL(record);
      await expect(page.locator(".notice.meanwhile")).toBeVisible({ timeout: 15_000 });
      await expectNoViolations(page, "the changed-meanwhile notice");
      await page.getByLabel("Company", { exact: true }).fill("Ada's Co");
      await page.getByRole("button", { name: "Save", exact: true }).click();
      await expect(page.locator("#save-conflict")).toBeVisible();
      await expectNoViolations(page, "the conflict notice");
      const wide = await page.evaluate(() => document.documentElement.scrollWidth);
      expect(wide).toBeLessThanOrEqual(viewport.width);
    });
  }
}

/** Presses Tab until `target` has the focus (at most 80 times). */
async function tabTo(page: Page, target: Locator) {
  for (let i = 0; i < 80; i++) {
    if (await target.evaluate((el) => el === document.activeElement).catch(() => false)) {
      return;
    }
    await page.keyboard.press("Tab");
  }
  throw new Error("Tab never reached the element");
}

test("a Lead is created and saved with the keyboard alone", async ({ page }) => {
  const name = `Keys ${Date.now().toString(36)}`;
  await signIn(page, "ada@us.zportal.test");
  await page.goto("/m/Leads");
  await hydrated(page);
  await tabTo(page, page.getByRole("button", { name: "New", exact: true }));
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(/\/m\/Leads\/new$/);
  await hydrated(page);
  await expect(page.getByRole("heading", { name: "New Lead", level: 1 })).toBeFocused();

  await tabTo(page, page.getByLabel("Last Name", { exact: true }));
  await page.keyboard.type(name);
  await page.keyboard.press("Tab");
  await page.keyboard.type("Keyboard Co");
  await tabTo(page, page.getByRole("button", { name: "Save", exact: true }));
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(/\/m\/Leads\/\d{19}$/);
  await expect(page.getByRole("heading", { name, level: 1 })).toBeVisible();
  await expect(page.getByRole("status").filter({ hasText: "Lead saved." })).toBeVisible();
});
