/**
 * The emulator's state file (`stateFile`): what `wxqr dev` relies on to continue after a
 * restart. A real file in a temporary folder, the emulator over loopback, a real push receiver.
 */
import { existsSync, statSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createManualClock, createManualTimer, createSeededRandom } from "../../src/deps.ts";
import { ConfigError } from "../../src/errors.ts";
import { createEmulator } from "../../src/emulator/index.ts";
import { createEmulatorState } from "../../src/emulator/state.ts";
import { applySnapshot, readStateFile, STATE_SAVE_DELAY_MS, toSnapshot, writeStateFile } from "../../src/emulator/state-file.ts";
import { resolveEmulatorConfig } from "../../src/emulator/options.ts";
import { APP_ID, APP_SECRET, START_MS, startEmulator, type Harness } from "../helpers/emulator-harness.ts";
import { startReceiver, type TestReceiver } from "../helpers/push-receiver.ts";

const PUSH_TOKEN = "stateT0ken";
const POSTER = { action_name: "QR_LIMIT_STR_SCENE", action_info: { scene: { scene_str: "poster-a" } } };

let dir: string;
let file: string;
let receiver: TestReceiver;
const open: Harness[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "wxqr-emulator-state-"));
  file = join(dir, "dev.db.emulator.json");
  receiver = await startReceiver({ token: PUSH_TOKEN, appId: APP_ID, now: () => START_MS });
});

afterEach(async () => {
  for (const h of open.splice(0)) await h.close();
  await receiver.close();
  await rm(dir, { recursive: true, force: true });
});

async function start(seed: number): Promise<Harness> {
  const h = await startEmulator({ stateFile: file }, seed);
  open.push(h);
  const pushed = await h.control("PUT", "/emulator/push", { url: receiver.url, token: PUSH_TOKEN });
  expect(pushed.status).toBe(200);
  return h;
}

async function stop(h: Harness): Promise<void> {
  open.splice(open.indexOf(h), 1);
  await h.close();
}

