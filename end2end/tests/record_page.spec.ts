// A record page a team works in: the header, grouped fields with money in the reader's locale,
// and the sections that load after the fields — notes, attachments, history, related lists.
import { test, expect, Page } from "@playwright/test";
import { acceptAtZoho, control, hydrated, signIn } from "./helpers";

test.use({ locale: "en-US" });

/** Opens the record `name` of `module` by searching its list, as a person does. */
async function openRecord(page: Page, module: string, name: string) {
  await page.goto(`/m/${module}`);
  await hydrated(page);
  await page.getByRole("searchbox", { name: "Search" }).fill(name);
  await page.getByRole("searchbox", { name: "Search" }).press("Enter");
  await page.locator("tbody").getByRole("link", { name, exact: true }).click();
  await expect(page).toHaveURL(new RegExp(`/m/${module}/\\d{19}$`));
  await hydrated(page);
  await expect(page.getByRole("heading", { name, level: 1 })).toBeVisible();
}

const section = (page: Page, name: string) =>
  page.getByRole("region", { name, exact: true });

test("an Account shows its Contacts and Deals, each row leading to its record", async ({ page }) => {
  await signIn(page, "ada@us.zportal.test");
  await openRecord(page, "Accounts", "Account 001");
  await expect(page).toHaveTitle(/Account 001/);
  for (const name of ["Notes", "Attachments", "History", "Contacts", "Deals"]) {
    await expect(page.getByRole("heading", { name, level: 2, exact: true })).toBeVisible();
  }
  // Notes and Attachments are sections of their own, not repeated as related lists.
  await expect(page.getByRole("heading", { name: "Notes", exact: true })).toHaveCount(1);
  const contacts = section(page, "Contacts");
  await expect(contacts.getByRole("row")).not.toHaveCount(0);
  await expect(section(page, "Deals").getByRole("link", { name: /^Deal \d{3}$/ }).first()).toBeVisible();
  // A Deal's Amount reads as money, grouped and with the org's currency, not as bare digits.
  await expect(section(page, "Deals").locator("tbody tr").first()).toContainText(/\d{1,3}(,\d{3})*\.00 USD/);

  // "New" in a related list starts a record already linked to this one.
  await contacts.getByRole("button", { name: "New" }).click();
  await expect(page).toHaveURL(/\/m\/Contacts\/new\?parent=Accounts\.\d{19}$/);
  await hydrated(page);
  await expect(page.locator(".lookup .chip")).toHaveText(/^Account 001/);
  await page.goBack();
  await hydrated(page);

  const first = contacts.locator("tbody a").first();
  const name = (await first.textContent()) ?? "";
  await first.click();
  await expect(page).toHaveURL(/\/m\/Contacts\/\d{19}$/);
  await expect(page.getByRole("heading", { name, level: 1 })).toBeVisible();
});

test("the header names owner and status, and money reads in the reader's locale", async ({ page }) => {
  await signIn(page, "ada@us.zportal.test");
  await openRecord(page, "Deals", "Deal 001");
  await expect(page.locator(".record-meta")).toContainText("Owner: Ada Lovelace");
  await expect(page.locator(".record-meta .badge")).toContainText("Stage:");
  const amount = page.locator("dt", { hasText: /^Amount$/ }).locator("xpath=following-sibling::dd[1]");
  await expect(amount).toHaveText("$2,500.00");
  await expect(page.getByRole("heading", { name: "Record information", level: 2 })).toBeVisible();

  await openRecord(page, "Leads", "Lead 0001");
  await expect(page.getByRole("link", { name: "Email (Email)" })).toHaveAttribute("href", "mailto:lead0001@example.test");
  await expect(page.getByRole("link", { name: "Call (Phone)" })).toHaveAttribute("href", /^tel:\+1555/);
  // Empty fields are folded away, and open on request.
  const folded = page.locator("details.empty-fields").first();
  await expect(folded).not.toHaveAttribute("open", "");
  await folded.locator("summary").click();
  await expect(folded.locator("dd").first()).toBeVisible();
});

