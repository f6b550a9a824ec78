// zportal's browser tests. `cargo xtask test` builds the release site, then runs this suite against
// it; Playwright starts the server itself and waits until /healthz answers before any test runs.
import { defineConfig } from "@playwright/test";

const port = Number(process.env.ZPORTAL_E2E_PORT ?? 3400);
const emulatorPort = port + 1;
export const baseURL = `http://127.0.0.1:${port}`;

const server = process.env.ZPORTAL_E2E_SERVER;
if (!server) {
  throw new Error("ZPORTAL_E2E_SERVER is not set: run the suite with `cargo xtask test`");
}

export default defineConfig({
  testDir: "./tests",
  timeout: 30_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  forbidOnly: !!process.env.CI,
  retries: 0,
  reporter: [["list"]],
  use: {
    baseURL,
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
    launchOptions: {
      // The machine's own Chromium: browser downloads are not possible here.
      executablePath: process.env.CHROMIUM_PATH || undefined,
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
  webServer: {
    command: server,
    url: `${baseURL}/healthz`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: "pipe",
    stderr: "pipe",
    env: {
      LEPTOS_SITE_ADDR: `127.0.0.1:${port}`,
      LEPTOS_SITE_ROOT: process.env.ZPORTAL_E2E_SITE_ROOT ?? "../target/site",
      ZPORTAL_DATA_DIR: process.env.ZPORTAL_E2E_DATA_DIR ?? "../target/e2e-data",
      // The release server runs the embedded emulator only when asked (it fails closed).
      ZOHO_EMULATOR: "1",
      // The suite signs in far more often than a person does (the limit stays on, raised).
      ZPORTAL_RATE_LIMIT: "1000",
      ZOHO_EMULATOR_ADDR: `127.0.0.1:${emulatorPort}`,
      RUST_LOG: "info",
    },
  },
});
