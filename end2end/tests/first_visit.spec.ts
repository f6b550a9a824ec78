// What a first visit to a record list downloads: from a cold cache, /m/Leads fetches its WASM
// chunks (only the ones that page needs) and the static files come compressed. The list of WASM
// files goes to ZPORTAL_E2E_FIRST_VISIT for `cargo xtask test`, which gates their size.
import { test, expect } from "@playwright/test";
import { writeFileSync } from "node:fs";
import { hydrated, signIn } from "./helpers";
import { baseURL } from "../site";

test("a first visit to Leads hydrates with only the list's WASM, served compressed", async ({ page, browser }) => {
  await signIn(page, "ada@us.zportal.test");
  const cookies = await page.context().cookies();

  // A new context: the same session cookie, an empty cache.
  const cold = await browser.newContext({ baseURL });
  await cold.addCookies(cookies);
  const visit = await cold.newPage();
  const wasm: { url: string; encoding: string }[] = [];
  visit.on("response", (res) => {
    if (new URL(res.url()).pathname.endsWith(".wasm")) {
      wasm.push({ url: new URL(res.url()).pathname, encoding: res.headers()["content-encoding"] ?? "" });
    }
  });
  await visit.goto("/m/Leads");
  await hydrated(visit);
  await expect(visit.getByRole("heading", { name: "Leads", level: 1 })).toBeVisible();
  await expect(visit.getByRole("link", { name: "Lead 2500" })).toBeVisible();
  // The count beside "My activities" comes after hydration, from a chunk of its own: the gate
  // counts it too.
  await expect(visit.locator("#my-activities-count[data-loaded]")).toBeVisible();

  expect(wasm.length).toBeGreaterThan(0);
  for (const file of wasm) {
    expect(file.encoding, `${file.url} goes out compressed`).toMatch(/^(br|gzip)$/);
  }
  // The record form is a chunk of its own: a list does not fetch it.
  expect(wasm.map((f) => f.url).filter((u) => u.includes("record_form"))).toEqual([]);
  const out = process.env.ZPORTAL_E2E_FIRST_VISIT;
  if (out) {
    writeFileSync(out, JSON.stringify(wasm.map((f) => f.url)));
  }
  await cold.close();
});
