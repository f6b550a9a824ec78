// A rep's day: on a Lead she makes in the test, ada adds a task due today and finds it under
// "Today" in "My activities", completes it, logs a call (it shows under "Show closed"), books a
// meeting with invitations and cancels it; a task she gives ben appears in ben's open "My
// activities" without a reload; and axe finds nothing on the section, its forms or the page.
import { test, expect, Page } from "@playwright/test";
import AxeBuilder from "@axe-core/playwright";
import { hydrated, signIn } from "./helpers";
import { baseURL } from "../site";

const TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"];

const unique = () => `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;

/** Today in the browser's zone (the tests' browser runs in this process's), as a date input takes it. */
function today(): string {
  const d = new Date();
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/** Makes a Lead through zportal's form and lands on its page. */
async function newLead(page: Page, name: string) {
  await page.goto("/m/Leads/new");
  await hydrated(page);
  await page.getByLabel("Last Name", { exact: true }).fill(name);
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await expect(page).toHaveURL(/\/m\/Leads\/\d{19}$/);
  await expect(page.getByRole("heading", { name, level: 1 })).toBeVisible();
  await hydrated(page);
}

const activities = (page: Page) => page.getByRole("region", { name: "Activities", exact: true });

async function expectNoViolations(page: Page, what: string) {
  await expect(page.locator("[aria-busy=true]")).toHaveCount(0);
  const result = await new AxeBuilder({ page }).withTags(TAGS).analyze();
  const found = result.violations.map(
    (v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.length} node(s), e.g. ${v.nodes[0]?.target.join(" ")}`,
  );
  expect(found, what).toEqual([]);
}

test("ada adds a task due today, completes it, logs a call and books and cancels a meeting", async ({ page }) => {
  test.setTimeout(90_000);
  const lead = `Rep Day ${unique()}`;
  await signIn(page, "ada@us.zportal.test");
  await newLead(page, lead);
  const section = activities(page);
  await expect(section.getByText("No open activities.")).toBeVisible();

  // A task due today.
  await section.getByRole("button", { name: "New task" }).click();
  const taskForm = section.getByRole("form", { name: "New task" });
  await taskForm.getByLabel("Subject", { exact: true }).fill(`Call ${lead} back`);
  await taskForm.getByLabel("Due Date", { exact: true }).fill(today());
  await expect(taskForm.getByLabel("Owner", { exact: true })).toHaveValue(/\d+/);
  await expect(taskForm.getByLabel("Owner", { exact: true }).locator("option").first()).toHaveText("Ada Lovelace");
  await taskForm.getByRole("button", { name: "Save", exact: true }).dblclick();
  await expect(taskForm).toHaveCount(0);
  const task = section.getByRole("listitem").filter({ hasText: `Call ${lead} back` });
  await expect(task).toHaveCount(1);
  await expect(task.getByRole("link", { name: `Call ${lead} back` })).toHaveAttribute("href", /^\/m\/Tasks\/\d{19}$/);

  // It is in "My activities", under "Today", linking back to the Lead.
  await page.getByRole("navigation", { name: "Modules" }).getByRole("link", { name: "My activities", exact: true }).click();
  await expect(page).toHaveURL(/\/activities$/);
  await hydrated(page);
  const todays = page.getByRole("region", { name: "Today", exact: true });
  const mine = todays.getByRole("listitem").filter({ hasText: `Call ${lead} back` });
  await expect(mine).toBeVisible();
  await expect(mine.getByRole("link", { name: lead, exact: true })).toHaveAttribute("href", /^\/m\/Leads\/\d{19}$/);
  await mine.getByRole("button", { name: "Complete task" }).click();
  await expect(page.getByRole("listitem").filter({ hasText: `Call ${lead} back` })).toHaveCount(0);

  // Back on the Lead: a logged call is a closed activity.
  await page.goBack();
  await expect(page.getByRole("heading", { name: lead, level: 1 })).toBeVisible();
  await hydrated(page);
  await expect(section.getByText(`Call ${lead} back`)).toHaveCount(0);
  await section.getByRole("button", { name: "Log a call" }).click();
  const callForm = section.getByRole("form", { name: "Log a call" });
  await callForm.getByLabel("Subject", { exact: true }).fill("Intro call");
  await callForm.getByLabel("Call Type", { exact: true }).selectOption("Inbound");
  await callForm.getByLabel("Duration (minutes)", { exact: true }).fill("15");
  await callForm.getByLabel("Call Result", { exact: true }).selectOption("Interested");
  await callForm.getByRole("button", { name: "Save", exact: true }).click();
  await expect(callForm).toHaveCount(0);
  await expect(section.getByRole("listitem").filter({ hasText: "Intro call" })).toHaveCount(0);
  await section.getByRole("button", { name: "Show closed" }).click();
  const call = section.getByRole("listitem").filter({ hasText: "Intro call" });
  await expect(call).toContainText("15 min");
  await expect(section.getByRole("listitem").filter({ hasText: `Call ${lead} back` })).toContainText("Completed");

  // A meeting with invitations, then cancelled.
  await section.getByRole("button", { name: "New meeting" }).click();
  const meetingForm = section.getByRole("form", { name: "New meeting" });
  await meetingForm.getByLabel("Title", { exact: true }).fill("Kick-off");
  await expect(meetingForm.getByLabel("Participants", { exact: true }).locator("option:checked")).toHaveText([lead]);
  await meetingForm.getByLabel("Send invitations").check();
  await meetingForm.getByRole("button", { name: "Save", exact: true }).click();
  await expect(meetingForm).toHaveCount(0);
  const meeting = section.getByRole("list").first().getByRole("listitem").filter({ hasText: "Kick-off" });
  await meeting.getByRole("button", { name: "Cancel meeting" }).click();
  await expect(section.getByRole("list").first().getByRole("listitem").filter({ hasText: "Kick-off" })).toHaveCount(0);
  await expect(section.getByRole("listitem").filter({ hasText: "Kick-off" })).toContainText("Cancelled");

  // Every write is in the Lead's history.
  await expect(page.getByRole("region", { name: "History" })).toContainText("Intro call");
});

