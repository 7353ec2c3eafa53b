import { describe, expect, it } from "vitest";
import {
  AccessTokenInvalidError,
  ConfigError,
  CredentialsError,
  NetworkError,
  QrQuotaExceededError,
  RateLimitError,
  TicketNotFoundError,
  ValidationError,
  WeChatBusyError,
} from "../../src/errors.ts";
import { decodeQrImage } from "../../src/qr/decode.ts";
import { renderPng } from "../../src/qr/png.ts";
import { createWeChatClient, downloadQrImage } from "../../src/wechat/client.ts";
import type { SceneInput } from "../../src/wechat/qr-ticket.ts";
import { createMemoryTokenStore } from "../../src/wechat/token-store.ts";
import { APP_SECRET, platformPerTest, type Platform } from "../helpers/platform.ts";

const start = platformPerTest();

async function tokenFor(p: Platform): Promise<string> {
  return p.client().accessToken.get();
}

type Kind = "temporary" | "permanent";
interface Rule {
  name: string;
  kind: Kind;
  input: Record<string, unknown>;
  field: string;
  /** The same request, as wire JSON, and the errcode the platform answers (undefined: not expressible raw). */
  wire?: Record<string, unknown>;
  errcode?: number;
}

const long65 = "x".repeat(65);
const rules: Rule[] = [
  {
    name: "temporary scene id 0",
    kind: "temporary",
    input: { sceneId: 0, expireSeconds: 600 },
    field: "sceneId",
    wire: { action_name: "QR_SCENE", expire_seconds: 600, action_info: { scene: { scene_id: 0 } } },
    errcode: 40053,
  },
  {
    name: "temporary scene id negative",
    kind: "temporary",
    input: { sceneId: -5, expireSeconds: 600 },
    field: "sceneId",
    wire: { action_name: "QR_SCENE", expire_seconds: 600, action_info: { scene: { scene_id: -5 } } },
    errcode: 40053,
  },
  {
    name: "temporary scene id above 2^32-1",
    kind: "temporary",
    input: { sceneId: 4_294_967_296, expireSeconds: 600 },
    field: "sceneId",
    wire: { action_name: "QR_SCENE", expire_seconds: 600, action_info: { scene: { scene_id: 4_294_967_296 } } },
    errcode: 40053,
  },
  {
    name: "temporary scene id not whole",
    kind: "temporary",
    input: { sceneId: 1.5, expireSeconds: 600 },
    field: "sceneId",
    wire: { action_name: "QR_SCENE", expire_seconds: 600, action_info: { scene: { scene_id: 1.5 } } },
    errcode: 40053,
  },
  {
    name: "permanent scene id 0",
    kind: "permanent",
    input: { sceneId: 0 },
    field: "sceneId",
    wire: { action_name: "QR_LIMIT_SCENE", action_info: { scene: { scene_id: 0 } } },
    errcode: 40053,
  },
  {
    name: "permanent scene id above 100000",
    kind: "permanent",
    input: { sceneId: 100_001 },
    field: "sceneId",
    wire: { action_name: "QR_LIMIT_SCENE", action_info: { scene: { scene_id: 100_001 } } },
    errcode: 40053,
  },
  {
    name: "empty scene string",
    kind: "temporary",
    input: { sceneStr: "", expireSeconds: 600 },
    field: "sceneStr",
    wire: { action_name: "QR_STR_SCENE", expire_seconds: 600, action_info: { scene: { scene_str: "" } } },
    errcode: 40053,
  },
  {
    name: "scene string of 65 characters",
    kind: "permanent",
    input: { sceneStr: long65 },
    field: "sceneStr",
    wire: { action_name: "QR_LIMIT_STR_SCENE", action_info: { scene: { scene_str: long65 } } },
    errcode: 40053,
  },
  {
    name: "scene string that is not a string",
    kind: "permanent",
    input: { sceneStr: 12 },
    field: "sceneStr",
    wire: { action_name: "QR_LIMIT_STR_SCENE", action_info: { scene: { scene_str: 12 } } },
    errcode: 40053,
  },
  {
    name: "expire below 60 s",
    kind: "temporary",
    input: { sceneId: 1, expireSeconds: 59 },
    field: "expireSeconds",
    wire: { action_name: "QR_SCENE", expire_seconds: 59, action_info: { scene: { scene_id: 1 } } },
    errcode: 40035,
  },
  {
    name: "expire above 30 days",
    kind: "temporary",
    input: { sceneId: 1, expireSeconds: 2_592_001 },
    field: "expireSeconds",
    wire: { action_name: "QR_SCENE", expire_seconds: 2_592_001, action_info: { scene: { scene_id: 1 } } },
    errcode: 40035,
  },
  {
    name: "expire not whole",
    kind: "temporary",
    input: { sceneId: 1, expireSeconds: 90.5 },
    field: "expireSeconds",
    wire: { action_name: "QR_SCENE", expire_seconds: 90.5, action_info: { scene: { scene_id: 1 } } },
    errcode: 40035,
  },
  { name: "expire missing", kind: "temporary", input: { sceneId: 1 }, field: "expireSeconds" },
  { name: "both scene id and string", kind: "temporary", input: { sceneId: 1, sceneStr: "a", expireSeconds: 600 }, field: "scene" },
  { name: "no scene", kind: "permanent", input: {}, field: "scene", wire: { action_name: "QR_LIMIT_SCENE", action_info: {} }, errcode: 40053 },
];

