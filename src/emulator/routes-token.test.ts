import { describe, expect, it } from "vitest";
import { secretMatches } from "./routes-token.ts";

describe("secretMatches", () => {
  it("matches only the exact secret, whatever the lengths", () => {
    const secret = "e2e-secret-0123456789abcdef";
    expect(secretMatches(secret, secret)).toBe(true);
    for (const other of ["", "e", `${secret}x`, secret.slice(0, -1), secret.toUpperCase(), `${secret.slice(0, -1)}E`, "密钥"]) {
      expect(secretMatches(other, secret)).toBe(false);
    }
  });
});
