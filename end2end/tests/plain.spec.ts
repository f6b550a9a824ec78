// Whatever build serves the suite hydrates: the split release build `cargo xtask test` makes, and
// the plain one `cargo leptos watch`, `serve` and `end-to-end` make (no `--split`: the lazy pages
// and widgets are ordinary code then). CI runs this spec against `cargo leptos end-to-end --release`
// too, on the server cargo-leptos starts.
import { test, expect } from "@playwright/test";
import { hydrated, signIn } from "./helpers";

test("the build hydrates: sign-in, a list, a lazy widget, a lazy page, and back", async ({ page }) => {
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await signIn(page, "ada@us.zportal.test");
  await page.goto("/m/Leads");
  await hydrated(page);
  await expect(page.getByRole("link", { name: "Lead 2500" })).toBeVisible();
  // A lazy widget: the column choices.
  await page.getByText("Columns", { exact: true }).click();
  await expect(page.getByRole("checkbox", { name: "Phone", exact: true })).toBeVisible();
  // A lazy page, reached by a client-side navigation.
  await page.getByRole("link", { name: "Lead 2500" }).click();
  await expect(page).toHaveURL(/\/m\/Leads\/\d{19}$/);
  await expect(page.getByRole("heading", { name: "Lead 2500" })).toBeVisible();
  await page.goBack();
  await expect(page.getByRole("link", { name: "Lead 2500" })).toBeVisible();
  expect(errors).toEqual([]);
});
