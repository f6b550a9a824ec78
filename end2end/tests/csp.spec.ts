// The Content-Security-Policy zportal sends must let the app do everything a person does — hydrate,
// sign in through Zoho, list, open and edit records — and the browser must report no violation.
import { test, expect } from "@playwright/test";
import { hydrated, signIn } from "./helpers";

test("the app hydrates, signs in and works under its Content-Security-Policy with no violation", async ({ page }) => {
  const violations: string[] = [];
  page.on("console", (m) => {
    if (/Content Security Policy|Refused to (load|execute|connect|apply|frame|send form)/i.test(m.text())) {
      violations.push(m.text());
    }
  });
  await page.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) => {
      const w = window as unknown as { __csp?: string[] };
      w.__csp = (w.__csp ?? []).concat(`${e.violatedDirective} ${e.blockedURI}`);
    });
  });

  const home = await page.goto("/");
  const csp = home?.headers()["content-security-policy"] ?? "";
  expect(csp).toContain("'wasm-unsafe-eval'");
  expect(csp).toMatch(/script-src 'self' 'nonce-[0-9a-f]+'/);
  expect(csp).toContain("frame-ancestors 'none'");
  await hydrated(page);

  await signIn(page, "ada@us.zportal.test");
  await page.goto("/m/Leads");
  await hydrated(page);
  await page.getByRole("link", { name: "Lead 2500" }).click();
  await expect(page.getByRole("heading", { name: "Lead 2500" })).toBeVisible();
  await page.getByRole("button", { name: "Edit" }).click();
  await expect(page.getByLabel("Last Name")).toBeVisible();
  // A full load of a deep page, hydrated under its own nonce.
  await page.reload();
  await hydrated(page);

  const reported = await page.evaluate(() => (window as unknown as { __csp?: string[] }).__csp ?? []);
  expect(reported).toEqual([]);
  expect(violations).toEqual([]);
});
