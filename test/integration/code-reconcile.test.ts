/**
 * Issue 8 item 4: no quota leak after a crash. A code's reservation (scene held, permanent quota
 * counted, no ticket yet) outlives a creator that never hears back from WeChat; reconciling
 * settles it. The service calls the emulator through a gate that holds `qrcode/create`, so a
 * creation is really in flight over HTTP while the test reconciles, on SQLite and PostgreSQL.
 */
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import { createManualTimer, createSeededRandom, silentLogger } from "../../src/deps.ts";
import { RECONCILE_EVERY_MS, RECONCILE_GRACE_MS, reconcileCodes, runCodeReconciler } from "../../src/domain/reconcile-codes.ts";
import * as codes from "../../src/store/codes.ts";
import { createWeChatClient } from "../../src/wechat/client.ts";
import { startApiGate, type ApiGate } from "../helpers/api-gate.ts";
import { type DatabaseFactory, describeOnBothEngines } from "../helpers/databases.ts";
import { SERVICE_APP_ID, SERVICE_APP_SECRET, startServiceHarness, type ApiResponse, type ServiceHarness } from "../helpers/service.ts";

const QR_CREATE = "/cgi-bin/qrcode/create";

function describeReconcile(makeFactory: () => DatabaseFactory): void {
  let factory: DatabaseFactory;
  let harness: ServiceHarness | undefined;
  let gate: ApiGate | undefined;

  beforeAll(() => {
    factory = makeFactory();
  });
  afterEach(async () => {
    gate?.dropAll();
    await harness?.close();
    await gate?.close();
    harness = undefined;
    gate = undefined;
  });
  afterAll(() => factory.cleanup());

  /** The service, with its WeChat calls going through a gate in front of the emulator. */
  async function start(): Promise<{ h: ServiceHarness; g: ApiGate }> {
    const { db } = await factory.create();
    const h = await startServiceHarness({
      db,
      seed: 8,
      apiBase: async (emulatorUrl) => {
        gate = await startApiGate(emulatorUrl, QR_CREATE);
        return gate.url;
      },
    });
    harness = h;
    return { h, g: gate! };
  }

  /** A second process's view: the same database, a client straight to the emulator (as after a restart). */
  function reconcileDeps(h: ServiceHarness): Parameters<typeof reconcileCodes>[0] {
    const client = createWeChatClient(
      { appId: SERVICE_APP_ID, appSecret: SERVICE_APP_SECRET, apiBase: h.emulatorUrl, mpBase: h.emulatorUrl },
      { clock: h.clock, random: createSeededRandom(99), logger: silentLogger, fetch: globalThis.fetch.bind(globalThis) },
    );
    return { db: h.db, qrcodes: client.qrcodes, accountId: SERVICE_APP_ID, clock: h.clock, logger: silentLogger };
  }

  function reconcile(h: ServiceHarness, permanentAfterMs: number): ReturnType<typeof reconcileCodes> {
    return reconcileCodes(reconcileDeps(h), { permanentAfterMs });
  }

  async function unticketed(h: ServiceHarness): Promise<codes.QrCodeRow[]> {
    return h.db.read((sql) => codes.listUnticketedCodes(sql, SERVICE_APP_ID, { createdBefore: Number.MAX_SAFE_INTEGER, limit: 1_000 }));
  }

  it("completes permanent reservations whose creators still wait, once each, with the platform's own tickets; owners get their codes", async () => {
    const { h, g } = await start();
    g.holding = 4;
    const inFlight: Array<Promise<ApiResponse>> = [
      h.api("POST", "/api/channels", { name: "poster A" }),
      h.api("POST", "/api/channels", { name: "poster B" }),
      h.api("POST", "/api/qrcodes", { type: "permanent" }),
      h.api("POST", "/api/referrals/codes", { openId: "oInviter" }),
    ];
    await g.waitForHeld(4);
    expect(await unticketed(h)).toHaveLength(4);
    expect((await h.api("GET", "/api/quota")).body.permanent.used).toBe(4);

    const result = await reconcile(h, 0);
    expect(result).toEqual({ completed: 4, released: 0, pending: 0 });
    expect(await unticketed(h)).toHaveLength(0);
    expect((await h.api("GET", "/api/quota")).body.permanent.used).toBe(4);
    const platform = (await h.emulatorControl("GET", "/emulator/qrcodes")).body;
    expect(platform.permanentUsed).toBe(4);

    // The channels have their codes, as if their creation had finished.
    const channels = (await h.api("GET", "/api/channels")).body.channels;
    expect(channels.map((c: { name: string }) => c.name).sort()).toEqual(["poster A", "poster B"]);
    const tickets = new Set((platform.qrcodes as Array<{ ticket: string }>).map((q) => q.ticket));
    for (const c of channels) expect(tickets.has(c.qrcode.ticket)).toBe(true);

    // The creators' first calls are lost; their retries reach the platform, which answers with
    // the same tickets (permanent codes are idempotent per scene): nothing is made twice.
    g.dropAll();
    const answers = await Promise.all(inFlight);
    expect(answers.map((a) => a.status)).toEqual([201, 201, 201, 200]);
    for (const a of answers) expect(tickets.has(a.body.qrcode?.ticket ?? a.body.ticket)).toBe(true);
    expect((await h.emulatorControl("GET", "/emulator/qrcodes")).body.permanentUsed).toBe(4);
    expect((await h.api("GET", "/api/quota")).body.permanent.used).toBe(4);
    expect((await h.api("GET", "/api/channels")).body.channels).toHaveLength(2);
    const personal = await h.api("POST", "/api/referrals/codes", { openId: "oInviter" });
    expect(personal.body.qrcode.ticket).toBe(answers[3]!.body.qrcode.ticket);
    expect(await reconcile(h, 0)).toEqual({ completed: 0, released: 0, pending: 0 });
  });

  it("completing a code the dead creator's call did reach costs the platform no second code", async () => {
    const { h, g } = await start();
    g.holding = 2;
    const inFlight = [h.api("POST", "/api/qrcodes", { type: "permanent" }), h.api("POST", "/api/qrcodes", { type: "permanent", sceneStr: "shop-42" })];
    await g.waitForHeld(2);
    // The platform makes both codes; their answers reach callers that (for the test) count as dead.
    await g.releaseAll();
    const made = await Promise.all(inFlight);
    expect(made.map((m) => m.status)).toEqual([201, 201]);
    expect((await h.emulatorControl("GET", "/emulator/qrcodes")).body.permanentUsed).toBe(2);
    expect(await reconcile(h, 0)).toEqual({ completed: 0, released: 0, pending: 0 });

    g.holding = 1;
    const third = h.api("POST", "/api/qrcodes", { type: "permanent", sceneId: 77 });
    await g.waitForHeld(1);
    await g.releaseAll();
    expect((await third).status).toBe(201);
    await h.db.transaction((sql) => sql.run("UPDATE qrcodes SET ticket = NULL, url = NULL WHERE scene_id = 77"));
    expect(await reconcile(h, 0)).toEqual({ completed: 1, released: 0, pending: 0 });
    const platform = (await h.emulatorControl("GET", "/emulator/qrcodes")).body;
    expect(platform.permanentUsed).toBe(3);
    expect((await h.api("GET", "/api/quota")).body.permanent.used).toBe(3);
  });

  it("releases a reservation the platform refuses for good: scene and quota come back, the unfinished channel goes and its name is free", async () => {
    const { h, g } = await start();
    g.holding = 2;
    const inFlight = [h.api("POST", "/api/channels", { name: "poster C" }), h.api("POST", "/api/qrcodes", { type: "permanent", sceneId: 9 })];
    await g.waitForHeld(2);
    expect((await h.emulatorControl("PUT", "/emulator/config", { permanentQuota: 0 })).status).toBe(200);
    expect(await reconcile(h, 0)).toEqual({ completed: 0, released: 2, pending: 0 });
    expect((await h.api("GET", "/api/quota")).body.permanent.used).toBe(0);
    expect(await h.db.read((sql) => codes.findQrCodeByScene(sql, SERVICE_APP_ID, "id:9"))).toBeUndefined();
    g.dropAll();
    await Promise.all(inFlight);

    expect((await h.emulatorControl("PUT", "/emulator/config", { permanentQuota: 100_000 })).status).toBe(200);
    const again = await h.api("POST", "/api/channels", { name: "poster C" });
    expect(again.status).toBe(201);
    expect((await h.api("POST", "/api/qrcodes", { type: "permanent", sceneId: 9 })).status).toBe(201);
    expect((await h.api("GET", "/api/quota")).body.permanent.used).toBe(2);
  });

  it("leaves a reservation pending while WeChat fails transiently, and completes it later", async () => {
    const { h, g } = await start();
    g.holding = 1;
    const inFlight = h.api("POST", "/api/qrcodes", { type: "permanent" });
    await g.waitForHeld(1);
    expect((await h.emulatorControl("POST", "/emulator/faults", { path: QR_CREATE, errcode: -1, count: 20 })).status).toBe(200);
    expect(await reconcile(h, 0)).toEqual({ completed: 0, released: 0, pending: 1 });
    expect((await h.api("GET", "/api/quota")).body.permanent.used).toBe(1);
    await h.emulatorControl("DELETE", "/emulator/faults");
    // Whatever faults remain are consumed by retries until they run out.
    let result = await reconcile(h, 0);
    for (let i = 0; i < 10 && result.completed === 0; i++) result = await reconcile(h, 0);
    expect(result.completed).toBe(1);
    expect(await unticketed(h)).toHaveLength(0);
    g.dropAll();
    await inFlight;
  });

  it("releases a temporary reservation only once no creation can still be in flight, and a periodic pass spares young permanent ones", async () => {
    const { h, g } = await start();
    g.holding = 2;
    const inFlight = [h.api("POST", "/api/qrcodes", { type: "temporary", sceneStr: "promo-1" }), h.api("POST", "/api/qrcodes", { type: "permanent" })];
    await g.waitForHeld(2);
    expect(await reconcile(h, RECONCILE_GRACE_MS)).toEqual({ completed: 0, released: 0, pending: 0 });
    expect(await unticketed(h)).toHaveLength(2);

    h.clock.advance(RECONCILE_GRACE_MS + 1);
    expect(await reconcile(h, RECONCILE_GRACE_MS)).toEqual({ completed: 1, released: 1, pending: 0 });
    expect(await h.db.read((sql) => codes.findQrCodeByScene(sql, SERVICE_APP_ID, "str:promo-1"))).toBeUndefined();
    g.dropAll();
    await Promise.all(inFlight);
    expect(await unticketed(h)).toHaveLength(0);
  });

  it("the running reconciler settles everything at start, then waits its period before each later pass", async () => {
    const { h, g } = await start();
    g.holding = 2;
    const inFlight = [h.api("POST", "/api/qrcodes", { type: "temporary", sceneStr: "promo-2" }), h.api("POST", "/api/qrcodes", { type: "permanent" })];
    await g.waitForHeld(2);
    const timer = createManualTimer();
    const stop = new AbortController();
    const running = runCodeReconciler({ ...reconcileDeps(h), timer }, stop.signal);

    // The first pass completes the permanent reservation at once; the young temporary one stays.
    await timer.waitingFor(1);
    expect((await unticketed(h)).map((c) => c.type)).toEqual(["temporary"]);

    // Past the grace, the temporary reservation is released, but only by the next pass, a period later.
    h.clock.advance(RECONCILE_GRACE_MS + 1);
    timer.advance(RECONCILE_EVERY_MS - 1);
    expect(timer.pending).toBe(1);
    expect(await unticketed(h)).toHaveLength(1);
    timer.advance(1);
    await timer.waitingFor(1);
    expect(await unticketed(h)).toHaveLength(0);
    expect(await h.db.read((sql) => codes.findQrCodeByScene(sql, SERVICE_APP_ID, "str:promo-2"))).toBeUndefined();

    stop.abort();
    await running;
    expect(timer.pending).toBe(0);
    g.dropAll();
    await Promise.all(inFlight);
  });
}

describeOnBothEngines("code reconciliation", describeReconcile);
