import { describe, expect, it } from "vitest";
import { createManualClock, createManualTimer, createSeededRandom, silentLogger } from "../deps.ts";
import { ConfigError } from "../errors.ts";
import type { Database } from "../store/database.ts";
import type { CodeService } from "./codes.ts";
import { createScanSessionService } from "./scan-sessions.ts";
import type { ScanSessionDeps, ScanSessionOptions } from "./scan-sessions.ts";

// Options are checked when the service is made; nothing touches the database or the codes then.
const deps: ScanSessionDeps = {
  db: {} as Database,
  codes: {} as CodeService,
  accountId: "gh_000000000001",
  clock: createManualClock(1_790_000_000_000),
  random: createSeededRandom(1),
  logger: silentLogger,
  timer: createManualTimer(),
};

function problemKeys(options: string | ScanSessionOptions): string[] {
  try {
    createScanSessionService(typeof options === "string" ? { siteName: options } : options, deps);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).problems.map((p) => p.key);
  }
  return [];
}

describe("scanSessions.siteName", () => {
  it("is sent in passive replies, so it may hold line breaks but no other control character", () => {
    expect(problemKeys("Example Shop\n(staging)")).toEqual([]);
    for (const bad of ["Shop\u0007", "Shop\tA", "Shop\r\n", "Shop\u0000"]) expect(problemKeys(bad)).toEqual(["scanSessions.siteName"]);
  });

  it("must not be empty", () => {
    expect(problemKeys("  ")).toEqual(["scanSessions.siteName"]);
  });
});

describe("scanSessions.warmCodes and the life of a session's code", () => {
  it("allows no warm stock, and a small one", () => {
    expect(problemKeys({ warmCodes: 0 })).toEqual([]);
    expect(problemKeys({ warmCodes: 100 })).toEqual([]);
  });

  it.each([-1, 1.5, 101, Number.NaN])("refuses %d warm codes", (warmCodes) => {
    expect(problemKeys({ warmCodes })).toEqual(["scanSessions.warmCodes"]);
  });

  it("refuses a warm shelf a temporary code cannot cover (30 days), and a negative code margin", () => {
    expect(problemKeys({ warmShelfMs: 30 * 86_400_000 })).toEqual(["scanSessions.warmShelfMs"]);
    expect(problemKeys({ lifeMs: 5 * 60_000, codeMarginMs: 60_000, warmShelfMs: 30 * 86_400_000 - 6 * 60_000 })).toEqual([]);
    expect(problemKeys({ codeMarginMs: -1 })).toEqual(["scanSessions.codeMarginMs"]);
  });
});
