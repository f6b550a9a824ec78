// zportal's browser tests, under `cargo xtask test` (against the split release build, on a server
// Playwright starts) or `cargo leptos end-to-end` (against the server cargo-leptos starts). Before
// any test, global-setup.ts waits for /healthz, finds the emulator and resets it.
import { defineConfig } from "@playwright/test";
import { baseURL, chromium, siteRoot, startedByXtask } from "./site";

export { baseURL };

export default defineConfig({
  testDir: "./tests",
  timeout: 30_000,
  expect: { timeout: 10_000 },
  globalSetup: "./global-setup.ts",
  fullyParallel: false,
  workers: 1,
  forbidOnly: !!process.env.CI,
  // One more try for a test that fails: the list reporter still names it "flaky", so a flaky
  // test shows in every run's output (and is noted on its issue) without one timing fault on a
  // slow two-core machine failing the whole suite. A test that fails twice fails the run.
  retries: 1,
  reporter: [["list"]],
  use: {
    baseURL,
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
    launchOptions: {
      // The machine's own Chromium: browser downloads are not possible here.
      executablePath: chromium(),
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
  projects: [{ name: "chromium", use: { browserName: "chromium" } }],
  // `cargo xtask test` leaves the server to Playwright: its release build, fresh data, and the
  // embedded emulator beside it. Under `cargo leptos end-to-end` the server is running already.
  webServer: startedByXtask
    ? {
        command: startedByXtask,
        url: `${baseURL}/healthz`,
        reuseExistingServer: false,
        timeout: 60_000,
        stdout: "pipe",
        stderr: "pipe",
        env: {
          LEPTOS_SITE_ADDR: new URL(baseURL).host,
          LEPTOS_SITE_ROOT: siteRoot,
          ZPORTAL_DATA_DIR: process.env.ZPORTAL_E2E_DATA_DIR ?? "../target/e2e-data",
          // The release server runs the embedded emulator only when asked (it fails closed).
          ZOHO_EMULATOR: "1",
          ZOHO_EMULATOR_ADDR: `127.0.0.1:${Number(new URL(baseURL).port) + 1}`,
          RUST_LOG: "info",
        },
      }
    : undefined,
});
