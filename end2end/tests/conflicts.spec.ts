// Two people of one org (ada and ben, each in a browser of their own) editing one record: a save
// writes only what its person changed, so changes to different fields merge without a word, and
// a field both changed is a conflict the second to save settles with "Keep mine" or "Use theirs";
// a card moved on the board meanwhile — on a page that has not heard of it yet — stays where the
// other person put it.
import { test, expect, Browser, Page } from "@playwright/test";
import { hydrated, signIn } from "./helpers";

const unique = () => `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;

async function person(browser: Browser, email: string): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  await signIn(page, email);
  return page;
}

/** Ada makes a Lead of her own for the test; its page's URL. */
async function newLead(page: Page, name: string): Promise<string> {
  await page.goto("/m/Leads/new");
  await hydrated(page);
  await page.getByLabel("Last Name", { exact: true }).fill(name);
  await page.getByLabel("Company", { exact: true }).fill("Shared Ltd");
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await expect(page).toHaveURL(/\/m\/Leads\/\d{19}$/);
  return new URL(page.url()).pathname;
}

async function edit(page: Page, record: string) {
  await page.goto(`${record}/edit`);
  await hydrated(page);
  await expect(page.getByRole("button", { name: "Save", exact: true })).toBeVisible();
}

async function save(page: Page) {
  await page.getByRole("button", { name: "Save", exact: true }).click();
}

const details = (page: Page) => page.getByRole("region", { name: "Details" });

test("changes to different fields of one record merge without a word", async ({ browser }) => {
  const [ada, ben] = [await person(browser, "ada@us.zportal.test"), await person(browser, "ben@us.zportal.test")];
  const record = await newLead(ada, `Merge ${unique()}`);
  await edit(ada, record);
  await edit(ben, record);

  await ben.getByLabel("Phone", { exact: true }).fill("+1 555 0199");
  await save(ben);
  await expect(ben).toHaveURL(record);

  await ada.getByLabel("Company", { exact: true }).fill("Merged Ltd");
  await save(ada);
  await expect(ada).toHaveURL(record);
  await expect(details(ada).getByText("Merged Ltd")).toBeVisible();
  await expect(details(ada).getByText("+1 555 0199")).toBeVisible();
});

test("a field both changed is a conflict: 'Use theirs' takes theirs, 'Keep mine' writes mine", async ({ browser }) => {
  const [ada, ben] = [await person(browser, "ada@us.zportal.test"), await person(browser, "ben@us.zportal.test")];
  const record = await newLead(ada, `Clash ${unique()}`);

  // Ben saves a Company while ada is typing hers.
  await edit(ada, record);
  await edit(ben, record);
  await ben.getByLabel("Company", { exact: true }).fill("Ben's Co");
  await save(ben);
  await expect(ben).toHaveURL(record);
  await ada.getByLabel("Company", { exact: true }).fill("Ada's Co");
  await ada.getByLabel("Phone", { exact: true }).fill("+1 555 0142");
  await save(ada);
  const alert = ada.getByRole("alert").filter({ hasText: "while you were editing" });
  await expect(alert).toContainText(/Ben .* changed this Lead while you were editing/);
  await expect(alert).toContainText("Nothing was saved.");
  // Ada pressed Save at the foot of the form: the notice at its top takes the focus, into view.
  await expect(alert).toBeFocused();
  await expect(alert.getByRole("listitem")).toHaveText("Company: theirs “Ben's Co”, yours “Ada's Co”");
  // The form stays open, as typed.
  await expect(ada).toHaveURL(`${record}/edit`);
  await expect(ada.getByLabel("Phone", { exact: true })).toHaveValue("+1 555 0142");

  // "Use theirs": Ben's value in the form, the rest as typed; saving then writes the rest.
  await alert.getByRole("button", { name: "Use theirs" }).click();
  await expect(alert).toHaveCount(0);
  await expect(ada.getByLabel("Company", { exact: true })).toHaveValue("Ben's Co");
  await expect(ada.getByLabel("Phone", { exact: true })).toHaveValue("+1 555 0142");
  await save(ada);
  await expect(ada).toHaveURL(record);
  await expect(details(ada).getByText("Ben's Co")).toBeVisible();
  await expect(details(ada).getByText("+1 555 0142")).toBeVisible();

  // Again, and "Keep mine": ada's value is written over ben's.
  await edit(ada, record);
  await edit(ben, record);
  await ben.getByLabel("Company", { exact: true }).fill("Ben's Second Co");
  await save(ben);
  await expect(ben).toHaveURL(record);
  await ada.getByLabel("Company", { exact: true }).fill("Ada's Own Co");
  await save(ada);
  await ada.getByRole("alert").getByRole("button", { name: "Keep mine" }).click();
  await expect(ada).toHaveURL(record);
  await expect(details(ada).getByText("Ada's Own Co")).toBeVisible();
  await ben.reload();
  await hydrated(ben);
  await expect(details(ben).getByText("Ada's Own Co")).toBeVisible();
});

test("a record deleted while it was being edited can be saved as a new one", async ({ browser }) => {
  const [ada, ben] = [await person(browser, "ada@us.zportal.test"), await person(browser, "ben@us.zportal.test")];
  const name = `Gone ${unique()}`;
  const record = await newLead(ada, name);
  await edit(ada, record);
  await ben.goto(record);
  await hydrated(ben);
  await ben.getByRole("button", { name: "Delete", exact: true }).click();
  await ben.getByRole("button", { name: "Yes, delete it" }).click();
  await expect(ben).toHaveURL(/\/m\/Leads$/);

  await ada.getByLabel("Company", { exact: true }).fill("Still Wanted Ltd");
  await save(ada);
  const alert = ada.getByRole("alert").filter({ hasText: "was deleted while you were editing" });
  await expect(alert).toBeVisible();
  await alert.getByRole("button", { name: "Save as a new Lead" }).click();
  await expect(ada).toHaveURL(/\/m\/Leads\/\d{19}$/);
  expect(new URL(ada.url()).pathname).not.toBe(record);
  await expect(ada.getByRole("heading", { name, level: 1 })).toBeVisible();
  await expect(details(ada).getByText("Still Wanted Ltd")).toBeVisible();
});

test("a card someone else moved meanwhile stays where they put it", async ({ browser }) => {
  const [ada, ben] = [await person(browser, "ada@us.zportal.test"), await person(browser, "ben@us.zportal.test")];
  const column = (page: Page, stage: string) => page.getByRole("region", { name: stage, exact: true });
  // Ada's page has not heard of ben's move yet (its live stream is cut): her move meets his.
  await ada.context().route("**/api/live*", (route) => route.abort());
  for (const page of [ada, ben]) {
    await page.goto("/m/Deals?view=board");
    await hydrated(page);
  }
  const name = (await column(ada, "Needs Analysis").locator(".card .card-name").first().textContent()) ?? "";
  expect(name).not.toBe("");
  const card = (page: Page, stage: string) => column(page, stage).locator(".card", { hasText: name });

  await card(ben, "Needs Analysis").getByLabel("Move to").selectOption("Negotiation/Review");
  await expect(ben.getByRole("status").filter({ hasText: "Moved to Negotiation/Review." })).toBeVisible();

  // Ada's board still shows it where it was; her move meets ben's.
  await card(ada, "Needs Analysis").getByLabel("Move to").selectOption("Closed Lost");
  await expect(ada.getByRole("alert")).toContainText(/Ben .* moved this card to Negotiation\/Review meanwhile; it stays there\./);
  await expect(column(ada, "Negotiation/Review").getByRole("link", { name, exact: true })).toBeVisible();
  await expect(column(ada, "Closed Lost").getByRole("link", { name, exact: true })).toHaveCount(0);
  await ben.reload();
  await hydrated(ben);
  await expect(column(ben, "Negotiation/Review").getByRole("link", { name, exact: true })).toBeVisible();
});
