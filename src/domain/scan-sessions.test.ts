import { describe, expect, it } from "vitest";
import { createManualClock, createSeededRandom, silentLogger } from "../deps.ts";
import { ConfigError } from "../errors.ts";
import type { Database } from "../store/database.ts";
import type { CodeService } from "./codes.ts";
import { createScanSessionService } from "./scan-sessions.ts";
import type { ScanSessionDeps } from "./scan-sessions.ts";

// Options are checked when the service is made; nothing touches the database or the codes then.
const deps: ScanSessionDeps = {
  db: {} as Database,
  codes: {} as CodeService,
  accountId: "gh_000000000001",
  clock: createManualClock(1_790_000_000_000),
  random: createSeededRandom(1),
  logger: silentLogger,
};

function problemKeys(siteName: string): string[] {
  try {
    createScanSessionService(deps, { siteName });
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
