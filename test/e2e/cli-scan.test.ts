/**
 * `wxqr emulator` with a push URL, `wxqr scan` and `wxqr unsubscribe`, run as the built binary
 * against a real receiver (`registerPushRoute`) in this process. Both sides use the system clock.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Fastify from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { oneLine, runCli, startCli, type LongRunning } from "../helpers/cli.ts";
import { startReceiver, type TestReceiver } from "../helpers/push-receiver.ts";

const APP_ID = "wxe2e0000000000002";
const APP_SECRET = "e2e-secret-scan-0123456789";
const TOKEN = "e2eToken2026";
const AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";

let receiver: TestReceiver;
let emulator: LongRunning & { match: RegExpMatchArray };
let url: string;
let env: Record<string, string>;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "wxqr-scan-"));
  receiver = await startReceiver({ token: TOKEN, appId: APP_ID, encodingAESKey: AES_KEY, now: () => Date.now() });
  emulator = await startCli(
    [
      "emulator",
      "--port",
      "0",
      "--push-url",
      receiver.url,
      "--app-id",
      APP_ID,
      "--app-secret",
      APP_SECRET,
      "--aes-key",
      AES_KEY,
      "--mode",
      "safe",
      "--push-timeout-ms",
      "300",
    ],
    /listening on (http:\/\/\S+)/,
    { WECHAT_TOKEN: TOKEN },
  );
  url = emulator.match[1]!;
  env = { WECHAT_APP_ID: APP_ID, WECHAT_APP_SECRET: APP_SECRET, WECHAT_API_BASE: url, WECHAT_MP_BASE: url };
});

afterAll(async () => {
  expect(await emulator?.stop("SIGINT")).toBe(0);
  await receiver?.close();
  await rm(dir, { recursive: true, force: true });
});

async function createCode(...args: string[]): Promise<{ ticket: string; url: string }> {
  const created = await runCli(["qr", "create", ...args, "--json"], env);
  expect(created.code).toBe(0);
  return JSON.parse(created.stdout) as { ticket: string; url: string };
}

describe("wxqr scan / unsubscribe against `wxqr emulator --push-url`", () => {
  it("says where pushes go", () => {
    expect(emulator.output).toMatch(new RegExp(`pushes: +POST ${receiver.url} \\(safe mode, timeout 300 ms, 3 retries\\)`));
    expect(emulator.output).not.toContain(TOKEN);
  });

  it("scans a code: prints the event, the delivery and what the user saw", async () => {
    const code = await createCode("--temporary", "--scene-id", "77", "--expire", "1h");
    const result = await runCli(["scan", "--openid", "o1", "--ticket", code.ticket, "--emulator", url]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("pushed subscribe for o1");
    expect(result.stdout).toMatch(/EventKey: +qrscene_77/);
    expect(result.stdout).toMatch(/delivery: +delivered to .* \(safe mode\) after 1 attempt: #1 HTTP 200/);
    expect(result.stdout).toMatch(/user saw: +"welcome o1"/);
    expect(receiver.messages.at(-1)).toMatchObject({ kind: "scan", isNewFollower: true, encrypted: true, scene: { id: 77 }, ticket: code.ticket });

    // Found through WXQR_EMULATOR_URL this time, as JSON.
    const again = await runCli(["scan", "--openid", "o1", "--url", code.url, "--json"], { WXQR_EMULATOR_URL: url });
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ pushed: true, event: "SCAN", eventKey: "77", delivery: { userSaw: "welcome o1" } });
  });

  it("scans a picture of the code", async () => {
    const code = await createCode("--permanent", "--scene-str", "poster-3");
    const png = join(dir, "code.png");
    expect((await runCli(["qr", "image", code.url, "--out", png], env)).code).toBe(0);
    const result = await runCli(["scan", "--openid", "o2", "--image", png, "--emulator", url]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/EventKey: +qrscene_poster-3/);
  });

  it("unsubscribes a follower, and refuses a second time", async () => {
    const result = await runCli(["unsubscribe", "--openid", "o1", "--emulator", url]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("pushed unsubscribe for o1");
    expect(result.stdout).toMatch(/user saw: +nothing/);
    expect(receiver.messages.at(-1)).toMatchObject({ kind: "unsubscribe", openId: "o1" });

    const again = await runCli(["unsubscribe", "--openid", "o1", "--emulator", url]);
    expect(again.code).toBe(1);
    expect(oneLine(again.stderr)).toMatch(/^wxqr: unsubscribe refused \(not_following\)/);
  });

  it("fails with one line for an unknown ticket", async () => {
    const result = await runCli(["scan", "--openid", "o3", "--ticket", "gQnotaticket==", "--emulator", url]);
    expect(result.code).toBe(1);
    expect(oneLine(result.stderr)).toMatch(/^wxqr: scan refused \(unknown_code\): .*created on this emulator/);
  });

  it("fails when the service does not take the push, after showing what happened", async () => {
    const code = await createCode("--permanent", "--scene-id", "5");
    receiver.failNext = 4;
    const result = await runCli(["scan", "--openid", "o4", "--ticket", code.ticket, "--emulator", url]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/delivery: +failed .* after 4 attempts: #1 HTTP 503/);
    expect(result.stdout).toContain("该公众号暂时无法提供服务");
    expect(oneLine(result.stderr)).toMatch(/^wxqr: the subscribe push was not delivered/);
  });

  it("names the emulator it cannot reach", async () => {
    const closed = Fastify();
    await closed.listen({ port: 0, host: "127.0.0.1" });
    const { port } = closed.server.address() as { port: number };
    await closed.close();
    const result = await runCli(["scan", "--openid", "o5", "--ticket", "t", "--emulator", `http://127.0.0.1:${port}`]);
    expect(result.code).toBe(1);
    expect(oneLine(result.stderr)).toContain(`the emulator at http://127.0.0.1:${port} is not reachable`);
  });

  it.each([
    [["scan", "--openid", "o6"], /--ticket\/--url\/--image/],
    [["scan", "--openid", "o6", "--ticket", "a", "--url", "b"], /--ticket\/--url\/--image/],
    [["scan", "--openid", "bad id", "--ticket", "a"], /--openid/],
    [["scan", "--openid", "o6", "--image", "/nonexistent/x.png"], /--image/],
    [["emulator", "--port", "0", "--push-url", "http://127.0.0.1:9/wechat"], /--token/],
    [["emulator", "--port", "0", "--push-url", "http://127.0.0.1:9/wechat", "--token", TOKEN, "--mode", "safe"], /--aes-key/],
    [["emulator", "--port", "0", "--token", TOKEN], /--push-url/],
  ])("%j is a usage error on one line", async (args, pattern) => {
    const result = await runCli(args, { WXQR_EMULATOR_URL: url });
    expect(result.code).toBe(2);
    expect(oneLine(result.stderr)).toMatch(pattern);
  });
});