describe("qrcode/create validation", () => {
  it.each(rules)("rejects $name before sending, naming the field", async (rule) => {
    const p = await start();
    const client = p.client();
    const call =
      rule.kind === "temporary"
        ? client.qrcodes.createTemporary(rule.input as SceneInput & { expireSeconds: number })
        : client.qrcodes.createPermanent(rule.input as SceneInput);
    const err = await call.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).code).toBe("VALIDATION_FAILED");
    expect((err as ValidationError).field).toBe(rule.field);
    expect((await p.counters())["qrcode/create"] ?? 0).toBe(0);
  });

  it.each(rules.filter((r) => r.wire))("the platform answers $name sent raw with its errcode", async (rule) => {
    const p = await start();
    const token = await tokenFor(p);
    const body = await p.raw(`/cgi-bin/qrcode/create?access_token=${encodeURIComponent(token)}`, JSON.stringify(rule.wire));
    expect(body.errcode).toBe(rule.errcode);
  });

  it("accepts every limit's boundary values", async () => {
    const p = await start();
    const client = p.client();
    const sixtyFour = "码".repeat(64);
    const results = await Promise.all([
      client.qrcodes.createTemporary({ sceneId: 4_294_967_295, expireSeconds: 60 }),
      client.qrcodes.createTemporary({ sceneId: 1, expireSeconds: 2_592_000 }),
      client.qrcodes.createTemporary({ sceneStr: sixtyFour, expireSeconds: 600 }),
      client.qrcodes.createPermanent({ sceneId: 100_000 }),
      client.qrcodes.createPermanent({ sceneStr: "a" }),
    ]);
    expect(results.map((r) => r.type)).toEqual(["temporary", "temporary", "temporary", "permanent", "permanent"]);
    expect(results[0]!.expireSeconds).toBe(60);
    expect(results[0]!.expiresAt).toBe(p.clock.now() + 60_000);
    expect(results[1]!.expireSeconds).toBe(2_592_000);
    expect(results[2]!.sceneStr).toBe(sixtyFour);
    expect(results[3]!.expiresAt).toBeUndefined();
    for (const r of results) expect(r.url).toMatch(/^http:\/\/weixin\.qq\.com\/q\//);
  });
});

