/**
 * Temporary channels behind a stable public image link (issue #13), over real loopback HTTP
 * against the emulator, on SQLite and PostgreSQL. The service and the emulator share one manual
 * clock, so moving it moves both: past the renewal point, past the old code's expiry.
 */
import { expect, it } from "vitest";
import { createManualTimer, createSeededRandom, silentLogger } from "../../src/deps.ts";
import { createWxqrService } from "../../src/domain/index.ts";
import { decodeQrImage } from "../../src/qr/decode.ts";
import { createWeChatClient } from "../../src/wechat/client.ts";
import { describeOnBothEngines } from "../helpers/databases.ts";
import { SERVICE_APP_ID, SERVICE_APP_SECRET, serviceHarnesses, type Json, type ServiceHarness } from "../helpers/service.ts";

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
const QR_CREATE = "/cgi-bin/qrcode/create";

async function createChannel(h: ServiceHarness, name: string, code: unknown): Promise<Json> {
  const res = await h.api("POST", "/api/channels", { name, code });
  expect(res.status).toBe(201);
  return res.body;
}

/** GETs the public link without any token; the decoded url when it served an image. */
async function fetchLink(h: ServiceHarness, path: string, headers: Record<string, string> = {}): Promise<{ res: Response; url?: string; body?: Json }> {
  const res = await fetch(`${h.serviceUrl}${path}`, { headers, signal: AbortSignal.timeout(20_000) });
  const bytes = Buffer.from(await res.arrayBuffer());
  if (res.status === 200 && res.headers.get("content-type") === "image/png") return { res, url: decodeQrImage(bytes) };
  if ((res.headers.get("content-type") ?? "").includes("json")) return { res, body: JSON.parse(bytes.toString("utf8")) };
  return { res };
}

