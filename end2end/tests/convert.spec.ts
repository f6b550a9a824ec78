// Converting a lead: ada makes a Lead with a Company, opens "Convert lead", asks for a deal and
// converts (with a double click: one conversion). She lands on the new Contact, a toast links what
// was made, and the Contact's Deals list shows the deal. Meanwhile ben's open search of Leads drops
// the Lead and his open page of it says "Converted to …", both without a reload. axe finds nothing
// on the dialog. Bounds are generous: the bench measures.
import { test, expect, Page } from "@playwright/test";
import AxeBuilder from "@axe-core/playwright";
import { hydrated, signIn } from "./helpers";
import { baseURL } from "../site";

const TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"];
const LIVE = { timeout: 15_000 };
const unique = () => `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;

async function expectNoViolations(page: Page, what: string) {
  await expect(page.locator("[aria-busy=true]")).toHaveCount(0);
  const result = await new AxeBuilder({ page }).withTags(TAGS).analyze();
  const found = result.violations.map(
    (v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.length} node(s), e.g. ${v.nodes[0]?.target.join(" ")}`,
  );
  expect(found, what).toEqual([]);
}

test("ada converts a lead with a new deal and lands on the contact; ben sees it go, live", async ({ page, browser }) => {
  test.setTimeout(120_000);
  const word = unique();
  const name = `Convert ${word}`;
  const company = `Convert Co ${word}`;
  const dealName = `Deal ${word}`;

  await signIn(page, "ada@us.zportal.test");
  await page.goto("/m/Leads/new");
  await hydrated(page);
  await page.getByLabel("Last Name", { exact: true }).fill(name);
  await page.getByLabel("Company", { exact: true }).fill(company);
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await expect(page).toHaveURL(/\/m\/Leads\/\d{19}$/);
  const leadPath = new URL(page.url()).pathname;
  await expect(page.getByRole("heading", { name, level: 1 })).toBeVisible();
  await hydrated(page);

  // ben has a search of Leads open that finds it, and the Lead's own page in another tab.
  const bens = await browser.newContext({ baseURL });
  const benList = await bens.newPage();
  await signIn(benList, "ben@us.zportal.test");
  await benList.goto("/m/Leads");
  await hydrated(benList);
  const search = benList.getByRole("searchbox", { name: "Search" });
  await search.fill(word);
  await search.press("Enter");
  await expect(benList.getByRole("row").filter({ hasText: name })).toHaveCount(1, LIVE);
  const benLead = await bens.newPage();
  await benLead.goto(leadPath);
  await expect(benLead.getByRole("heading", { name, level: 1 })).toBeVisible();
  await hydrated(benLead);

  await page.getByRole("button", { name: "Convert", exact: true }).click();
  const dialog = page.getByRole("dialog", { name: "Convert lead" });
  await expect(dialog).toBeVisible();
  const account = dialog.getByRole("radiogroup", { name: "Account" });
  await expect(account.getByRole("radio", { name: `New: ${company}` })).toBeChecked();
  await expect(account.getByRole("radio", { name: "No account" })).toHaveCount(0);
  const contact = dialog.getByRole("radiogroup", { name: "Contact" });
  await expect(contact.getByRole("radio", { name: `New: ${name}` })).toBeChecked();
  await expect(dialog.getByText("notes, attachments and open activities move to the contact")).toBeVisible();
  await dialog.getByRole("checkbox", { name: "Create a deal" }).check();
  await expect(dialog.getByLabel("Deal Name", { exact: true })).toHaveValue(company);
  await dialog.getByLabel("Deal Name", { exact: true }).fill(dealName);
  await dialog.getByLabel("Closing Date", { exact: true }).fill("2027-03-31");
  await dialog.getByLabel("Stage", { exact: true }).selectOption("Qualification");
  await dialog.getByLabel("Amount", { exact: true }).fill("1250");
  // The emulator's org has no pipelines, so the dialog offers none.
  await expect(dialog.getByLabel("Pipeline", { exact: true })).toHaveCount(0);
  await expectNoViolations(page, "the Convert lead dialog");

  await dialog.getByRole("button", { name: "Convert now" }).dblclick();
  await expect(page).toHaveURL(/\/m\/Contacts\/\d{19}$/, LIVE);
  const contactPath = new URL(page.url()).pathname;
  await expect(page.getByRole("heading", { name, level: 1 })).toBeVisible();
  const toast = page.getByRole("status").filter({ hasText: "Lead converted into" });
  await expect(toast.getByRole("link", { name: `${name} (contact)` })).toHaveAttribute("href", contactPath);
  await expect(toast.getByRole("link", { name: `${company} (account)` })).toHaveAttribute("href", /^\/m\/Accounts\/\d{19}$/);
  await expect(toast.getByRole("link", { name: `${dealName} (deal)` })).toHaveAttribute("href", /^\/m\/Deals\/\d{19}$/);
  // The Contact's Deals list shows the deal.
  await hydrated(page);
  const deals = page.getByRole("region", { name: "Deals", exact: true });
  await expect(deals.getByRole("link", { name: dealName })).toBeVisible(LIVE);

  // ben's search drops the Lead, and his page of it says what it became, without a reload.
  await expect(benList.getByRole("row").filter({ hasText: name })).toHaveCount(0, LIVE);
  const notice = benLead.getByText(`Converted to ${name}`);
  await expect(notice).toBeVisible(LIVE);
  await expect(notice.getByRole("link", { name, exact: true })).toHaveAttribute("href", contactPath);
  await expect(notice.getByRole("link", { name: dealName })).toHaveAttribute("href", /^\/m\/Deals\/\d{19}$/);
  await expect(benLead.getByRole("button", { name: "Convert", exact: true })).toHaveCount(0);
  await bens.close();
});

test("a lead without a company converts without an account", async ({ page }) => {
  test.setTimeout(90_000);
  const name = `Solo ${unique()}`;
  await signIn(page, "ada@us.zportal.test");
  await page.goto("/m/Leads/new");
  await hydrated(page);
  await page.getByLabel("Last Name", { exact: true }).fill(name);
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await expect(page).toHaveURL(/\/m\/Leads\/\d{19}$/);
  await hydrated(page);

  const convert = page.getByRole("button", { name: "Convert", exact: true });
  await convert.click();
  const dialog = page.getByRole("dialog", { name: "Convert lead" });
  await expect(dialog.getByRole("radiogroup", { name: "Account" }).getByRole("radio", { name: "No account" })).toBeChecked();
  // Escape closes it, and the focus goes back to "Convert".
  await page.keyboard.press("Escape");
  await expect(dialog).toHaveCount(0);
  await expect(convert).toBeFocused();
  await convert.click();
  await dialog.getByRole("button", { name: "Convert now" }).click();
  await expect(page).toHaveURL(/\/m\/Contacts\/\d{19}$/, LIVE);
  await expect(page.getByRole("heading", { name, level: 1 })).toBeVisible();
  const toast = page.getByRole("status").filter({ hasText: "Lead converted into" });
  await expect(toast.getByRole("link")).toHaveCount(1);
});
