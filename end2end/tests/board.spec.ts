// Deals as a board by Stage: Zoho's totals on each column, 50 cards then "Show more", and a card
// moved by drag and drop or with its "Move to" select — an ordinary edit of the deal's Stage.
import { test, expect, Page } from "@playwright/test";
import { hydrated, signIn } from "./helpers";

test.use({ locale: "en-US" });

const column = (page: Page, stage: string) =>
  page.getByRole("region", { name: stage, exact: true });

/** The number of deals a column's heading line says it holds. */
async function countOf(page: Page, stage: string) {
  const text = (await column(page, stage).locator(".column-total").textContent()) ?? "";
  return Number(/(\d+) deals?/.exec(text)?.[1] ?? NaN);
}

test("the board shows each Stage with Zoho's totals, and cards move by select and by drag", async ({ page }) => {
  test.setTimeout(60_000);
  await signIn(page, "ada@us.zportal.test");
  await page.goto("/m/Deals");
  await hydrated(page);
  await page.getByRole("link", { name: "Board", exact: true }).click();
  await expect(page).toHaveURL(/\/m\/Deals\?view=board$/);
  await hydrated(page);
  for (const stage of ["Qualification", "Needs Analysis", "Closed Won", "Closed Lost"]) {
    await expect(page.getByRole("heading", { name: stage, level: 2, exact: true })).toBeVisible();
  }
  // ada's org has 120 deals over six stages: the totals count them all.
  const stages = ["Qualification", "Needs Analysis", "Proposal/Price Quote", "Negotiation/Review", "Closed Won", "Closed Lost"];
  let total = 0;
  for (const s of stages) {
    total += await countOf(page, s);
  }
  expect(total).toBeGreaterThanOrEqual(120);
  await expect(column(page, "Closed Won").locator(".column-total")).toContainText("$");

  // A card moved with the keyboard-reachable select.
  const from = column(page, "Qualification");
  const card = from.locator(".card").first();
  const name = (await card.locator(".card-name").textContent()) ?? "";
  const before = { q: await countOf(page, "Qualification"), w: await countOf(page, "Closed Won") };
  await card.getByLabel("Move to").selectOption("Closed Won");
  await expect(page.getByRole("status").filter({ hasText: "Moved to Closed Won." })).toBeVisible();
  await expect(column(page, "Closed Won").getByRole("link", { name, exact: true })).toBeVisible();
  expect(await countOf(page, "Qualification")).toBe(before.q - 1);
  expect(await countOf(page, "Closed Won")).toBe(before.w + 1);

  // The move was an edit at Zoho: after a reload the totals and the card agree.
  await page.reload();
  await hydrated(page);
  expect(await countOf(page, "Closed Won")).toBe(before.w + 1);
  await expect(column(page, "Closed Won").getByRole("link", { name, exact: true })).toBeVisible();

  // And back, by drag and drop.
  const dragged = column(page, "Closed Won").locator(".card", { hasText: name });
  // The browser's drag events, as a drag and drop sends them (the columns can be taller than
  // the window, which a simulated mouse drag would have to scroll through).
  const dataTransfer = await page.evaluateHandle(() => new DataTransfer());
  await dragged.dispatchEvent("dragstart", { dataTransfer });
  await column(page, "Qualification").dispatchEvent("dragover", { dataTransfer });
  await column(page, "Qualification").dispatchEvent("drop", { dataTransfer });
  await expect(column(page, "Qualification").getByRole("link", { name, exact: true })).toBeVisible();
  await expect(page.getByRole("status").filter({ hasText: "Moved to Qualification." })).toBeVisible();
  await page.reload();
  await hydrated(page);
  expect(await countOf(page, "Qualification")).toBe(before.q);

  await page.getByRole("link", { name: "Table", exact: true }).click();
  await expect(page).toHaveURL(/\/m\/Deals$/);
});

test("a column shows 50 cards, then Show more brings the rest", async ({ page }) => {
  await signIn(page, "ada@us.zportal.test");
  await page.goto("/m/Deals?view=board");
  await hydrated(page);
  // Make one stage hold more than 50 deals: move cards in with the select until it does.
  const target = "Negotiation/Review";
  let n = await countOf(page, target);
  const donors = ["Qualification", "Needs Analysis", "Proposal/Price Quote", "Closed Won", "Closed Lost"];
  for (const donor of donors) {
    while (n <= 50 && (await column(page, donor).locator(".card").count()) > 0) {
      await column(page, donor).locator(".card").first().getByLabel("Move to").selectOption(target);
      await expect.poll(() => countOf(page, target)).toBe(n + 1);
      n += 1;
    }
  }
  await page.reload();
  await hydrated(page);
  await expect(column(page, target).locator(".card")).toHaveCount(50);
  await column(page, target).getByRole("button", { name: "Show more" }).click();
  await expect(column(page, target).locator(".card")).toHaveCount(n);
});