describe("access token", () => {
  it("100 concurrent calls on an empty cache send exactly 1 token request", async () => {
    const p = await start();
    const client = p.client();
    const codes = await Promise.all(Array.from({ length: 100 }, (_, i) => client.qrcodes.createTemporary({ sceneId: i + 1, expireSeconds: 3600 })));
    expect(new Set(codes.map((c) => c.ticket)).size).toBe(100);
    const counters = await p.counters();
    expect(counters.stable_token).toBe(1);
    expect(counters.token ?? 0).toBe(0);
    expect(counters["qrcode/create"]).toBe(100);
  });

  it("does the same with the classic /cgi-bin/token", async () => {
    const p = await start();
    const client = p.client({ useStableToken: false });
    await Promise.all(Array.from({ length: 100 }, (_, i) => client.qrcodes.createPermanent({ sceneId: i + 1 })));
    const counters = await p.counters();
    expect(counters.token).toBe(1);
    expect(counters.stable_token ?? 0).toBe(0);
  });

  it("two clients sharing one store fetch one token between them", async () => {
    const p = await start();
    const store = createMemoryTokenStore();
    const a = p.client({ tokenStore: store });
    const b = p.client({ tokenStore: store });
    await Promise.all([
      ...Array.from({ length: 20 }, (_, i) => a.qrcodes.createPermanent({ sceneId: i + 1 })),
      ...Array.from({ length: 20 }, (_, i) => b.qrcodes.createPermanent({ sceneId: i + 101 })),
    ]);
    expect((await p.counters()).stable_token).toBe(1);
  });

  it("a revoked token is refreshed once and the call succeeds", async () => {
    const p = await start();
    const client = p.client();
    await client.qrcodes.createPermanent({ sceneId: 1 });
    await p.revokeTokens();
    const code = await client.qrcodes.createPermanent({ sceneId: 2 });
    expect(code.ticket).toBeTruthy();
    const counters = await p.counters();
    expect(counters.stable_token).toBe(2);
    expect(counters["qrcode/create"]).toBe(3);
  });

  it("forces a stable-token refresh only when the platform hands back the rejected token", async () => {
    const p = await start();
    const client = p.client();
    const first = await client.accessToken.get();
    // 40001 from the API while stable_token keeps handing out the same token.
    await p.fault("/cgi-bin/qrcode/create", 40001, 1);
    await client.qrcodes.createPermanent({ sceneId: 3 });
    const second = await client.accessToken.get();
    expect(second).not.toBe(first);
    expect((await p.counters()).stable_token).toBe(3); // first, force_refresh=false (same token), force_refresh=true
  });

  it("a token that keeps failing surfaces a typed error after one retry", async () => {
    const p = await start();
    const client = p.client();
    await client.accessToken.get();
    await p.fault("/cgi-bin/qrcode/create", 40001, 10);
    const err = await client.qrcodes.createPermanent({ sceneId: 4 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AccessTokenInvalidError);
    expect((err as AccessTokenInvalidError).errcode).toBe(40001);
    expect((err as AccessTokenInvalidError).path).toBe("/cgi-bin/qrcode/create");
    expect((await p.counters())["qrcode/create"]).toBe(2);
  });

  it("refreshes a classic token when it expires on the platform's clock", async () => {
    const p = await start();
    const client = p.client({ useStableToken: false });
    await client.qrcodes.createPermanent({ sceneId: 1 });
    p.clock.advance(7_200_000);
    await client.qrcodes.createPermanent({ sceneId: 2 });
    expect((await p.counters()).token).toBe(2);
  });

  it("reports wrong credentials as a CredentialsError without leaking the secret", async () => {
    const p = await start();
    const err = await p
      .client({ appSecret: "definitely-wrong-secret" })
      .accessToken.get()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CredentialsError);
    expect((err as CredentialsError).errcode).toBe(40125);
    expect(String((err as Error).message)).not.toContain("definitely-wrong-secret");
    const wrongApp = await p
      .client({ appId: "wx0000000000000000" })
      .accessToken.get()
      .catch((e: unknown) => e);
    expect((wrongApp as CredentialsError).errcode).toBe(40013);
    expect(String((wrongApp as Error).message)).not.toContain(APP_SECRET);
  });
});

