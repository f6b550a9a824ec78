// Zoho's daily API limit, as a person meets it: the Connection page shows the credits the org has
// spent against its budget; once Zoho says they are used up, every page says so and when zportal
// tries again. The test's user has an org of their own, so no other test's org runs dry.
import { test, expect, Page } from "@playwright/test";
import { control, hydrated, signIn } from "./helpers";

async function open(page: Page, path: string) {
  await page.goto(path);
  await hydrated(page);
}

test("when the org's daily Zoho API limit is used up, every page says so and when zportal tries again", async ({ page, request }) => {
  const tag = Date.now().toString(36);
  const org = { org_zgid: `79${Date.now() % 1_000_000}`, org_name: `Thrifty ${tag} Ltd` };
  const email = `pat.${tag}@us.zportal.test`;
  await control(request, "users", { email, dc: "us", ...org });
  await signIn(page, email);

  await open(page, "/m/Leads");
  await expect(page.getByRole("alert")).toHaveCount(0);
  await open(page, "/connection");
  // Enterprise: 50,000 credits a day and 1,000 per licensed user (one here).
  await expect(page.getByTestId("credits")).toHaveText(/^\d+ of 51,000 \(0 %\)$/);
  await expect(page.getByTestId("credits-warning")).toHaveCount(0);

  await control(request, "credits", { org_zgid: org.org_zgid, remaining: 0 });
  const message = new RegExp(
    `Zoho's daily API limit for ${org.org_name} is used up; zportal tries again at .+\\.`,
  );
  // The first page meets Zoho's refusals through every retry (a few seconds), then says why.
  // (A page not read moments ago: the Leads read above may still be answered again.)
  await open(page, "/m/Deals");
  await expect(page.getByRole("alert")).toContainText(message, { timeout: 15_000 });
  // Every other page says the same at once: zportal leaves Zoho alone for this org meanwhile.
  await open(page, "/m/Contacts");
  await expect(page.getByRole("alert")).toContainText(message);
  await open(page, "/connection");
  await expect(page.locator(".notice")).toContainText(
    `Zoho's daily API limit for ${org.org_name} is used up`,
  );
});
