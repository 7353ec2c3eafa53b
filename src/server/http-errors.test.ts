import { describe, expect, it } from "vitest";
import {
  ConfigError,
  CsrfRefusedError,
  DecryptError,
  ERROR_CODES,
  NotFoundError,
  PushFormatError,
  RateLimitError,
  ScanSessionQuotaError,
  SignatureError,
  ValidationError,
  type ErrorCode,
} from "../errors.ts";
import { HTTP_STATUS_BY_CODE, httpErrorFor, httpStatusFor } from "./http-errors.ts";

describe("httpStatusFor", () => {
  it.each([
    [new SignatureError("bad"), 401],
    [new SignatureError("old", "TIMESTAMP_STALE"), 401],
    [new SignatureError("other app", "APPID_MISMATCH"), 401],
    [new PushFormatError("not xml"), 400],
    [new DecryptError("bad padding"), 400],
    [new ValidationError("f", "bad"), 400],
    [new PushFormatError("big", { code: "PUSH_TOO_LARGE" }), 413],
    [new NotFoundError("none"), 404],
    [new CsrfRefusedError("cross-site"), 403],
  ] as const)("maps %s to %i", (err, status) => {
    expect(httpStatusFor(err)).toBe(status);
  });

  it("answers 503 for anything else, so WeChat delivers the push again", () => {
    expect(httpStatusFor(new Error("database is down"))).toBe(503);
    expect(httpStatusFor(new ConfigError([{ key: "WECHAT_TOKEN", message: "missing" }]))).toBe(503);
    expect(httpStatusFor("a string")).toBe(503);
  });

  it("only maps codes that exist", () => {
    for (const code of Object.keys(HTTP_STATUS_BY_CODE)) expect(ERROR_CODES).toContain(code as ErrorCode);
  });
});

describe("httpErrorFor", () => {
  it("explains the caller's mistakes by code", () => {
    expect(httpErrorFor(new PushFormatError("push lacks <MsgType>"))).toEqual({
      status: 400,
      body: { error: "PUSH_MALFORMED", message: "push lacks <MsgType>" },
    });
  });

  it("names the exhausted daily quota behind a refused scan session, with 503", () => {
    const cause = new RateLimitError({ errcode: 45009, errmsg: "reach max api daily quota limit", path: "/cgi-bin/qrcode/create" });
    const { status, body } = httpErrorFor(new ScanSessionQuotaError(3_600_000, cause));
    expect(status).toBe(503);
    expect(body.error).toBe("SCAN_SESSION_QUOTA_EXHAUSTED");
    // Creating a code outside a session keeps the errcode's own mapping.
    expect(httpErrorFor(cause)).toMatchObject({ status: 429, body: { error: "WECHAT_RATE_LIMITED", errcode: 45009 } });
  });

  it("says nothing about the cause of its own failures", () => {
    const { status, body } = httpErrorFor(new Error("postgres://user:hunter2@db failed"));
    expect(status).toBe(503);
    expect(body.error).toBe("UNAVAILABLE");
    expect(JSON.stringify(body)).not.toContain("hunter2");
    const config = httpErrorFor(new ConfigError([{ key: "WECHAT_TOKEN", message: "secret detail" }]));
    expect(config.status).toBe(503);
    expect(config.body.message).not.toContain("secret");
  });
});