describe("errors and retries", () => {
  it("retries -1 with backoff from the injected clock, then succeeds", async () => {
    const p = await start();
    const client = p.client();
    await client.accessToken.get();
    await p.fault("/cgi-bin/qrcode/create", -1, 2);
    const before = p.clock.sleeps.length;
    const code = await client.qrcodes.createTemporary({ sceneId: 9, expireSeconds: 600 });
    expect(code.ticket).toBeTruthy();
    expect(p.clock.sleeps.length - before).toBe(2);
    expect((await p.counters())["qrcode/create"]).toBe(3);
  });

  it("gives up on -1 after a bounded number of attempts", async () => {
    const p = await start();
    const client = p.client({ retry: { maxAttempts: 3 } });
    await client.accessToken.get();
    await p.fault("/cgi-bin/qrcode/create", -1, 10);
    const err = await client.qrcodes.createTemporary({ sceneId: 9, expireSeconds: 600 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WeChatBusyError);
    expect((err as WeChatBusyError).retryable).toBe(true);
    expect((await p.counters())["qrcode/create"]).toBe(3);
  });

  it("exhausting the permanent quota is a typed error, and re-creating a scene costs nothing", async () => {
    const p = await start({ permanentQuota: 3 });
    const client = p.client();
    const first = await client.qrcodes.createPermanent({ sceneId: 1 });
    await client.qrcodes.createPermanent({ sceneId: 2 });
    await client.qrcodes.createPermanent({ sceneStr: "three" });
    const again = await client.qrcodes.createPermanent({ sceneId: 1 });
    expect(again.ticket).toBe(first.ticket);
    const err = await client.qrcodes.createPermanent({ sceneId: 4 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QrQuotaExceededError);
    expect((err as QrQuotaExceededError).code).toBe("WECHAT_QR_QUOTA_EXCEEDED");
    expect((err as QrQuotaExceededError).errcode).toBe(45029);
  });

  it("a daily quota error is not retried", async () => {
    const p = await start({ dailyQuota: { "qrcode/create": 1 } });
    const client = p.client();
    await client.qrcodes.createPermanent({ sceneId: 1 });
    const err = await client.qrcodes.createPermanent({ sceneId: 2 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RateLimitError);
    expect((err as RateLimitError).errcode).toBe(45009);
    expect((await p.counters())["qrcode/create"]).toBe(2);
  });

  it("refuses a base URL that new URL() cannot parse when the client is made, never echoing a query", async () => {
    const err = (() => {
      try {
        createWeChatClient({ appId: "wx1", appSecret: APP_SECRET, apiBase: "http://[::1", mpBase: `http://127.0.0.1:1?secret=${APP_SECRET}` });
      } catch (e) {
        return e;
      }
    })() as ConfigError;
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.problems.map((p) => p.key)).toEqual(["apiBase", "mpBase"]);
    expect(err.message).not.toContain(APP_SECRET);
    await expect(downloadQrImage("T", { mpBase: "http://[::1" })).rejects.toMatchObject({ code: "CONFIG_INVALID" });
  });

  it("an unreachable API is a NetworkError after the bounded retries, without the token in the message", async () => {
    const p = await start();
    const client = p.client({ apiBase: "http://127.0.0.1:1", retry: { maxAttempts: 2 } });
    const err = await client.qrcodes.createPermanent({ sceneId: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetworkError);
    expect((err as NetworkError).path).toBe("/cgi-bin/stable_token");
    expect((err as Error).message).not.toContain(APP_SECRET);
  });
});

describe("images", () => {
  it("a locally rendered PNG and the platform's showqrcode JPEG both decode to the exact url", async () => {
    const p = await start();
    const client = p.client();
    const code = await client.qrcodes.createTemporary({ sceneStr: "poster-7", expireSeconds: 3600 });
    expect(decodeQrImage(renderPng(code.url))).toBe(code.url);
    const image = await client.qrcodes.downloadImage(code.ticket);
    expect(image.contentType).toMatch(/^image\/jpe?g/);
    expect(decodeQrImage(image.bytes)).toBe(code.url);
  });

  it("encodes the ticket exactly once in the showqrcode URL", async () => {
    const p = await start();
    const client = p.client();
    const url = new URL(client.qrcodes.imageUrl("gQH4+a/b=="));
    expect(url.pathname).toBe("/cgi-bin/showqrcode");
    expect(url.search).toBe("?ticket=gQH4%2Ba%2Fb%3D%3D");
    expect(url.searchParams.get("ticket")).toBe("gQH4+a/b==");
  });

  it("downloads codes whose tickets need encoding", async () => {
    const p = await start();
    const client = p.client();
    const codes = await Promise.all(Array.from({ length: 40 }, (_, i) => client.qrcodes.createPermanent({ sceneId: i + 1 })));
    const awkward = codes.find((c) => /[+/=]/.test(c.ticket));
    expect(awkward).toBeDefined();
    expect(decodeQrImage((await client.qrcodes.downloadImage(awkward!.ticket)).bytes)).toBe(awkward!.url);
  });

  it("an unknown or expired ticket is a TicketNotFoundError", async () => {
    const p = await start();
    const client = p.client();
    await expect(client.qrcodes.downloadImage("gQnotarealticket==")).rejects.toBeInstanceOf(TicketNotFoundError);
    const code = await client.qrcodes.createTemporary({ sceneId: 5, expireSeconds: 60 });
    p.clock.advance(61_000);
    const err = await client.qrcodes.downloadImage(code.ticket).catch((e: unknown) => e);
    expect((err as TicketNotFoundError).code).toBe("TICKET_NOT_FOUND");
  });
});
