/**
 * `wxqr dev`: the newcomer's command. The emulator and the service wired together on an embedded
 * SQLite file, in safe (encrypted) mode: the emulator pushes to the service, the service calls the
 * emulator's API. Credentials come from the environment, else from the last start, else are
 * generated and printed; with the emulator's state kept beside the database (`dev-state.ts`), a
 * restart continues where the last run stopped.
 */
import { resolve } from "node:path";
import type { Command } from "commander";
import { loadConfig, requireConfig, type Config } from "../../config.ts";
import type { Random } from "../../deps.ts";
import { ValidationError } from "../../errors.ts";
import type { CliContext } from "../context.ts";
import {
  DEV_CREDENTIAL_KEYS,
  devFiles,
  readDevCredentials,
  removeDevFiles,
  writeDevCredentials,
  type DevCredentialKey,
  type DevCredentials,
} from "../dev-state.ts";
import { flagFor, parseWholeNumber } from "../parse.ts";
import { httpLimitsFrom, SERVICE_REQUIRES, startService } from "../start-service.ts";

const DEV_APP_ID = "wx0e1a2b3c4d5e6f70"; // the emulator's default: codes in the dev database stay under one account
const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

function alnum(random: Random, n: number): string {
  return Array.from(random.bytes(n), (b) => ALNUM[b % ALNUM.length]).join("");
}

/**
 * Each credential from the environment, else from the last start (`<db>.dev.json`), else made up.
 * `keep` is what the file holds next time: the AppID (the emulator's codes belong to it) and
 * whatever did not come from the environment.
 */
function devCredentials(
  config: Readonly<Config>,
  saved: Partial<DevCredentials>,
  random: Random,
): { values: DevCredentials; keep: Partial<DevCredentials>; fromEnv: Set<DevCredentialKey> } {
  const given: Partial<DevCredentials> = {
    WECHAT_APP_ID: config.appId,
    WECHAT_APP_SECRET: config.appSecret,
    WECHAT_TOKEN: config.token,
    WECHAT_ENCODING_AES_KEY: config.encodingAESKey,
    WXQR_ADMIN_TOKEN: config.adminToken,
  };
  const made: DevCredentials = {
    WECHAT_APP_ID: DEV_APP_ID,
    WECHAT_APP_SECRET: alnum(random, 32),
    WECHAT_TOKEN: alnum(random, 32),
    WECHAT_ENCODING_AES_KEY: alnum(random, 43),
    WXQR_ADMIN_TOKEN: alnum(random, 32),
  };
  const values = {} as DevCredentials;
  const keep: Partial<DevCredentials> = {};
  const fromEnv = new Set<DevCredentialKey>();
  for (const key of DEV_CREDENTIAL_KEYS) {
    const env = given[key];
    values[key] = env ?? saved[key] ?? made[key];
    if (env !== undefined) fromEnv.add(key);
    if (env === undefined || key === "WECHAT_APP_ID") keep[key] = values[key];
  }
  return { values, keep, fromEnv };
}

/** A port already taken becomes one line naming the flag that changes it. */
function explainListenError(err: unknown, field: "port" | "emulatorPort", host: string, port: number): unknown {
  if ((err as { code?: unknown } | null)?.code !== "EADDRINUSE") return err;
  return new ValidationError(field, `${host}:${port} is already in use (another wxqr dev?); choose another with ${flagFor(field)} (0 picks a free one)`);
}

interface DevFlags {
  port: string;
  emulatorPort: string;
  db?: string;
  host: string;
  fresh?: boolean;
  unsafeExposeControlApi?: boolean;
}

