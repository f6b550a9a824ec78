// Before any spec: the server answers, the suite knows where its Zoho emulator is, and that
// emulator starts from its seed. Under `cargo leptos end-to-end` the emulator is the one the
// development server embeds (its port is the server's setting, and `./data/emulator.json` keeps
// the last run's changes); the sign-in redirect says where it is, as it tells a browser.
import { baseURL } from "./site";

async function waitForHealth(deadlineMs: number) {
  for (;;) {
    try {
      if ((await fetch(`${baseURL}/healthz`)).ok) return;
    } catch {
      // Not listening yet: cargo-leptos starts the server just before the suite.
    }
    if (Date.now() > deadlineMs) throw new Error(`zportal did not answer at ${baseURL}/healthz`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The emulator's origin, from where zportal sends a browser to sign in. */
async function emulatorOrigin(): Promise<string> {
  const res = await fetch(`${baseURL}/auth/zoho/start?dc=us`, { redirect: "manual" });
  const location = res.headers.get("location");
  if (res.status < 300 || res.status >= 400 || !location) {
    throw new Error(`/auth/zoho/start answered ${res.status} with no redirect to Zoho`);
  }
  return new URL(location, baseURL).origin;
}

export default async function globalSetup() {
  await waitForHealth(Date.now() + 120_000);
  const emulator = await emulatorOrigin();
  const host = new URL(emulator).hostname;
  if (!["127.0.0.1", "localhost", "[::1]"].includes(host) && !host.startsWith("127.")) {
    throw new Error(`zportal signs in at ${emulator}, not at an emulator on loopback: the suite needs the emulator`);
  }
  // JSON, as the control API asks of every write (no web page can send that cross-site).
  const reset = await fetch(`${emulator}/__emulator/reset`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: "{}",
  });
  if (!reset.ok) throw new Error(`the emulator at ${emulator} did not reset: ${reset.status}`);
  // Workers start after this and inherit it (helpers.ts reads it).
  process.env.ZPORTAL_E2E_EMULATOR = emulator;
}
