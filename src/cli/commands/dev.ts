/**
 * `wxqr dev`: the newcomer's command. The emulator and the service wired together on an embedded
 * SQLite file, in safe (encrypted) mode: the emulator pushes to the service, the service calls the
 * emulator's API. Credentials come from the environment or are generated and printed.
 */
import type { Command } from "commander";
import { loadConfig, requireConfig, type Config, type ConfigVariable } from "../../config.ts";
import type { Random } from "../../deps.ts";
import { ValidationError } from "../../errors.ts";
import type { CliContext } from "../context.ts";
import { parseWholeNumber } from "../parse.ts";
import { httpLimitsFrom, SERVICE_REQUIRES, startService } from "../start-service.ts";

const DEV_APP_ID = "wx0e1a2b3c4d5e6f70"; // the emulator's default: codes in the dev database stay under one account
const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

function alnum(random: Random, n: number): string {
  return Array.from(random.bytes(n), (b) => ALNUM[b % ALNUM.length]).join("");
}

/** The credentials the environment does not set, generated: `wxqr dev` needs nothing configured. */
function devCredentials(config: Readonly<Config>, random: Random) {
  return {
    WECHAT_APP_ID: config.appId ?? DEV_APP_ID,
    WECHAT_APP_SECRET: config.appSecret ?? alnum(random, 32),
    WECHAT_TOKEN: config.token ?? alnum(random, 32),
    WECHAT_ENCODING_AES_KEY: config.encodingAESKey ?? alnum(random, 43),
    WXQR_ADMIN_TOKEN: config.adminToken ?? alnum(random, 32),
  } satisfies Partial<Record<ConfigVariable, string>>;
}

interface DevFlags {
  port: string;
  emulatorPort: string;
  db?: string;
  host: string;
  unsafeExposeControlApi?: boolean;
}

export function registerDevCommand(program: Command, ctx: CliContext): void {
  program
    .command("dev")
    .description("emulator + service + API on one SQLite file, in safe mode: everything offline, nothing to configure")
    .option("--port <n>", "the service's port", "3000")
    .option("--emulator-port <n>", "the emulator's port", "3001")
    .option("--db <file>", "SQLite file (default: WXQR_DATABASE, else ./wxqr.db)")
    .option("--host <addr>", "address for both (loopback only, unless --unsafe-expose-control-api)", "127.0.0.1")
    .option(
      "--unsafe-expose-control-api",
      "listen on a non-loopback --host although anyone reaching the emulator's /emulator/* can then make it push to any URL",
    )
    .action(async (flags: DevFlags) => {
      const fromEnv = loadConfig(ctx.env);
      const database = flags.db ? `sqlite:${flags.db}` : fromEnv.database;
      if (!database.startsWith("sqlite:")) throw new ValidationError("db", "wxqr dev runs on SQLite; give --db FILE");
      const credentials = devCredentials(fromEnv, ctx.deps.random);
      const host = flags.host;

      const { createEmulator } = await import("../../emulator/app.ts");
      const { isLoopbackHost } = await import("../../emulator/control-exposure.ts");
      // On loopback only this machine's user can read them, and the admin token is printed anyway:
      // /docs and /metrics stay one click away. Anywhere else they need the token, as in `serve`.
      const openReaders = isLoopbackHost(host);
      const emulator = createEmulator({ appId: credentials.WECHAT_APP_ID, appSecret: credentials.WECHAT_APP_SECRET, http: httpLimitsFrom(fromEnv) }, ctx.deps);
      const emulatorUrl = await emulator.listen({
        port: parseWholeNumber(flags.emulatorPort, "emulatorPort"),
        host,
        unsafeExposeControlApi: flags.unsafeExposeControlApi ?? false,
      });
      let service;
      try {
        // The same loader as `serve`: the environment, with what `dev` generated or its flags chose in its place.
        const config = loadConfig(ctx.env, {
          ...credentials,
          WECHAT_API_BASE: emulatorUrl,
          WECHAT_MP_BASE: emulatorUrl,
          WXQR_DATABASE: database,
          WXQR_HOST: host,
          WXQR_PORT: String(parseWholeNumber(flags.port, "port")),
          ...(openReaders ? { WXQR_PUBLIC_METRICS: "1", WXQR_PUBLIC_DOCS: "1" } : {}),
        });
        requireConfig(config, SERVICE_REQUIRES, "by wxqr dev");
        service = await startService(config, ctx.deps);
        const res = await ctx.deps.fetch(`${emulatorUrl}/emulator/push`, {
          method: "PUT",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({
            url: `${service.url}/wechat`,
            token: credentials.WECHAT_TOKEN,
            encodingAESKey: credentials.WECHAT_ENCODING_AES_KEY,
            mode: "safe",
          }),
        });
        if (!res.ok) throw new Error(`could not point the emulator at the service: HTTP ${res.status} ${await res.text()}`);
      } catch (err) {
        await service?.close().catch(() => undefined);
        await emulator.close();
        throw err;
      }

      ctx.stdout.write(
        [
          `wxqr dev is running (safe mode, ${database})`,
          `  service:   ${service.url}    (API ${service.url}/api, docs ${service.url}/docs, metrics ${service.url}/metrics${openReaders ? "" : "; docs and metrics need the admin token"})`,
          `  emulator:  ${emulatorUrl}    (pushes to ${service.url}/wechat)`,
          `  admin token: ${credentials.WXQR_ADMIN_TOKEN}`,
          ``,
          `Try it:`,
          `  curl -s -X POST ${service.url}/api/channels -H 'Authorization: Bearer ${credentials.WXQR_ADMIN_TOKEN}' -H 'content-type: application/json' -d '{"name":"poster A","welcome":"Welcome!"}'`,
          `  npx wxqr scan --openid user-1 --ticket <qrcode.ticket from above> --emulator ${emulatorUrl}`,
          `  curl -s ${service.url}/api/channels/<id>/stats -H 'Authorization: Bearer ${credentials.WXQR_ADMIN_TOKEN}'`,
          `Press Ctrl-C to stop.`,
          "",
        ].join("\n"),
      );
      const signal = await ctx.untilStopped();
      ctx.stdout.write(`stopping (${signal})…\n`);
      await service.close();
      await emulator.close();
      ctx.stdout.write("stopped\n");
    });
}
