/** `wxqr emulator`: the WeChat platform stand-in, alone. */
import type { Command } from "commander";
import { ValidationError } from "../../errors.ts";
import type { PushMode, PushOptions } from "../../emulator/options.ts";
import type { CliContext } from "../context.ts";
import { parseWholeNumber } from "../parse.ts";

interface EmulatorFlags {
  port: string;
  host: string;
  appId?: string;
  appSecret?: string;
  permanentQuota?: string;
  pushUrl?: string;
  token?: string;
  aesKey?: string;
  mode?: string;
  pushTimeoutMs?: string;
  unsafeExposeControlApi?: boolean;
}

const DEFAULT_APP_ID = "wx0e1a2b3c4d5e6f70";
const MODES: readonly PushMode[] = ["plain", "compatible", "safe"];

/** The push target from the flags (and WECHAT_TOKEN / WECHAT_ENCODING_AES_KEY), or undefined without --push-url. */
function pushOptions(flags: EmulatorFlags, env: CliContext["env"]): PushOptions | undefined {
  if (flags.mode !== undefined && !(MODES as readonly string[]).includes(flags.mode)) {
    throw new ValidationError("mode", `must be plain, compatible or safe, got ${JSON.stringify(flags.mode)}`);
  }
  const timeoutMs = flags.pushTimeoutMs === undefined ? undefined : parseWholeNumber(flags.pushTimeoutMs, "pushTimeoutMs");
  if (flags.pushUrl === undefined) {
    if (flags.token !== undefined || flags.aesKey !== undefined || flags.mode !== undefined || timeoutMs !== undefined) {
      throw new ValidationError("pushUrl", "is required with --token, --aes-key, --mode or --push-timeout-ms: where should pushes go?");
    }
    return undefined;
  }
  const token = flags.token ?? env.WECHAT_TOKEN;
  if (token === undefined || token === "") throw new ValidationError("token", "is required with --push-url (or set WECHAT_TOKEN)");
  const encodingAESKey = flags.aesKey ?? (env.WECHAT_ENCODING_AES_KEY || undefined);
  // With a key at hand, push encrypted unless told otherwise: that is what a configured account does.
  const mode = (flags.mode as PushMode | undefined) ?? (encodingAESKey === undefined ? "plain" : "safe");
  return { url: flags.pushUrl, token, encodingAESKey, mode, timeoutMs };
}

export function registerEmulatorCommand(program: Command, ctx: CliContext): void {
  program
    .command("emulator")
    .description("run the WeChat platform emulator (tokens, qrcode/create, showqrcode, event pushes) for offline development")
    .option("--port <n>", "port to listen on (0 picks a free one)", "3001")
    .option("--host <addr>", "address to listen on (loopback only, unless --unsafe-expose-control-api)", "127.0.0.1")
    .option("--unsafe-expose-control-api", "listen on a non-loopback --host although anyone reaching /emulator/* can then make the emulator push to any URL")
    .option("--app-id <id>", "the account's app id (default: WECHAT_APP_ID, else a fixed development id)")
    .option("--app-secret <secret>", "the account's app secret (default: WECHAT_APP_SECRET, else generated and printed)")
    .option("--permanent-quota <n>", "permanent codes the account may create", "100000")
    .option("--push-url <url>", "the server URL to push scan, follow and unfollow events to")
    .option("--token <token>", "the push Token (default: WECHAT_TOKEN)")
    .option("--aes-key <key>", "the 43-character EncodingAESKey (default: WECHAT_ENCODING_AES_KEY)")
    .option("--mode <mode>", "plain, compatible or safe (default: safe with an AES key, else plain)")
    .option("--push-timeout-ms <n>", "how long to wait for the server's answer before retrying (default: 5000, like WeChat)")
    .action(async (flags: EmulatorFlags) => {
      const push = pushOptions(flags, ctx.env);
      const appId = flags.appId ?? ctx.env.WECHAT_APP_ID ?? DEFAULT_APP_ID;
      const givenSecret = flags.appSecret ?? (ctx.env.WECHAT_APP_SECRET || undefined);
      const appSecret = givenSecret ?? Buffer.from(ctx.deps.random.bytes(16)).toString("hex");
      // A secret the user gave may be a real account's: never echo it (terminals get logged and shared).
      const shownSecret = givenSecret === undefined ? appSecret : "(from --app-secret/WECHAT_APP_SECRET)";
      const exportSecret = givenSecret === undefined ? ` WECHAT_APP_SECRET=${appSecret}` : "";
      // Loaded on demand: the other commands should not pay for Fastify's start-up.
      const { createEmulator } = await import("../../emulator/app.ts");
      const emulator = createEmulator(
        { appId, appSecret, permanentQuota: parseWholeNumber(flags.permanentQuota ?? "100000", "permanentQuota"), ...(push ? { push } : {}) },
        ctx.deps,
      );
      const url = await emulator.listen({
        port: parseWholeNumber(flags.port, "port"),
        host: flags.host,
        unsafeExposeControlApi: flags.unsafeExposeControlApi ?? false,
      });
      const target = emulator.state.config.push;
      // Listen for Ctrl-C before saying we are ready: a signal right after the banner must stop us cleanly.
      const stopped = ctx.untilStopped();
      ctx.stdout.write(
        [
          `WeChat emulator listening on ${url}`,
          `  app id:     ${appId}`,
          `  app secret: ${shownSecret}`,
          `  account:    ${emulator.state.config.originalId}`,
          target === undefined
            ? `  pushes:     off (give --push-url and --token, or PUT ${url}/emulator/push)`
            : `  pushes:     POST ${target.url} (${target.mode} mode, timeout ${target.timeoutMs} ms, ${target.maxRetries} retries)`,
          givenSecret === undefined ? `Point wxqr at it with:` : `Point wxqr at it with (WECHAT_APP_SECRET set to the secret you gave):`,
          `  export WECHAT_APP_ID=${appId}${exportSecret} WECHAT_API_BASE=${url} WECHAT_MP_BASE=${url} WXQR_EMULATOR_URL=${url}`,
          `Act as a user with: wxqr scan --openid <id> --ticket <ticket>`,
          `Press Ctrl-C to stop.`,
          "",
        ].join("\n"),
      );
      const signal = await stopped;
      await emulator.close();
      ctx.stdout.write(`emulator stopped (${signal})\n`);
    });
}
