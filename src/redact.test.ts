import { describe, expect, it } from "vitest";
import { redactQueries, redactUrl } from "./redact.ts";

describe("redactUrl", () => {
  it("replaces the values of the app secret, the access token and a push's signatures, and keeps the rest", () => {
    expect(redactUrl("/cgi-bin/token?grant_type=client_credential&appid=wx1&secret=abc")).toBe(
      "/cgi-bin/token?grant_type=client_credential&appid=wx1&secret=[redacted]",
    );
    expect(redactUrl("/cgi-bin/qrcode/create?access_token=86_TOKEN")).toBe("/cgi-bin/qrcode/create?access_token=[redacted]");
    expect(redactUrl("/wechat?signature=s1&timestamp=1795000000&nonce=42&openid=o1&encrypt_type=aes&msg_signature=s2&echostr=e")).toBe(
      "/wechat?signature=[redacted]&timestamp=1795000000&nonce=42&openid=o1&encrypt_type=aes&msg_signature=[redacted]&echostr=[redacted]",
    );
  });

  it("redacts a key however it is spelled: percent-encoded, in capitals, or with + for a space", () => {
    expect(redactUrl("/cgi-bin/qrcode/create?access%5Ftoken=86_TOKEN")).toBe("/cgi-bin/qrcode/create?access%5Ftoken=[redacted]");
    expect(redactUrl("/cgi-bin/token?%73ecret=abc&appid=wx1")).toBe("/cgi-bin/token?%73ecret=[redacted]&appid=wx1");
    expect(redactUrl("/cgi-bin/token?%73%65%63%72%65%74=abc")).toBe("/cgi-bin/token?%73%65%63%72%65%74=[redacted]");
    expect(redactUrl("/x?SECRET=abc&Access_Token=t")).toBe("/x?SECRET=[redacted]&Access_Token=[redacted]");
    expect(redactUrl("/x?app+secret=kept&appsecret=abc")).toBe("/x?app+secret=kept&appsecret=[redacted]");
  });

  it("leaves a URL without a query, or with no secret key, or with a malformed escape, as it was", () => {
    expect(redactUrl("/api/channels")).toBe("/api/channels");
    expect(redactUrl("/api/events?after=3&limit=50")).toBe("/api/events?after=3&limit=50");
    expect(redactUrl("/x?a%ZZ=1&secret=abc")).toBe("/x?a%ZZ=1&secret=[redacted]");
  });

  it("redacts a secret key given without a value", () => {
    expect(redactUrl("/x?secret&a=1")).toBe("/x?secret=[redacted]&a=1");
  });
});

describe("redactQueries", () => {
  it("cuts every query in free text, keeping the host and path", () => {
    expect(redactQueries("Failed to parse URL from http://[::1/cgi-bin/token?grant_type=client_credential&secret=TOPSECRET")).toBe(
      "Failed to parse URL from http://[::1/cgi-bin/token?…",
    );
    expect(redactQueries("Cannot GET /cgi-bin/token?grant_type=client_credential&secret=TOPSECRET (404)")).toBe("Cannot GET /cgi-bin/token?… (404)");
  });

  it("leaves text without a query alone", () => {
    expect(redactQueries("fetch failed: why? no answer")).toBe("fetch failed: why? no answer");
  });
});
