/**
 * `wxqr scan` and `wxqr unsubscribe`: ask the emulator to act as a WeChat user, and show what
 * was pushed to the account's server and what the user saw in the chat.
 */
import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import { loadConfig } from "../../config.ts";
import { ValidationError } from "../../errors.ts";
import type { DeliveryAttempt, DeliveryRecord } from "../../emulator/push-delivery.ts";
import type { CliContext } from "../context.ts";
import { CommandFailure } from "../report-error.ts";

interface UserFlags {
  openid: string;
  emulator?: string;
  json?: boolean;
}

interface ScanFlags extends UserFlags {
  ticket?: string;
  url?: string;
  image?: string;
}

/** What `/emulator/scan` and `/emulator/unsubscribe` answer. */
type EmulatorAnswer =
  | { pushed: true; openId: string; event: string; eventKey: string; createTime: number; ticket?: string; delivery: DeliveryRecord }
  | { pushed: false; reason: string; message?: string };

const OPEN_ID_RE = /^[A-Za-z0-9_-]{1,64}$/;
/** Longer than the emulator's longest delivery (11 attempts of at most 60 s). */
const CALL_TIMEOUT_MS = 15 * 60_000;

function emulatorBase(flags: UserFlags, ctx: CliContext): string {
  const base = flags.emulator ?? loadConfig(ctx.env).emulatorUrl;
  if (!/^https?:\/\/[^/\s]+/.test(base)) throw new ValidationError("emulator", `must be an http(s) URL, got ${JSON.stringify(base)}`);
  return base.replace(/\/+$/, "");
}

function checkOpenId(openId: string): void {
  if (!OPEN_ID_RE.test(openId)) throw new ValidationError("openId", "must be 1 to 64 letters, digits, _ or -");
}

async function callEmulator(ctx: CliContext, base: string, path: string, body: unknown): Promise<EmulatorAnswer> {
  let res: Response;
  try {
    res = await ctx.deps.fetch(`${base}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(CALL_TIMEOUT_MS),
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: unknown } }).cause?.code;
    const reason = typeof cause === "string" ? cause : err instanceof Error ? err.message : String(err);
    throw new CommandFailure(
      `the emulator at ${base} is not reachable (${reason}): start it with \`wxqr emulator\`, or point --emulator or WXQR_EMULATOR_URL at it`,
    );
  }
  const text = await res.text();
  try {
    const answer = JSON.parse(text) as EmulatorAnswer;
    if (typeof answer === "object" && answer !== null && typeof answer.pushed === "boolean") return answer;
  } catch {
    // reported below
  }
  throw new CommandFailure(`${base}${path} answered HTTP ${res.status} without the emulator's JSON: is ${base} a wxqr emulator?`);
}

const HINTS: Record<string, string> = {
  unknown_code: "was the code created on this emulator (WECHAT_API_BASE)?",
  expired: "create a new code",
  not_following: "only a follower can unfollow",
};

function refusal(action: string, answer: Extract<EmulatorAnswer, { pushed: false }>): CommandFailure {
  const hint = HINTS[answer.reason];
  return new CommandFailure(`${action} refused (${answer.reason}): ${answer.message ?? "the emulator gave no reason"}${hint ? `; ${hint}` : ""}`);
}

function describeAttempt(a: DeliveryAttempt): string {
  const what = a.error === "timeout" ? "timeout" : a.error === "network" ? `network error${a.detail ? ` ${a.detail}` : ""}` : `HTTP ${a.status}`;
  return `#${a.n} ${what} (${a.durationMs} ms)`;
}

function describeUserSaw(d: DeliveryRecord): string {
  if (d.userSaw !== null) return JSON.stringify(d.userSaw);
  if (d.event === "unsubscribe") return "nothing (they no longer follow the account)";
  if (d.reply?.kind === "success") return 'nothing (the server replied "success")';
  return "nothing (the server replied with an empty body)";
}

