import { describe, expect, it } from "vitest";
import { ValidationError } from "../errors.ts";
import { createEmulator } from "./app.ts";
import { assertControlApiPrivate, isLoopbackHost } from "./control-exposure.ts";

describe("isLoopbackHost", () => {
  it.each(["127.0.0.1", "127.0.0.2", "127.255.255.254", "::1", "[::1]", "0:0:0:0:0:0:0:1", "::ffff:127.0.0.1", "localhost", "LOCALHOST"])(
    "%s is loopback",
    (host) => {
      expect(isLoopbackHost(host)).toBe(true);
    },
  );

  it.each(["0.0.0.0", "::", "[::]", "192.168.1.10", "10.0.0.1", "128.0.0.1", "::2", "::ffff:10.0.0.1", "example.com", "localhost.example.com", ""])(
    "%j is not",
    (host) => {
      expect(isLoopbackHost(host)).toBe(false);
    },
  );
});

describe("the control API's exposure guard", () => {
  it("refuses a non-loopback host with a VALIDATION_FAILED on host, unless told it is meant", () => {
    for (const host of ["0.0.0.0", "::"]) {
      let caught: unknown;
      try {
        assertControlApiPrivate(host, false);
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(ValidationError);
      expect(caught).toMatchObject({ code: "VALIDATION_FAILED", field: "host" });
      expect(() => assertControlApiPrivate(host, true)).not.toThrow();
    }
    expect(() => assertControlApiPrivate("127.0.0.1", false)).not.toThrow();
  });

  it("createEmulator().listen() refuses 0.0.0.0 before binding anything", async () => {
    const emulator = createEmulator({ appId: "wx0123456789abcdef", appSecret: "s3cret" });
    try {
      await expect(emulator.listen({ host: "0.0.0.0", port: 0 })).rejects.toMatchObject({ code: "VALIDATION_FAILED", field: "host" });
      expect(emulator.app.server.listening).toBe(false);
      // With the flag on loopback it starts as usual (a test never listens on 0.0.0.0).
      const url = await emulator.listen({ host: "127.0.0.1", port: 0, unsafeExposeControlApi: true });
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    } finally {
      await emulator.close();
    }
  });
});
