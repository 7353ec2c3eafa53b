import { describe, expect, it } from "vitest";
import { bearerChecker, csrfRefusal, type CsrfInput } from "./auth.ts";

const OWN = "http://127.0.0.1:3000";
const write = (o: Partial<CsrfInput>): CsrfInput => ({ method: "POST", csrfHeader: "1", origin: undefined, ownOrigin: OWN, ...o });

describe("csrfRefusal", () => {
  it.each([
    ["a cross-site form post: no header, a foreign origin", write({ csrfHeader: undefined, origin: "http://evil.example" })],
    ["no header at all", write({ csrfHeader: undefined })],
    ["a header other than 1", write({ csrfHeader: "yes" })],
    ["the header twice", write({ csrfHeader: ["1", "1"] })],
    ["a foreign origin with the header", write({ origin: "http://evil.example" })],
    ["an opaque origin", write({ origin: "null" })],
    ["the own host on another scheme", write({ origin: "https://127.0.0.1:3000" })],
    ["the own host on another port", write({ origin: "http://127.0.0.1:3001" })],
    ["a DELETE without the header", write({ method: "DELETE", csrfHeader: undefined })],
  ])("refuses %s", (_name, input) => {
    expect(csrfRefusal(input)).toEqual(expect.any(String));
  });

  it.each([
    ["a GET without anything", write({ method: "GET", csrfHeader: undefined, origin: "http://evil.example" })],
    ["a HEAD", write({ method: "HEAD", csrfHeader: undefined })],
    ["a write with the header and the own origin", write({ origin: OWN })],
    ["the own origin in other letter case", write({ origin: "HTTP://127.0.0.1:3000" })],
    ["a write with the header and no origin", write({})],
  ])("lets through %s", (_name, input) => {
    expect(csrfRefusal(input)).toBeUndefined();
  });
});

describe("bearerChecker", () => {
  it("accepts the secret as a bearer token only", () => {
    const check = bearerChecker("admin-token-0123456789");
    expect(check("Bearer admin-token-0123456789")).toBe(true);
    expect(check("bearer  admin-token-0123456789 ")).toBe(true);
    for (const wrong of [
      undefined,
      "",
      "admin-token-0123456789",
      "Bearer admin-token-012345678",
      "Bearer admin-token-0123456789x",
      "Basic admin-token-0123456789",
    ]) {
      expect(check(wrong)).toBe(false);
    }
  });
});