/** Readable lines for a push; throws when the user saw WeChat's "cannot provide service" notice. */
function report(ctx: CliContext, answer: Extract<EmulatorAnswer, { pushed: true }>, json: boolean): void {
  const d = answer.delivery;
  if (json) {
    ctx.stdout.write(`${JSON.stringify(answer)}\n`);
  } else {
    const lines = [`pushed ${answer.event} for ${answer.openId}`, `  EventKey:  ${answer.eventKey === "" ? "(empty)" : answer.eventKey}`];
    if (answer.ticket !== undefined) lines.push(`  Ticket:    ${answer.ticket}`);
    const attempts = d.attempts.length;
    lines.push(
      `  delivery:  ${d.outcome} to ${d.url} (${d.mode} mode) after ${attempts} attempt${attempts === 1 ? "" : "s"}: ${d.attempts.map(describeAttempt).join(", ")}`,
    );
    if (d.reply?.kind === "invalid") lines.push(`  reply:     invalid: ${d.reply.error ?? "refused"}`);
    lines.push(`  user saw:  ${describeUserSaw(d)}`);
    ctx.stdout.write(`${lines.join("\n")}\n`);
  }
  if (d.outcome === "failed") {
    throw new CommandFailure(`the ${answer.event} push was not delivered: no 2xx answer from ${d.url} in ${d.attempts.length} attempts`);
  }
  if (d.reply?.kind === "invalid") throw new CommandFailure(`the server's reply to the ${answer.event} push was invalid: ${d.reply.error ?? "refused"}`);
}

export function registerScanCommands(program: Command, ctx: CliContext): void {
  program
    .command("scan")
    .description("act as a WeChat user scanning a code on the emulator; shows the push and what the user saw")
    .requiredOption("--openid <id>", "the user's OpenID (1 to 64 letters, digits, _ or -)")
    .option("--ticket <ticket>", "the code's ticket")
    .option("--url <url>", "the code's url (http://weixin.qq.com/q/…)")
    .option("--image <file>", "a PNG or JPEG of the code, read as a phone camera would")
    .option("--emulator <url>", "the emulator (default: WXQR_EMULATOR_URL, else http://127.0.0.1:3001)")
    .option("--json", "print the emulator's answer as JSON")
    .action(async (flags: ScanFlags) => {
      checkOpenId(flags.openid);
      const given = [flags.ticket, flags.url, flags.image].filter((v) => v !== undefined).length;
      if (given !== 1) throw new ValidationError("source", "give exactly one of --ticket, --url or --image");
      const body: Record<string, string> = { openId: flags.openid };
      if (flags.ticket !== undefined) body.ticket = flags.ticket;
      if (flags.url !== undefined) body.url = flags.url;
      if (flags.image !== undefined) {
        const file = flags.image;
        const bytes = await readFile(file).catch((err: NodeJS.ErrnoException) => {
          throw new ValidationError("imageFile", `cannot read ${file} (${err.code ?? err.message})`);
        });
        body.image = bytes.toString("base64");
      }
      const base = emulatorBase(flags, ctx);
      const answer = await callEmulator(ctx, base, "/emulator/scan", body);
      if (!answer.pushed) {
        if (flags.json) ctx.stdout.write(`${JSON.stringify(answer)}\n`);
        throw refusal("scan", answer);
      }
      report(ctx, answer, flags.json === true);
    });

  program
    .command("unsubscribe")
    .description("act as a WeChat user unfollowing the account on the emulator")
    .requiredOption("--openid <id>", "the user's OpenID")
    .option("--emulator <url>", "the emulator (default: WXQR_EMULATOR_URL, else http://127.0.0.1:3001)")
    .option("--json", "print the emulator's answer as JSON")
    .action(async (flags: UserFlags) => {
      checkOpenId(flags.openid);
      const answer = await callEmulator(ctx, emulatorBase(flags, ctx), "/emulator/unsubscribe", { openId: flags.openid });
      if (!answer.pushed) {
        if (flags.json) ctx.stdout.write(`${JSON.stringify(answer)}\n`);
        throw refusal("unsubscribe", answer);
      }
      report(ctx, answer, flags.json === true);
    });
}
