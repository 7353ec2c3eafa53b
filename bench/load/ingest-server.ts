/**
 * The whole service under push load, in a process of its own (started by bench/sections/ingest.ts):
 * the real `startService` (database, push receiver in safe mode, domain with group commit,
 * Fastify app) on the database it is given, the same code path as `wxqr serve`.
 *
 * Before listening for load it creates one channel through the service itself, against an
 * in-process emulator of the platform (so the channel's permanent code, scene and ticket are
 * made exactly as in production), then closes the emulator: ingesting pushes never calls the
 * platform. For SQLite it first checks, on a connection opened the way `startService` opens
 * its own (`openDatabase(url)`), that the file is in WAL mode with `synchronous=NORMAL` (the service adds its own WAL fdatasync before each answer) or `FULL`.
 *
 * Sends `{ type: "listening", port, channel, sqlite? }`; answers `{ type: "stats" }` with the
 * push outcomes the service's own metrics counted and the CPU time used; closes gracefully on
 * `{ type: "close" }` (the section kills it instead when checking that acknowledged pushes
 * survive a crash).
 * @module
 */
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type * as StartServiceModule from "../../src/cli/start-service.ts";
import type * as ConfigModule from "../../src/config.ts";
import type * as DepsModule from "../../src/deps.ts";
import type * as EmulatorModule from "../../src/emulator/index.ts";
import type * as StoreModule from "../../src/store/index.ts";
import { childConfig, fail, serveParent, toParent, type IpcMessage } from "./child.ts";

export interface IngestServerConfig {
  impl: "dist" | "src";
  root: string;
  /** `sqlite:<file>` or `postgres://…` (WXQR_DATABASE). */
  database: string;
  appId: string;
  appSecret: string;
  token: string;
  encodingAESKey: string;
  /**
   * The channel another instance on the same database already created: this instance then
   * creates none and reports this one (the two-instance row). Absent: it creates the channel.
   */
  channel?: IngestChannel;
}

export interface IngestChannel {
  id: string;
  qrcodeId: string;
  sceneId: number;
  ticket: string;
}

export interface IngestListening {
  type: "listening";
  port: number;
  channel: IngestChannel;
  /** What a connection opened like the service's reports (SQLite only). */
  sqlite?: { journalMode: string; synchronous: number };
}

export interface IngestServerStats {
  type: "stats";
  /** Pushes the service recorded (a new dedupe key), from its `wxqr_pushes_total` metric. */
  recorded: number;
  /** Pushes it found already recorded (answered `success`, nothing written). */
  duplicate: number;
  /** Pushes answered with an error status. */
  refused: number;
  cpuMicros: number;
  /** The part of `cpuMicros` spent in the kernel (socket I/O, WAL writes, fsync). */
  systemMicros: number;
  atMs: number;
  /** `process.hrtime` in µs: the clock of a `--cpu-prof` profile, to cut it to the measured run. */
  monoUs: number;
}

const config = childConfig<IngestServerConfig>();

async function load<T>(dist: string, src: string): Promise<T> {
  return (await import(pathToFileURL(join(config.root, config.impl === "dist" ? dist : src)).href)) as T;
}

try {
  const { SERVICE_REQUIRES, startService } = await load<typeof StartServiceModule>("dist/cli/start-service.js", "src/cli/start-service.ts");
  // Annotated, so that its assertion function `requireConfig` narrows when called through it.
  const configModule: typeof ConfigModule = await load<typeof ConfigModule>("dist/config.js", "src/config.ts");
  const { createEmulator } = await load<typeof EmulatorModule>("dist/emulator/index.js", "src/emulator/index.ts");
  const { systemDeps, silentLogger } = await load<typeof DepsModule>("dist/deps.js", "src/deps.ts");
  const { openDatabase } = await load<typeof StoreModule>("dist/store/index.js", "src/store/index.ts");

  let sqlite: IngestListening["sqlite"];
  if (config.database.startsWith("sqlite:")) {
    const probe = openDatabase(config.database);
    try {
      // The writing connection is the one whose commits must be durable (reads use another).
      const [mode, sync] = await probe.transaction(
        async (sql) => [await sql.get<{ journal_mode: string }>("PRAGMA journal_mode"), await sql.get<{ synchronous: number }>("PRAGMA synchronous")] as const,
      );
      sqlite = { journalMode: String(mode?.journal_mode), synchronous: Number(sync?.synchronous) };
    } finally {
      await probe.close();
    }
  }

  const deps = systemDeps();
  const emulator = createEmulator({ appId: config.appId, appSecret: config.appSecret }, { logger: silentLogger });
  let running: StartServiceModule.RunningService;
  let channel: IngestChannel;
  try {
    const emulatorUrl = await emulator.listen({ port: 0, host: "127.0.0.1" });
    const serviceConfig = configModule.loadConfig(
      {},
      {
        WECHAT_APP_ID: config.appId,
        WECHAT_APP_SECRET: config.appSecret,
        WECHAT_TOKEN: config.token,
        WECHAT_ENCODING_AES_KEY: config.encodingAESKey,
        WECHAT_API_BASE: emulatorUrl,
        WECHAT_MP_BASE: emulatorUrl,
        WXQR_DATABASE: config.database,
        WXQR_HOST: "127.0.0.1",
        WXQR_PORT: "0",
        WXQR_ADMIN_TOKEN: deps.random.uuid(),
      },
    );
    configModule.requireConfig(serviceConfig, SERVICE_REQUIRES, "by the bench");
    // No request logging, as `wxqr serve` without --log: per-request lines are not what is measured.
    running = await startService(serviceConfig, deps, { logger: false });
    if (config.channel) channel = config.channel;
    else {
      const created = await running.service.channels.create({ name: "bench: metro line 2 poster" });
      if (created.qrcode.sceneId === null || created.qrcode.ticket === null)
        throw new Error(`the channel's code has no scene id or ticket: ${JSON.stringify(created.qrcode)}`);
      channel = { id: created.id, qrcodeId: created.qrcode.id, sceneId: created.qrcode.sceneId, ticket: created.qrcode.ticket };
    }
  } finally {
    await emulator.close(); // pushes never reach the platform
  }
  const { port } = new URL(running.url);

  const pushOutcomes = async (): Promise<{ recorded: number; duplicate: number; refused: number }> => {
    const out = { recorded: 0, duplicate: 0, refused: 0 };
    for (const v of (await running.server.metrics.pushes.get()).values) {
      const outcome = String(v.labels.outcome);
      if (outcome === "recorded") out.recorded += v.value;
      else if (outcome === "duplicate") out.duplicate += v.value;
      else if (outcome.startsWith("http_")) out.refused += v.value;
    }
    return out;
  };

  serveParent(async (message: IpcMessage) => {
    if (message.type === "stats") {
      const outcomes = await pushOutcomes();
      const cpu = process.cpuUsage();
      const stats: IngestServerStats = {
        type: "stats",
        ...outcomes,
        cpuMicros: cpu.user + cpu.system,
        systemMicros: cpu.system,
        atMs: performance.now(),
        monoUs: Number(process.hrtime.bigint() / 1000n),
      };
      await toParent(stats);
    } else if (message.type === "close") {
      await running.close(); // finishes in-flight pushes, waits for their commits, closes the database
      process.exit(0); // also writes the --cpu-prof profile
    }
  });
  const listening: IngestListening = { type: "listening", port: Number(port), channel, ...(sqlite ? { sqlite } : {}) };
  await toParent(listening);
} catch (error) {
  fail(error);
}