describe("emulator state file", () => {
  it("continues after a restart: the code still scans, the follower still follows with their nickname, the token still works, the chat is kept", async () => {
    const first = await start(1);
    expect(first.emulator.restored).toBe(false);
    const token = await first.classicToken();
    const code = await first.createQr(token, POSTER);
    const scan = await first.control("POST", "/emulator/scan", { openId: "u1", nickname: "小明", ticket: code["ticket"] });
    expect(scan.body).toMatchObject({ pushed: true, event: "subscribe", delivery: { userSaw: "welcome u1" } });
    await stop(first);

    const second = await start(2);
    expect(second.emulator.restored).toBe(true);
    // The same permanent scene gives the same ticket, under the token the first run issued.
    expect(await second.createQr(token, POSTER)).toEqual({ ticket: code["ticket"], url: code["url"] });
    expect((await second.control("GET", "/emulator/users")).body).toEqual({
      users: [{ openId: "u1", nickname: "小明", subscribed: true, since: START_MS }],
    });
    const again = await second.control("POST", "/emulator/scan", { openId: "u1", url: code["url"] });
    expect(again.body).toMatchObject({ pushed: true, event: "SCAN", delivery: { id: 2 } });
    const chat = await second.control("GET", "/emulator/deliveries?openId=u1");
    expect((chat.body["deliveries"] as { event: string; userSaw: string }[]).map((d) => [d.event, d.userSaw])).toEqual([
      ["subscribe", "welcome u1"],
      ["SCAN", "welcome u1"],
    ]);
    expect((await second.control("GET", "/emulator/counters")).body).toMatchObject({ totals: { token: 1, "qrcode/create": 2 } });
    expect(receiver.messages.map((m) => m.kind)).toEqual(["scan", "scan"]);
  });

  it("writes the file a moment after a change (one write for a burst), and at close without waiting", async () => {
    const timer = createManualTimer();
    const emulator = createEmulator(
      { appId: APP_ID, appSecret: APP_SECRET, stateFile: file },
      { clock: createManualClock(START_MS), random: createSeededRandom(3), timer },
    );
    const rename = (openId: string, nickname: string) =>
      emulator.app.inject({ method: "PUT", url: `/emulator/users/${openId}`, payload: JSON.stringify({ nickname }) });
    for (const n of [1, 2, 3]) expect((await rename(`u${n}`, `user ${n}`)).statusCode).toBe(200);
    await timer.waitingFor(1);
    expect(timer.pending).toBe(1);
    expect(existsSync(file)).toBe(false);
    // Reads change nothing, so schedule nothing.
    expect((await emulator.app.inject({ method: "GET", url: "/emulator/users" })).statusCode).toBe(200);
    expect(timer.pending).toBe(1);

    timer.advance(STATE_SAVE_DELAY_MS);
    await expect.poll(() => existsSync(file)).toBe(true);
    expect(readStateFile(file, APP_ID)?.nicknames).toHaveLength(3);

    expect((await rename("u4", "user 4")).statusCode).toBe(200);
    await emulator.close();
    expect(readStateFile(file, APP_ID)?.nicknames.map((n) => n.openId)).toEqual(["u1", "u2", "u3", "u4"]);
    expect(timer.pending).toBe(0);
  });

  it("round-trips a state through the file: the snapshot read back equals the one written", async () => {
    const h = await start(4);
    const token = await h.classicToken();
    await h.stableToken();
    await h.createQr(token, POSTER);
    await h.createQr(token, { action_name: "QR_SCENE", expire_seconds: 600, action_info: { scene: { scene_id: 42 } } });
    await h.control("POST", "/emulator/followers", { openIds: ["a", "b"] });
    await h.control("POST", "/emulator/unsubscribe", { openId: "b" });
    await h.control("POST", "/emulator/clock", { advanceSeconds: 90 });
    const written = toSnapshot(h.emulator.state);
    await writeStateFile(file, written);

    const restored = createEmulatorState(resolveEmulatorConfig({ appId: APP_ID, appSecret: APP_SECRET }));
    applySnapshot(restored, readStateFile(file, APP_ID)!);
    expect(JSON.parse(JSON.stringify(toSnapshot(restored)))).toEqual(JSON.parse(JSON.stringify(written)));
    expect(restored.qrcodes.permanentByScene.size).toBe(1);
    expect(restored.qrcodes.byUrl.size).toBe(2);
  });

  it("writes atomically: a write that fails leaves the previous file whole, and a good one leaves no temporary file; owner-only", async () => {
    const state = createEmulatorState(resolveEmulatorConfig({ appId: APP_ID, appSecret: APP_SECRET }));
    state.nicknames.set("u1", "before");
    await writeStateFile(file, toSnapshot(state));
    expect(existsSync(`${file}.tmp`)).toBe(false);
    expect(statSync(file).mode & 0o777).toBe(0o600);

    await mkdir(`${file}.tmp`); // the temporary file cannot be created: the write fails before touching the target
    state.nicknames.set("u1", "after");
    await expect(writeStateFile(file, toSnapshot(state))).rejects.toThrow();
    expect(readStateFile(file, APP_ID)?.nicknames).toEqual([{ openId: "u1", nickname: "before" }]);
  });

  it.each([
    ["not JSON", "{ truncated"],
    ["JSON of another shape", JSON.stringify({ version: 1, qrcodes: "none" })],
    ["a later version", JSON.stringify({ version: 99 })],
  ])("refuses a file that is %s: a ConfigError naming the file", async (_case, text) => {
    await writeFile(file, text);
    const attempt = () => createEmulator({ appId: APP_ID, appSecret: APP_SECRET, stateFile: file });
    expect(attempt).toThrow(ConfigError);
    try {
      attempt();
    } catch (err) {
      expect((err as ConfigError).code).toBe("CONFIG_INVALID");
      expect((err as ConfigError).problems.map((p) => p.key)).toEqual([file]);
    }
  });

  it("refuses another account's file rather than mixing two accounts' codes", async () => {
    const h = await start(5);
    await h.classicToken();
    await stop(h);
    expect(() => readStateFile(file, "wx9999999999999999")).toThrow(ConfigError);
    expect(JSON.parse(await readFile(file, "utf8"))).toMatchObject({ appId: APP_ID });
  });
});
