import { describe, expect, it } from "vitest";
import { createManualClock, createSeededRandom } from "../deps.ts";
import { NetworkError, ValidationError } from "../errors.ts";
import { baseUrlProblem, buildUrl, requestJson, sendRaw, withRetries } from "./request.ts";
import type { Transport } from "./request.ts";

const policy = { maxAttempts: 4, baseDelayMs: 200, maxDelayMs: 1_000 };

describe("withRetries", () => {
  it("retries retryable errors with the injected clock and stops at maxAttempts", async () => {
    const clock = createManualClock(0);
    let calls = 0;
    await expect(
      withRetries(policy, { clock, random: createSeededRandom(1) }, async () => {
        calls++;
        throw new NetworkError("/x", "down");
      }),
    ).rejects.toBeInstanceOf(NetworkError);
    expect(calls).toBe(4);
    expect(clock.sleeps).toHaveLength(3);
  });

  it("does not retry an error that is not retryable", async () => {
    const clock = createManualClock(0);
    let calls = 0;
    await expect(
      withRetries(policy, { clock, random: createSeededRandom(1) }, async () => {
        calls++;
        throw new ValidationError("sceneId", "bad");
      }),
    ).rejects.toBeInstanceOf(ValidationError);
    expect(calls).toBe(1);
    expect(clock.sleeps).toEqual([]);
  });

  it("returns the first success", async () => {
    const clock = createManualClock(0);
    let calls = 0;
    const value = await withRetries(policy, { clock, random: createSeededRandom(1) }, async () => {
      if (++calls < 3) throw new NetworkError("/x", "flaky");
      return "ok";
    });
    expect(value).toBe("ok");
    expect(clock.sleeps).toHaveLength(2);
  });
});

describe("buildUrl", () => {
  it("encodes each query value exactly once and drops undefined ones", () => {
    expect(buildUrl("http://h/", "/cgi-bin/showqrcode", { ticket: "gQ+a/b==", skip: undefined })).toBe("http://h/cgi-bin/showqrcode?ticket=gQ%2Ba%2Fb%3D%3D");
  });
});

describe("no query in errors", () => {
  const TOKEN_URL = "http://[::1/cgi-bin/token?grant_type=client_credential&appid=wx&secret=TOPSECRET";
  // What fetch throws for an unparsable URL: the whole URL in the message, a cause below it.
  const parseError = () => new TypeError(`Failed to parse URL from ${TOKEN_URL}`, { cause: new TypeError(`Invalid URL: ${TOKEN_URL}`) });
  const failing = (error: unknown): Transport => ({ baseUrl: "http://[::1", fetch: () => Promise.reject(error), timeoutMs: 1_000 });

  it("gives a NetworkError whose message, cause and stack never hold the secret", async () => {
    const err = await sendRaw(failing(parseError()), "/cgi-bin/token", TOKEN_URL).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetworkError);
    expect((err as NetworkError).message).not.toContain("TOPSECRET");
    const chain: string[] = [];
    for (let e: unknown = err; e instanceof Error && chain.length < 10; e = e.cause) chain.push(e.message, e.stack ?? "");
    expect(chain.length).toBeGreaterThanOrEqual(6); // the error, fetch's error, its cause
    expect(chain.join("\n")).not.toContain("TOPSECRET");
  });

  it("keeps the socket's error code", async () => {
    const refused = new TypeError("fetch failed", { cause: Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" }) });
    const err = (await sendRaw(failing(refused), "/cgi-bin/token", TOKEN_URL).catch((e: unknown) => e)) as NetworkError;
    expect(err.message).toBe("/cgi-bin/token: fetch failed (ECONNREFUSED)");
    expect((err.cause as Error & { cause: { code: string } }).cause.code).toBe("ECONNREFUSED");
  });

  it("cuts the query from an error page quoted in the message", async () => {
    const page = new Response(`Cannot GET ${TOKEN_URL.replace("http://[::1", "")}`, { status: 200 });
    const transport: Transport = { baseUrl: "http://127.0.0.1:1", fetch: () => Promise.resolve(page), timeoutMs: 1_000 };
    const err = (await requestJson(transport, { method: "GET", path: "/cgi-bin/token" }).catch((e: unknown) => e)) as NetworkError;
    expect(err.code).toBe("NETWORK_ERROR");
    expect(err.message).not.toContain("TOPSECRET");
  });
});

describe("baseUrlProblem", () => {
  it.each(["http://[::1", "ftp://x", "https://", "http://a b", "http://127.0.0.1:1?x=1", "http://127.0.0.1:1#f", "http://u:p@127.0.0.1:1", 42])(
    "refuses %j",
    (value) => {
      expect(baseUrlProblem(value)).toEqual(expect.any(String));
    },
  );

  it.each(["https://api.weixin.qq.com", "http://[::1]:3001", "http://127.0.0.1:3001/prefix/"])("accepts %j", (value) => {
    expect(baseUrlProblem(value)).toBeUndefined();
  });
});
