// Shared steps of the browser tests: waiting for hydration, and signing in through the emulator's
// Zoho page the way a person does.
import { expect, Page, APIRequestContext } from "@playwright/test";

import { port } from "../site";

export { port };
/** The Zoho emulator the server talks to (global-setup.ts found it). */
export const emulator = process.env.ZPORTAL_E2E_EMULATOR ?? `http://127.0.0.1:${port + 1}`;

export async function hydrated(page: Page) {
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
}

/** At zportal's sign-in page, choose a data center and sign in as `email`. */
export async function signIn(page: Page, email: string, dataCenter = "United States") {
  // Zoho grants a client 10 codes per 10 minutes, and this suite signs in far more often than that.
  const res = await page.request.post(`${emulator}/__emulator/config`, {
    data: { limits: { codes_per_client: 1000 } },
  });
  expect(res.ok()).toBeTruthy();
  await page.goto("/");
  await hydrated(page);
  await page.getByLabel("Data center").selectOption({ label: dataCenter });
  await page.getByRole("button", { name: "Sign in with Zoho" }).click();
  await acceptAtZoho(page, email);
}

/** On the emulator's Zoho sign-in page: type the email and accept. */
export async function acceptAtZoho(page: Page, email: string) {
  await expect(page.getByRole("heading", { name: "Sign in to Zoho" })).toBeVisible();
  await page.getByLabel("Email").fill(email);
  await page.getByRole("button", { name: "Accept" }).click();
  await page.waitForURL((url) => url.port === String(port));
  await hydrated(page);
}

/** A call to the emulator's control API. */
export async function control(request: APIRequestContext, path: string, body: object) {
  const res = await request.post(`${emulator}/__emulator/${path}`, { data: body });
  expect(res.ok()).toBeTruthy();
  return res.json();
}

/** Zoho's API straight, as another app of the org (Zoho's SDK, a script) would call it: a token
 * of `email` for the dev client through the emulator's self-client grant. No zportal in between. */
export async function zohoDirect(request: APIRequestContext, email: string, dc = "us") {
  const grant = await control(request, "self-client", {
    client_id: "1000.ZPORTALDEV",
    email,
    scope: "ZohoCRM.modules.ALL,ZohoCRM.settings.ALL,ZohoCRM.users.READ,ZohoCRM.org.READ",
  });
  const tokens = await (
    await request.post(`${emulator}/${dc}/accounts/oauth/v2/token`, {
      form: {
        grant_type: "authorization_code",
        client_id: "1000.ZPORTALDEV",
        client_secret: "zportal-dev-secret",
        code: grant.code,
      },
    })
  ).json();
  const api = `${emulator}/${dc}/api/crm/v8`;
  const headers = { Authorization: `Zoho-oauthtoken ${tokens.access_token}` };
  const send = async (method: "put" | "post" | "delete", path: string, data?: object) => {
    const res = await request[method](`${api}/${path}`, { headers, data });
    expect(res.ok(), `${method} ${path}: ${res.status()}`).toBeTruthy();
    return res.json();
  };
  return {
    update: (module: string, id: string, fields: object) =>
      send("put", module, { data: [{ ...fields, id }] }),
    create: async (module: string, fields: object): Promise<string> =>
      (await send("post", module, { data: [fields] })).data[0].details.id,
    remove: (module: string, id: string) => send("delete", `${module}/${id}`),
  };
}