export function registerDevCommand(program: Command, ctx: CliContext): void {
  program
    .command("dev")
    .description("emulator + service + dashboard on one SQLite file, in safe mode: everything offline, nothing to configure, and a restart continues")
    .option("--port <n>", "the service's port (the dashboard and the API)", "3000")
    .option("--emulator-port <n>", "the emulator's port (its phone page and the WeChat API)", "3001")
    .option("--db <file>", "SQLite file (default: WXQR_DATABASE, else ./wxqr.db); the emulator's state and dev's credentials are kept beside it")
    .option("--fresh", "start over: delete the database and the state kept beside it first")
    .option("--host <addr>", "address for both (loopback only, unless --unsafe-expose-control-api)", "127.0.0.1")
    .option(
      "--unsafe-expose-control-api",
      "listen on a non-loopback --host although anyone reaching the emulator's /emulator/* can then make it push to any URL",
    )
    .action(async (flags: DevFlags) => {
      const fromEnv = loadConfig(ctx.env);
      const database = flags.db ? `sqlite:${flags.db}` : fromEnv.database;
      if (!database.startsWith("sqlite:")) throw new ValidationError("db", "wxqr dev runs on SQLite; give --db FILE");
      const port = parseWholeNumber(flags.port, "port");
      const emulatorPort = parseWholeNumber(flags.emulatorPort, "emulatorPort");
      const files = devFiles(database);
      if (flags.fresh && files !== undefined) {
        const removed = await removeDevFiles(files);
        ctx.stdout.write(removed.length === 0 ? "starting over: nothing to remove\n" : `starting over: removed ${removed.join(", ")}\n`);
      }
      const saved = files === undefined ? {} : readDevCredentials(files.credentials);
      const { values: credentials, keep, fromEnv: givenByEnv } = devCredentials(fromEnv, saved, ctx.deps.random);
      const host = flags.host;

      const { createEmulator } = await import("../../emulator/app.ts");
      const { isLoopbackHost } = await import("../../emulator/control-exposure.ts");
      // On loopback only this machine's user can read them, and the admin token is printed anyway:
      // /docs and /metrics stay one click away. Anywhere else they need the token, as in `serve`.
      const openReaders = isLoopbackHost(host);
      const emulator = createEmulator(
        {
          appId: credentials.WECHAT_APP_ID,
          appSecret: credentials.WECHAT_APP_SECRET,
          http: httpLimitsFrom(fromEnv),
          ...(files === undefined ? {} : { stateFile: files.emulatorState }),
        },
        ctx.deps,
      );
      let emulatorUrl: string;
      try {
        emulatorUrl = await emulator.listen({ port: emulatorPort, host, unsafeExposeControlApi: flags.unsafeExposeControlApi ?? false });
      } catch (err) {
        await emulator.close();
        throw explainListenError(err, "emulatorPort", host, emulatorPort);
      }
      let service;
      try {
        if (files !== undefined) await writeDevCredentials(files.credentials, keep);
        // The same loader as `serve`: the environment, with what `dev` generated or its flags chose in its place.
        const config = loadConfig(ctx.env, {
          ...credentials,
          WECHAT_API_BASE: emulatorUrl,
          WECHAT_MP_BASE: emulatorUrl,
          WXQR_DATABASE: database,
          WXQR_HOST: host,
          WXQR_PORT: String(port),
          ...(openReaders ? { WXQR_PUBLIC_METRICS: "1", WXQR_PUBLIC_DOCS: "1" } : {}),
        });
        requireConfig(config, SERVICE_REQUIRES, "by wxqr dev");
        try {
          service = await startService(config, ctx.deps);
        } catch (err) {
          throw explainListenError(err, "port", host, port);
        }
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

      // Listen for Ctrl-C before saying we are ready: a signal right after the banner must still save the state.
      const stopped = ctx.untilStopped();
      const admin = credentials.WXQR_ADMIN_TOKEN;
      const exportSecret = givenByEnv.has("WECHAT_APP_SECRET") ? "" : ` WECHAT_APP_SECRET=${credentials.WECHAT_APP_SECRET}`;
      const exportDatabase = files === undefined ? database : `sqlite:${resolve(files.database)}`;
      const codes = emulator.state.qrcodes.byTicket.size;
      const followers = [...emulator.state.followers.values()].filter((f) => f.subscribed).length;
      const kept =
        files === undefined
          ? "nothing (an in-memory database): a restart starts over"
          : `${files.credentials}, ${files.emulatorState} (${emulator.restored ? `continued: ${codes} codes, ${followers} followers` : "new"}; --fresh starts over)`;
      ctx.stdout.write(
        [
          `wxqr dev is running (safe mode, ${database})`,
          `  dashboard:   ${service.url}/`,
          `  admin token: ${admin}`,
          `  phone:       ${emulatorUrl}/    (the emulator's phone page: be a WeChat user, scan codes, see the replies)`,
          `  service:     ${service.url}    (API ${service.url}/api, docs ${service.url}/docs, metrics ${service.url}/metrics${openReaders ? "" : "; docs and metrics need the admin token"})`,
          `  emulator:    ${emulatorUrl}    (pushes to ${service.url}/wechat)`,
          `  kept in:     ${kept}`,
          ``,
          givenByEnv.has("WECHAT_APP_SECRET")
            ? `Point the other wxqr commands at it (WECHAT_APP_SECRET as you set it):`
            : `Point the other wxqr commands at it:`,
          `  export WECHAT_APP_ID=${credentials.WECHAT_APP_ID}${exportSecret} WECHAT_API_BASE=${emulatorUrl} WECHAT_MP_BASE=${emulatorUrl} WXQR_EMULATOR_URL=${emulatorUrl} WXQR_DATABASE=${exportDatabase}`,
          ``,
          `Try it: open the dashboard, sign in with the admin token and create a channel; scan its code on the phone page. Or with curl:`,
          `  curl -s -X POST ${service.url}/api/channels -H 'Authorization: Bearer ${admin}' -H 'content-type: application/json' -d '{"name":"poster A","welcome":"Welcome!"}'`,
          `  npx wxqr scan --openid user-1 --ticket <qrcode.ticket from above> --emulator ${emulatorUrl}`,
          `  curl -s ${service.url}/api/channels/<id>/stats -H 'Authorization: Bearer ${admin}'`,
          `Press Ctrl-C to stop.`,
          "",
        ].join("\n"),
      );
      const signal = await stopped;
      ctx.stdout.write(`stopping (${signal})…\n`);
      await service.close();
      await emulator.close();
      ctx.stdout.write("stopped\n");
    });
}