test("a meeting that ends before it starts is refused beside its end, and nothing is lost", async ({ page }) => {
  const lead = `Backwards ${unique()}`;
  await signIn(page, "ada@us.zportal.test");
  await newLead(page, lead);
  const section = activities(page);
  await section.getByRole("button", { name: "New meeting" }).click();
  const form = section.getByRole("form", { name: "New meeting" });
  await form.getByLabel("Title", { exact: true }).fill("Upside down");
  await form.getByLabel("From", { exact: true }).fill("2030-05-01T10:00");
  await form.getByLabel("To", { exact: true }).fill("2030-05-01T09:00");
  await form.getByRole("button", { name: "Save", exact: true }).click();
  await expect(form.getByLabel("To", { exact: true })).toHaveAttribute("aria-invalid", "true");
  await expect(form).toContainText("A meeting cannot end before it starts.");
  await expect(form.getByLabel("Title", { exact: true })).toHaveValue("Upside down");
});

test("a task ada gives ben appears in ben's open My activities without a reload", async ({ page, browser }) => {
  test.setTimeout(60_000);
  const lead = `Handover ${unique()}`;
  const ben = await (await browser.newContext({ baseURL })).newPage();
  await signIn(ben, "ben@us.zportal.test");
  await ben.goto("/activities");
  await hydrated(ben);
  await expect(ben.getByRole("heading", { name: "My activities", level: 1 })).toBeVisible();
  const count = ben.locator("#my-activities-count[data-loaded]");
  await expect(count).toHaveText(/\d+ due|none due/);
  const before = await count.textContent();

  await signIn(page, "ada@us.zportal.test");
  await newLead(page, lead);
  const section = activities(page);
  await section.getByRole("button", { name: "New task" }).click();
  const form = section.getByRole("form", { name: "New task" });
  await form.getByLabel("Subject", { exact: true }).fill(`For ben: ${lead}`);
  await form.getByLabel("Due Date", { exact: true }).fill(today());
  await form.getByLabel("Owner", { exact: true }).selectOption({ label: "Ben Okafor" });
  await form.getByRole("button", { name: "Save", exact: true }).click();
  await expect(form).toHaveCount(0);
  // The task is on the Lead's page, owned by ben.
  await expect(section.getByRole("listitem").filter({ hasText: `For ben: ${lead}` })).toContainText("Ben Okafor");

  const bens = ben.getByRole("region", { name: "Today", exact: true }).getByRole("listitem").filter({ hasText: `For ben: ${lead}` });
  await expect(bens).toBeVisible({ timeout: 20_000 });
  await expect(count).not.toHaveText(before ?? "");
  await ben.context().close();
});

test.describe("in a time zone 14 hours ahead of UTC", () => {
  test.use({ timezoneId: "Pacific/Kiritimati" });

  test("My activities groups by the browser's own day, not the server's", async ({ page }) => {
    const lead = `Kiritimati ${unique()}`;
    // Today there, which from 10:00 UTC on is tomorrow in UTC.
    const here = new Intl.DateTimeFormat("en-CA", { timeZone: "Pacific/Kiritimati" }).format(new Date());
    await signIn(page, "ada@us.zportal.test");
    await newLead(page, lead);
    const section = activities(page);
    await section.getByRole("button", { name: "New task" }).click();
    const form = section.getByRole("form", { name: "New task" });
    await form.getByLabel("Subject", { exact: true }).fill(`Local day ${lead}`);
    await form.getByLabel("Due Date", { exact: true }).fill(here);
    await form.getByRole("button", { name: "Save", exact: true }).click();
    await expect(form).toHaveCount(0);
    await page.goto("/activities");
    await hydrated(page);
    await expect(
      page.getByRole("region", { name: "Today", exact: true }).getByRole("listitem").filter({ hasText: `Local day ${lead}` }),
    ).toBeVisible();
  });
});

for (const theme of ["light", "dark"] as const) {
  for (const [device, viewport] of [
    ["desktop", { width: 1280, height: 800 }],
    ["phone", { width: 360, height: 740 }],
  ] as const) {
    test(`the Activities section, its forms and My activities pass axe in the ${theme} theme on a ${device}`, async ({ page }) => {
      test.setTimeout(90_000);
      await page.setViewportSize(viewport);
      await page.context().addCookies([{ name: "zportal_theme", value: theme, url: baseURL }]);
      await signIn(page, "ada@us.zportal.test");
      await page.goto("/activities");
      await hydrated(page);
      await expect(page.getByRole("region", { name: "Overdue", exact: true }).getByRole("listitem").first()).toBeVisible();
      await expect(page.locator("#my-activities-count[data-loaded]")).toBeVisible();
      await expectNoViolations(page, "My activities");

      await newLead(page, `Axe activities ${theme} ${device} ${unique()}`);
      const section = activities(page);
      await expect(section.getByText("No open activities.")).toBeVisible();
      await section.getByRole("button", { name: "Show closed" }).click();
      await expect(section.getByText("No closed activities.")).toBeVisible();
      for (const form of ["New task", "Log a call", "New meeting"]) {
        await section.getByRole("button", { name: form }).click();
        await expect(section.getByRole("form", { name: form })).toBeVisible();
        await expectNoViolations(page, `the ${form} form`);
      }
      const wide = await page.evaluate(() => document.documentElement.scrollWidth);
      expect(wide).toBeLessThanOrEqual(viewport.width);
    });
  }
}
