// Where the suite's zportal runs, under either runner. `cargo xtask test` starts the release server
// it built (ZPORTAL_E2E_SERVER) on a port of its own, with fresh data. `cargo leptos end-to-end`
// builds and starts the server itself, at the project's site-addr, before it runs Playwright (and
// tells Playwright nothing, so the defaults here are the workspace's `[package.metadata.leptos]`).
import { existsSync, statSync } from "node:fs";
import { isAbsolute, join } from "node:path";

/** The server binary `cargo xtask test` asked for; unset under `cargo leptos end-to-end`. */
export const startedByXtask = process.env.ZPORTAL_E2E_SERVER;

const address = startedByXtask
  ? `127.0.0.1:${Number(process.env.ZPORTAL_E2E_PORT ?? 3400)}`
  : (process.env.LEPTOS_SITE_ADDR ?? "127.0.0.1:3000");

export const baseURL = `http://${address}`;
export const port = Number(new URL(baseURL).port);

/** The site (WASM, CSS) the servers serve, relative to end2end/ as cargo-leptos lays it out. */
export const siteRoot = process.env.ZPORTAL_E2E_SITE_ROOT ?? "../target/site";

/** The server binary for the specs that start servers of their own: the one the xtask named, else
 * the one cargo-leptos built last (debug under `end-to-end`, release under `end-to-end --release`). */
export function serverBinary(): string {
  if (startedByXtask) return startedByXtask;
  // A relative CARGO_TARGET_DIR is the workspace root's (cargo runs there), not end2end/'s.
  const targets = [process.env.CARGO_TARGET_DIR, "target"]
    .filter((t): t is string => !!t)
    .map((t) => (isAbsolute(t) ? t : join("..", t)));
  const built = targets
    .flatMap((t) => ["debug", "release"].map((profile) => join(t, profile, "server")))
    .filter((path) => existsSync(path))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  if (built.length === 0) {
    throw new Error("no server binary under target/: build with `cargo leptos build` first");
  }
  return built[0];
}

/** Debian's Chromium, when the machine has it: Playwright's own browser download is not possible
 * everywhere (CHROMIUM_PATH names another). */
export function chromium(): string | undefined {
  if (process.env.CHROMIUM_PATH) return process.env.CHROMIUM_PATH;
  return ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => existsSync(p));
}
