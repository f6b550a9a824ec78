// A lookup keeps what the person meant: a combobox whose keys move and pick (Enter never submits
// the form), whose choice is a removable chip, and whose typed-but-unpicked text blocks saving.
import { test, expect } from "@playwright/test";
import { hydrated, signIn } from "./helpers";

test("Enter in a lookup picks a match and never saves the form without it", async ({ page }) => {
  const last = `Lookup ${Date.now().toString(36)}`;
  await signIn(page, "ada@us.zportal.test");
  await page.goto("/m/Contacts/new");
  await hydrated(page);
  await page.getByLabel("Last Name", { exact: true }).fill(last);

  const lookup = page.getByRole("combobox", { name: "Account Name" });
  await lookup.fill("Account 01");
  const options = page.getByRole("listbox", { name: "Account Name matches" }).getByRole("option");
  await expect(options.first()).toBeVisible();
  expect(await options.count()).toBeGreaterThan(1);

  // Enter with several matches and none chosen: no pick, and above all no save.
  await lookup.press("Enter");
  await expect(page).toHaveURL(/\/m\/Contacts\/new$/);
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await expect(page).toHaveURL(/\/m\/Contacts\/new$/);
  await expect(page.locator("#f-Account_Name-error")).toContainText("Pick one of the matches");
  await expect(lookup).toBeFocused();
  await expect(page.getByRole("status").filter({ hasText: "Not saved" })).toBeVisible();

  // Arrows move through the matches; Esc closes the list; Enter picks the highlighted one.
  await lookup.press("ArrowDown");
  await lookup.press("ArrowDown");
  await expect(options.nth(1)).toHaveAttribute("aria-selected", "true");
  await expect(lookup).toHaveAttribute("aria-activedescendant", /opt-1$/);
  await lookup.press("Escape");
  await expect(page.getByRole("listbox", { name: "Account Name matches" })).toBeHidden();
  await lookup.press("ArrowDown");
  await lookup.press("ArrowDown");
  const wanted = (await options.nth(1).textContent())?.trim() ?? "";
  expect(wanted).toMatch(/^Account \d{3}$/);
  await lookup.press("Enter");
  await expect(page).toHaveURL(/\/m\/Contacts\/new$/);
  await expect(lookup).toBeFocused();
  await expect(page.locator(".lookup .chip")).toHaveText(new RegExp(`^${wanted}`));
  await expect(page.locator("#f-Account_Name-error")).toBeEmpty();

  // The chip can be removed and a choice made again; then Save keeps it.
  await page.getByRole("button", { name: `Remove ${wanted} from Account Name` }).click();
  await expect(page.locator(".lookup .chip")).toHaveCount(0);
  await expect(lookup).toBeFocused();
  await lookup.fill("Account 01");
  // The arrows walk the matches of what was typed: wait for them to be in.
  await expect(options.nth(1)).toHaveText(wanted);
  await lookup.press("ArrowDown");
  await lookup.press("ArrowDown");
  await expect(options.nth(1)).toHaveAttribute("aria-selected", "true");
  await lookup.press("Enter");
  await expect(page.locator(".lookup .chip")).toHaveText(new RegExp(`^${wanted}`));
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await expect(page).toHaveURL(/\/m\/Contacts\/\d{19}$/);
  await expect(page.getByRole("definition").getByRole("link", { name: wanted })).toBeVisible();
});
