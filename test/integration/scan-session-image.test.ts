/**
 * A scan session's code as PNG, read with the session's secret (issue #10): a login page shows it
 * with `<img src="…/image.png?secret=…">`, which can send no header and must not need the admin
 * token. Over loopback HTTP, decoded back to the code's url.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { PNG } from "pngjs";
import { decodeQrImage } from "../../src/qr/decode.ts";
import { sqliteFactory, type DatabaseFactory } from "../helpers/databases.ts";
import { startServiceHarness, type ServiceHarness } from "../helpers/service.ts";

let factory: DatabaseFactory;
let h: ServiceHarness;

beforeAll(() => {
  factory = sqliteFactory();
});
afterEach(async () => {
  await h?.close();
});
afterAll(() => factory.cleanup());

async function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; type: string | null; cache: string | null; bytes: Buffer }> {
  const res = await fetch(url, { headers, signal: AbortSignal.timeout(10_000) });
  return { status: res.status, type: res.headers.get("content-type"), cache: res.headers.get("cache-control"), bytes: Buffer.from(await res.arrayBuffer()) };
}

describe("scan session image", () => {
  it("with the session's secret: a PNG of the session's code at the size asked, decodable to its url; no admin token needed", async () => {
    h = await startServiceHarness({ db: (await factory.create()).db, scanSessions: { warmCodes: 0 } });
    const created = await h.api("POST", "/api/scan-sessions", { purpose: "login" });
    expect(created.status).toBe(201);
    const { id, secret, qrcode } = created.body;
    // The path without the secret: the site appends it for the browser it hands the secret to.
    expect(qrcode.imageUrl).toBe(`/api/scan-sessions/${id}/image.png`);
    expect(qrcode.imageUrl).not.toContain(secret);

    const png = await get(`${h.serviceUrl}${qrcode.imageUrl}?secret=${encodeURIComponent(secret)}&size=300`);
    expect(png.status).toBe(200);
    expect(png.type).toBe("image/png");
    expect(png.cache).toMatch(/^private/);
    expect(PNG.sync.read(png.bytes).width).toBe(300);
    expect(decodeQrImage(png.bytes)).toBe(qrcode.url);

    // The secret as a bearer header works as for the session's other reads.
    const byHeader = await get(`${h.serviceUrl}${qrcode.imageUrl}`, { authorization: `Bearer ${secret}` });
    expect(byHeader.status).toBe(200);
    expect(decodeQrImage(byHeader.bytes)).toBe(qrcode.url);
  });

  it("refuses a wrong or missing secret, and the admin token, with 401; an unknown session is 404", async () => {
    h = await startServiceHarness({ db: (await factory.create()).db, scanSessions: { warmCodes: 0 } });
    const { id, secret } = (await h.api("POST", "/api/scan-sessions", { purpose: "login" })).body;
    const base = `${h.serviceUrl}/api/scan-sessions/${id}/image.png`;
    for (const [url, headers] of [
      [base, {}],
      [`${base}?secret=`, {}],
      [`${base}?secret=${encodeURIComponent(`${secret}x`)}`, {}],
      [`${base}?secret=${encodeURIComponent(h.adminToken)}`, {}],
      [base, { authorization: `Bearer ${h.adminToken}` }],
    ] as const) {
      const res = await fetch(url, { headers, signal: AbortSignal.timeout(10_000) });
      expect(res.status, url).toBe(401);
      expect(await res.json()).toMatchObject({ error: "UNAUTHORIZED" });
    }
    const unknown = await fetch(`${h.serviceUrl}/api/scan-sessions/ss_unknown/image.png?secret=${encodeURIComponent(secret)}`);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: "NOT_FOUND" });
  });
});