describeOnBothEngines("temporary channels", (makeFactory) => {
  const harnesses = serviceHarnesses(makeFactory);

  it("renews a temporary channel behind its stable link: the old code counts until it expires, then the emulator refuses it, and the link never served it again", async () => {
    const h = await harnesses.start();
    const channel = await createChannel(h, "直播间", { type: "temporary", days: 3, renew: true });
    expect(channel.qrcode.type).toBe("temporary");
    expect(channel.code).toEqual({
      type: "temporary",
      days: 3,
      renew: true,
      expiresAt: new Date(h.clock.now() + 3 * DAY_MS).toISOString(),
      renewsAt: new Date(h.clock.now() + 2 * DAY_MS).toISOString(),
    });
    expect(channel.imageLink).toMatch(/^\/c\/[A-Za-z0-9_-]{22}\.png$/);
    expect((await h.api("GET", "/api/quota")).body.permanent.used).toBe(0);
    const old = channel.qrcode;
    const served: Array<{ at: number; url: string }> = [];
    const serve = async (): Promise<string> => {
      const { res, url } = await fetchLink(h, channel.imageLink);
      expect(res.status).toBe(200);
      served.push({ at: h.clock.now(), url: url! });
      return url!;
    };

    expect(await serve()).toBe(old.url);
    h.clock.advance(2 * DAY_MS - HOUR_MS); // an hour before the renewal point
    expect(await serve()).toBe(old.url);

    h.clock.advance(2 * HOUR_MS); // an hour past it
    const renewedUrl = await serve();
    expect(renewedUrl).not.toBe(old.url);
    const renewed = (await h.api("GET", `/api/channels/${channel.id}`)).body;
    expect(renewed.qrcode.url).toBe(renewedUrl);
    expect(renewed.imageLink).toBe(channel.imageLink);
    expect(renewed.code.expiresAt).toBe(new Date(h.clock.now() + 3 * DAY_MS).toISOString());

    // The old code still works for the rest of its life, and its scan counts for the channel.
    const before = await h.scan("o_old_code_user", old.ticket);
    expect(before.status).toBe(200);
    expect(before.body.delivery.outcome).toBe("delivered");
    const afterNew = await h.scan("o_new_code_user", renewed.qrcode.ticket);
    expect(afterNew.body.delivery.outcome).toBe("delivered");
    const stats = (await h.api("GET", `/api/channels/${channel.id}/stats`)).body;
    expect(stats).toMatchObject({ scans: 2, uniqueScanners: 2, newFollowers: 2 });

    h.clock.advance(DAY_MS); // past the old code's expiry
    const refused = await h.scan("o_late_user", old.ticket);
    expect(refused.status).toBe(410);
    expect(await serve()).toBe(renewedUrl);
    expect(served.filter((s) => s.url === old.url).every((s) => s.at < Date.parse(channel.code.renewsAt))).toBe(true);
    expect(new Set(served.map((s) => s.url))).toEqual(new Set([old.url, renewedUrl]));
  });

  it("renews due channels from the background loop, without a request for the link", async () => {
    const timer = createManualTimer();
    const h = await harnesses.start({ timer });
    const channel = await createChannel(h, "screen", { type: "temporary", days: 1, renew: true });
    h.clock.advance(12 * HOUR_MS + 1_000); // a 1-day code is renewed at half its life
    h.service.channelRenewal.start();
    await timer.waitingFor(1);
    await h.service.channelRenewal.stop();
    const renewed = (await h.api("GET", `/api/channels/${channel.id}`)).body;
    expect(renewed.qrcode.id).not.toBe(channel.qrcode.id);
    expect(renewed.code).toMatchObject({ type: "temporary", days: 1, renew: true, renewsAt: new Date(h.clock.now() + 12 * HOUR_MS).toISOString() });
    const metrics = await h.api("GET", "/metrics");
    expect(metrics.body).toContain('wxqr_channel_renewals_total{outcome="renewed"} 1');
  });

  it("keeps serving the live code while a renewal fails, then answers 503 with Retry-After once it expired, and renews when WeChat answers again", async () => {
    const h = await harnesses.start();
    const channel = await createChannel(h, "failing", { type: "temporary", days: 2, renew: true });
    expect((await h.emulatorControl("POST", "/emulator/faults", { path: QR_CREATE, errcode: 48001, count: 2 })).status).toBe(200);
    h.clock.advance(DAY_MS + HOUR_MS);
    expect((await fetchLink(h, channel.imageLink)).url).toBe(channel.qrcode.url);

    h.clock.advance(DAY_MS);
    const failed = await fetchLink(h, channel.imageLink);
    expect(failed.res.status).toBe(503);
    expect(failed.body.error).toBe("CHANNEL_CODE_RENEWAL_FAILED");
    expect(failed.res.headers.get("retry-after")).toBe("60");
    expect(failed.res.headers.get("cache-control")).toBe("no-store");

    const recovered = await fetchLink(h, channel.imageLink);
    expect(recovered.res.status).toBe(200);
    expect(recovered.url).not.toBe(channel.qrcode.url);
  });

  it("shows an expired non-renewing channel's expiry in the past, and its link answers 410; switching renew on brings it back", async () => {
    const h = await harnesses.start();
    const channel = await createChannel(h, "one day", { type: "temporary", days: 1 });
    expect(channel.code).toMatchObject({ type: "temporary", days: 1, renew: false, renewsAt: null });
    h.clock.advance(DAY_MS);
    const view = (await h.api("GET", `/api/channels/${channel.id}`)).body;
    expect(Date.parse(view.code.expiresAt)).toBeLessThanOrEqual(h.clock.now());
    const gone = await fetchLink(h, channel.imageLink);
    expect(gone.res.status).toBe(410);
    expect(gone.body.error).toBe("CHANNEL_CODE_EXPIRED");

    const patched = await h.api("PATCH", `/api/channels/${channel.id}`, { code: { type: "temporary", days: 1, renew: true } });
    expect(patched.status).toBe(200);
    expect(patched.body.code.renew).toBe(true);
    const back = await fetchLink(h, channel.imageLink);
    expect(back.res.status).toBe(200);
    expect(back.url).not.toBe(channel.qrcode.url);
  });

  it("switches a channel's type on PATCH with a new code now, and changes days for the next renewal only", async () => {
    const h = await harnesses.start();
    const channel = await createChannel(h, "switch", undefined);
    expect(channel.code).toEqual({ type: "permanent" });
    expect(channel.qrcode.type).toBe("permanent");

    const temporary = (await h.api("PATCH", `/api/channels/${channel.id}`, { code: { type: "temporary", days: 7, renew: true } })).body;
    expect(temporary.qrcode).toMatchObject({ type: "temporary", expiresAt: new Date(h.clock.now() + 7 * DAY_MS).toISOString() });
    expect(temporary.imageLink).toBe(channel.imageLink);

    const longer = (await h.api("PATCH", `/api/channels/${channel.id}`, { code: { type: "temporary", days: 30 } })).body;
    expect(longer.qrcode.id).toBe(temporary.qrcode.id);
    expect(longer.code).toMatchObject({ days: 30, renew: true, expiresAt: temporary.code.expiresAt });

    const permanent = (await h.api("PATCH", `/api/channels/${channel.id}`, { code: { type: "permanent" } })).body;
    expect(permanent.qrcode.type).toBe("permanent");
    expect(permanent.code).toEqual({ type: "permanent" });
    // Scans of the codes it had keep counting for it.
    expect((await h.scan("o_perm", channel.qrcode.ticket)).body.delivery.outcome).toBe("delivered");
    expect((await h.scan("o_temp", temporary.qrcode.ticket)).body.delivery.outcome).toBe("delivered");
    expect((await h.api("GET", `/api/channels/${channel.id}/stats`)).body.scans).toBe(2);
  });

  it("refuses a bad code spec naming code.days (or code.renew, code.type), before anything is created", async () => {
    const h = await harnesses.start();
    for (const code of [
      { type: "temporary", days: 0 },
      { type: "temporary", days: 31 },
      { type: "temporary" },
      { type: "temporary", days: 2.5 },
      { type: "permanent", days: 3 },
    ]) {
      const res = await h.api("POST", "/api/channels", { name: "bad", code });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ error: "VALIDATION_FAILED", field: "code.days" });
    }
    expect((await h.api("POST", "/api/channels", { name: "bad", code: { type: "daily" } })).body.field).toBe("code.type");
    expect((await h.api("GET", "/api/channels")).body.total).toBe(0);
    const channel = await createChannel(h, "good", { type: "temporary", days: 2 });
    const patched = await h.api("PATCH", `/api/channels/${channel.id}`, { code: { type: "temporary", days: 40 } });
    expect(patched.status).toBe(400);
    expect(patched.body.field).toBe("code.days");
  });

  it("serves the link as PNG and SVG at a chosen size without a token, revalidates by ETag, and answers 404 to an unknown token", async () => {
    const h = await harnesses.start();
    const channel = await createChannel(h, "public", { type: "permanent" });
    const png = await fetchLink(h, `${channel.imageLink}?size=300`);
    expect(png.res.status).toBe(200);
    expect(png.url).toBe(channel.qrcode.url);
    expect(png.res.headers.get("cache-control")).toBe("public, max-age=300, must-revalidate");
    const etag = png.res.headers.get("etag")!;
    expect((await fetchLink(h, `${channel.imageLink}?size=300`, { "if-none-match": etag })).res.status).toBe(304);
    expect((await fetchLink(h, `${channel.imageLink}?size=301`, { "if-none-match": etag })).res.status).toBe(200);
    const svg = await fetch(`${h.serviceUrl}${channel.imageLink.replace(/\.png$/, ".svg")}`);
    expect(svg.status).toBe(200);
    expect(svg.headers.get("content-type")).toBe("image/svg+xml");
    expect((await fetchLink(h, `${channel.imageLink}?size=5000`)).res.status).toBe(400);
    const unknown = await fetchLink(h, "/c/AAAAAAAAAAAAAAAAAAAAAA.png");
    expect(unknown.res.status).toBe(404);
    expect(unknown.body.error).toBe("NOT_FOUND");
    const mistyped = await fetchLink(h, "/c/AAAAAAAAAAAAAAAAAAAAAA", { accept: "text/html" });
    expect([mistyped.res.status, mistyped.body?.error]).toEqual([404, "NOT_FOUND"]);

    const temporary = await createChannel(h, "short", { type: "temporary", days: 1, renew: true });
    h.clock.advance(12 * HOUR_MS - 100_000); // 100 s before its renewal point
    expect((await fetchLink(h, temporary.imageLink)).res.headers.get("cache-control")).toBe("public, max-age=100, must-revalidate");
  });

  it("two instances renewing one channel at once switch it once; the loser's code stays the channel's", async () => {
    const h = await harnesses.start();
    const channel = await createChannel(h, "raced", { type: "temporary", days: 5, renew: true });
    const deps = { clock: h.clock, random: createSeededRandom(77), logger: silentLogger, fetch: globalThis.fetch.bind(globalThis) };
    const client = createWeChatClient({ appId: SERVICE_APP_ID, appSecret: SERVICE_APP_SECRET, apiBase: h.emulatorUrl, mpBase: h.emulatorUrl }, deps);
    const other = await createWxqrService({ db: h.db, qrcodes: client.qrcodes, accountId: SERVICE_APP_ID }, { ...deps, timer: createManualTimer() });
    const outcomes: string[] = [];
    h.service.channelCodes.onOutcome((o) => outcomes.push(o));
    other.channelCodes.onOutcome((o) => outcomes.push(o));
    h.clock.advance(4 * DAY_MS);

    const switched = await Promise.all([h.service.channelCodes.renewIfDue(channel.id), other.channelCodes.renewIfDue(channel.id)]);
    expect(switched.filter(Boolean)).toHaveLength(1);
    expect(outcomes.filter((o) => o === "renewed")).toHaveLength(1);
    expect(outcomes.filter((o) => o === "failed")).toHaveLength(0);
    const owned = await h.db.read((sql) =>
      sql.all<{ id: string }>("SELECT id FROM qrcodes WHERE owner_kind = 'channel' AND owner_id = ? ORDER BY created_at, id", [channel.id]),
    );
    // The first code, the switched one, and the loser's if it got as far as creating one.
    expect(owned.length).toBe(1 + outcomes.length);
    const current = (await h.api("GET", `/api/channels/${channel.id}`)).body;
    expect(current.qrcode.id).not.toBe(channel.qrcode.id);
    expect(owned.map((r) => r.id)).toContain(current.qrcode.id);
    expect(await h.service.channelCodes.renewIfDue(channel.id)).toBe(false);
  });

  it("gives channels made before the image link (schema v12) a token at the service's start, and keeps a token it finds", async () => {
    const h = await harnesses.start();
    const older = await createChannel(h, "older", undefined);
    const kept = await createChannel(h, "kept", undefined);
    await h.db.transaction((sql) => sql.run("UPDATE channels SET image_token = NULL WHERE id = ?", [older.id]));
    const deps = { clock: h.clock, random: createSeededRandom(78), logger: silentLogger, timer: createManualTimer() };
    const restarted = await createWxqrService({ db: h.db, accountId: SERVICE_APP_ID }, deps);
    const backfilled = await restarted.channels.get(older.id);
    expect(backfilled.imageToken).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect((await restarted.channels.get(kept.id)).imageToken).toBe(kept.imageLink.slice("/c/".length, -".png".length));
    expect((await fetchLink(h, `/c/${backfilled.imageToken}.png`)).url).toBe(older.qrcode.url);
  });
});