test("ada adds a note, edits it and deletes it; each shows in the History", async ({ page }) => {
  const text = `Called back ${Date.now().toString(36)}`;
  await signIn(page, "ada@us.zportal.test");
  await openRecord(page, "Leads", "Lead 0002");
  const notes = section(page, "Notes");
  await expect(notes.getByText("First call")).toBeVisible();

  await notes.getByRole("button", { name: "Add note" }).click();
  await expect(notes.getByText("Write the note first.")).toBeVisible();
  await notes.getByRole("textbox", { name: "New note" }).fill(text);
  await notes.getByRole("button", { name: "Add note" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Note added." })).toBeVisible();
  const mine = notes.getByRole("listitem").filter({ hasText: text });
  await expect(mine).toBeVisible();
  await expect(notes.getByRole("textbox", { name: "New note" })).toHaveValue("");

  await mine.getByRole("button", { name: "Edit note" }).click();
  // In place: the note's text is now in a box of its own (one note is edited at a time here).
  const editing = notes.getByRole("textbox", { name: "Note text" });
  await expect(editing).toHaveValue(text);
  await editing.fill(`${text}, twice`);
  await notes.getByRole("button", { name: "Save", exact: true }).click();
  await expect(notes.getByText(`${text}, twice`)).toBeVisible();

  await notes.getByRole("listitem").filter({ hasText: `${text}, twice` }).getByRole("button", { name: "Delete note" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Note deleted." })).toBeVisible();
  await expect(notes.getByText(`${text}, twice`)).toHaveCount(0);

  await page.reload();
  await hydrated(page);
  const history = section(page, "History");
  await expect(history.getByText("deleted the note", { exact: false }).first()).toBeVisible();
  await expect(history.getByText("changed the note", { exact: false }).first()).toBeVisible();
  await expect(history.getByText("created this lead")).toBeVisible();
});

test("a file is attached with progress, downloads as an attachment, and is removed", async ({ page }) => {
  const name = `notes-${Date.now().toString(36)}.html`;
  await signIn(page, "ada@us.zportal.test");
  await openRecord(page, "Leads", "Lead 0003");
  const files = section(page, "Attachments");
  await expect(files.getByText("No attachments yet.")).toBeVisible();

  await files.getByLabel("Attach a file").setInputFiles({
    name,
    mimeType: "text/html",
    buffer: Buffer.from("<script>document.title='owned'</script>"),
  });
  await expect(page.getByRole("status").filter({ hasText: "File attached." })).toBeVisible();
  const link = files.getByRole("link", { name });
  await expect(link).toBeVisible();

  const [download] = await Promise.all([page.waitForEvent("download"), link.click()]);
  expect(download.suggestedFilename()).toBe(name);
  const res = await page.request.get((await link.getAttribute("href"))!);
  expect(res.headers()["content-disposition"]).toContain("attachment");
  expect(res.headers()["content-security-policy"]).toBe("sandbox");
  expect(res.headers()["x-content-type-options"]).toBe("nosniff");
  expect(res.headers()["content-type"]).toBe("application/octet-stream");
  expect(await res.text()).toBe("<script>document.title='owned'</script>");

  // Too big is refused in the browser, before anything is sent.
  await files.getByLabel("Attach a file").setInputFiles({
    name: "huge.bin",
    mimeType: "application/octet-stream",
    buffer: Buffer.alloc(20 * 1024 * 1024 + 1),
  });
  await expect(files.getByText(/Zoho takes files of up to 20 MB/)).toBeVisible();

  await files.getByRole("listitem").filter({ hasText: name }).getByRole("button", { name: "Remove attachment" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Attachment removed." })).toBeVisible();
  await expect(files.getByRole("link", { name })).toHaveCount(0);
  await page.reload();
  await hydrated(page);
  await expect(section(page, "History").getByText(`removed the attachment “${name}”`)).toBeVisible();
  await expect(section(page, "History").getByText(`attached “${name}”`)).toBeVisible();
});

test("a field changed in the form shows in the History, from what to what", async ({ page }) => {
  const company = `Renamed ${Date.now().toString(36)}`;
  await signIn(page, "ada@us.zportal.test");
  await openRecord(page, "Leads", "Lead 0004");
  await page.getByRole("button", { name: "Edit", exact: true }).click();
  await hydrated(page);
  const before = await page.getByLabel("Company", { exact: true }).inputValue();
  await page.getByLabel("Company", { exact: true }).fill(company);
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await expect(page.getByRole("status").filter({ hasText: "Lead saved." })).toBeVisible();
  const change = section(page, "History").getByRole("listitem").filter({ hasText: "Company:" }).first();
  await expect(change).toContainText(`Company: ${before} → ${company}`);
});

test("when the connection needs reconnecting, the page itself offers Reconnect and comes back", async ({ page, request }) => {
  await signIn(page, "cleo@ca.zportal.test", "Canada");
  await page.goto("/m/Leads");
  await hydrated(page);
  await control(request, "tokens/revoke", { email: "cleo@ca.zportal.test" });
  await control(request, "tokens/expire", { email: "cleo@ca.zportal.test" });
  await page.goto("/m/Contacts");
  await hydrated(page);
  await expect(page.getByRole("alert")).toContainText("reconnect");
  await page.getByRole("button", { name: "Reconnect" }).first().click();
  await acceptAtZoho(page, "cleo@ca.zportal.test");
  await expect(page).toHaveURL(/\/m\/Contacts$/);
  await expect(page.getByRole("heading", { name: "Contacts", level: 1 })).toBeVisible();
});

test("every signed-in page has the module navigation, a skip link, and focus on the heading after navigating", async ({ page }) => {
  await signIn(page, "ada@us.zportal.test");
  const nav = page.getByRole("navigation", { name: "Modules" });
  for (const path of ["/", "/connection", "/m/Leads", "/m/Deals/new"]) {
    await page.goto(path);
    await hydrated(page);
    await expect(nav.getByRole("link", { name: "Deals", exact: true })).toBeVisible();
  }
  await page.goto("/m/Leads");
  await hydrated(page);
  await page.keyboard.press("Tab");
  await expect(page.getByRole("link", { name: "Skip to content" })).toBeFocused();
  await nav.getByRole("link", { name: "Contacts", exact: true }).click();
  await expect(page.getByRole("heading", { name: "Contacts", level: 1 })).toBeFocused();
  await expect(nav.getByRole("link", { name: "Contacts", exact: true })).toHaveAttribute("aria-current", "page");
});
