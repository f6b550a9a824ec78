// Silent refresh as a person sees it: the page keeps working after the token expires, and after a
// revoke "Reconnect" brings them back where they were.
import { test, expect } from "@playwright/test";
import { acceptAtZoho, control, hydrated, signIn } from "./helpers";

test("after the access token expires the page keeps working and shows the new expiry", async ({ page, request }) => {
  await signIn(page, "ish@in.zportal.test", "India");
  await page.goto("/connection");
  await hydrated(page);
  await expect(page.getByTestId("status")).toHaveText("Connected");
  await expect(page.getByTestId("last-refresh")).toHaveText("never");
  const before = await page.getByTestId("expiry").textContent();

  // Expiry shows to the second: let one pass, so the renewed token's expiry reads differently.
  await page.waitForTimeout(1100);
  // Zoho's clock moves an hour on and the token dies there; zportal's clock does not move.
  await control(request, "clock/advance", { seconds: 3700 });
  await control(request, "tokens/expire", { email: "ish@in.zportal.test" });

  await page.reload();
  await hydrated(page);
  await expect(page.getByTestId("status")).toHaveText("Connected");
  await expect(page.getByTestId("last-refresh")).not.toHaveText("never");
  await expect(page.getByTestId("expiry")).not.toHaveText(before ?? "");
});

test("Reconnect after a revoke brings the user back to the same page", async ({ page, request }) => {
  await signIn(page, "ava@au.zportal.test", "Australia");
  await page.goto("/connection");
  await hydrated(page);
  await expect(page.getByTestId("status")).toHaveText("Connected");

  await control(request, "tokens/revoke", { email: "ava@au.zportal.test" });
  await page.reload();
  await hydrated(page);
  await expect(page.getByTestId("status")).toHaveText("Needs reconnect");
  await page.getByRole("button", { name: "Reconnect" }).click();
  await acceptAtZoho(page, "ava@au.zportal.test");
  await expect(page).toHaveURL(/\/connection$/);
  await expect(page.getByTestId("status")).toHaveText("Connected");
  await expect(page.getByRole("button", { name: "Reconnect" })).toHaveCount(0);
});
