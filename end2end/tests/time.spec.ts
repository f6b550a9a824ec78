// Dates and times show in the browser's time zone (here Tokyo), whatever zone the server is in.
import { test, expect, Page } from "@playwright/test";
import { hydrated, signIn } from "./helpers";

test.use({ timezoneId: "Asia/Tokyo", locale: "en-US" });

async function expectLocal(page: Page, testId: string) {
  const time = page.getByTestId(testId).locator("time");
  const instant = await time.getAttribute("datetime");
  expect(instant).toBeTruthy();
  const local = new Date(instant!).toLocaleString("en-US", { timeZone: "Asia/Tokyo" });
  await expect(time).toHaveText(local);
}

test("the Connection page and a record page show times in the browser's zone", async ({ page }) => {
  await signIn(page, "sami@sa.zportal.test", "Saudi Arabia");
  await page.goto("/connection");
  await hydrated(page);
  await expectLocal(page, "expiry");

  await page.goto("/m/Leads");
  await hydrated(page);
  await page.locator("tbody a").first().click();
  await hydrated(page);
  const created = page.locator("dt", { hasText: "Created Time" }).locator("xpath=following-sibling::dd[1]/time");
  const instant = await created.getAttribute("datetime");
  expect(instant).toMatch(/\+00:00$/);
  await expect(created).toHaveText(new Date(instant!).toLocaleString("en-US", { timeZone: "Asia/Tokyo" }));
});
