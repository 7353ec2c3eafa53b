import { describe, expect, it } from "vitest";
import { describeRequestFailure } from "./request-failure.ts";

const TOKEN_URL = "http://[::1/cgi-bin/token?grant_type=client_credential&appid=wx&secret=TOPSECRET";

describe("describeRequestFailure", () => {
  it("keeps the host and path but cuts the query", () => {
    // What fetch throws for an unparsable URL: the whole URL in the message, a cause below it.
    const parseError = new TypeError(`Failed to parse URL from ${TOKEN_URL}`, { cause: new TypeError(`Invalid URL: ${TOKEN_URL}`) });
    expect(describeRequestFailure(parseError)).toBe("Failed to parse URL from http://[::1/cgi-bin/token?…");
    expect(describeRequestFailure(`GET ${TOKEN_URL.replace("http://[::1", "")} failed`)).not.toContain("TOPSECRET");
    expect(describeRequestFailure(new Error("https://api.weixin.qq.com/cgi-bin/qrcode/create?access_token=ACCESS fails"))).toBe(
      "https://api.weixin.qq.com/cgi-bin/qrcode/create?… fails",
    );
  });

  it("names the socket's error code below fetch's message", () => {
    const refused = new TypeError("fetch failed", { cause: Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" }) });
    expect(describeRequestFailure(refused, 1_000)).toBe("fetch failed (ECONNREFUSED)");
  });

  it("names the deadline of a timed-out request only when given it", () => {
    const timeout = new DOMException("The operation was aborted due to timeout", "TimeoutError");
    expect(describeRequestFailure(timeout, 10_000)).toBe("no answer within 10000 ms");
    expect(describeRequestFailure(timeout)).toBe("The operation was aborted due to timeout");
  });

  it("says a request stopped by its caller was stopped", () => {
    expect(describeRequestFailure(new DOMException("This operation was aborted", "AbortError"), 10_000)).toBe("stopped before an answer");
  });
});
