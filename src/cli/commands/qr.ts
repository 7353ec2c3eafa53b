/** `wxqr qr create` and `wxqr qr image`; `wxqr qr batch` lives in qr-batch.ts. */
import { writeFile } from "node:fs/promises";
import { extname } from "node:path";
import type { Command } from "commander";
import { loadConfig, requireConfig } from "../../config.ts";
import { ValidationError } from "../../errors.ts";
import { decodeQrImage } from "../../qr/decode.ts";
import type { ErrorCorrectionLevel } from "../../qr/matrix.ts";
import { renderPng } from "../../qr/png.ts";
import { renderSvg } from "../../qr/svg.ts";
import { createWeChatClient, downloadQrImage } from "../../wechat/client.ts";
import { validateExpireSeconds, validateScene, type QrTicket } from "../../wechat/qr-ticket.ts";
import type { CliContext } from "../context.ts";
import { parseDuration, parseWholeNumber } from "../parse.ts";
import { registerQrBatchCommand } from "./qr-batch.ts";

interface CreateFlags {
  temporary?: boolean;
  permanent?: boolean;
  sceneId?: string;
  sceneStr?: string;
  expire: string;
  json?: boolean;
}

interface ImageFlags {
  out: string;
  size?: string;
  margin?: string;
  ec: string;
}

export function registerQrCommands(program: Command, ctx: CliContext): void {
  const qr = program.command("qr").description("create parametric QR codes and their images");

  qr.command("create")
    .description("create a temporary or permanent parametric QR code (qrcode/create)")
    .option("--temporary", "a code that expires (up to 30 days)")
    .option("--permanent", "a code that never expires (100,000 per account)")
    .option("--scene-id <n>", "numeric scene: 1..4294967295 temporary, 1..100000 permanent")
    .option("--scene-str <s>", "string scene, 1..64 characters")
    .option("--expire <duration>", "lifetime of a temporary code: seconds, or 90s, 45m, 1h, 30d", "30d")
    .option("--json", "print the result as JSON")
    .action(async (flags: CreateFlags) => {
      if (Boolean(flags.temporary) === Boolean(flags.permanent)) {
        throw new ValidationError("type", "give exactly one of --temporary or --permanent");
      }
      const scene =
        flags.sceneId !== undefined
          ? flags.sceneStr !== undefined
            ? undefined
            : { sceneId: parseWholeNumber(flags.sceneId, "sceneId") }
          : flags.sceneStr !== undefined
            ? { sceneStr: flags.sceneStr }
            : undefined;
      if (!scene) throw new ValidationError("scene", "give exactly one of --scene-id or --scene-str");
      // Bad input is reported before any missing configuration: it is the nearer mistake.
      const type = flags.temporary ? "temporary" : "permanent";
      validateScene(scene, type);
      const expireSeconds = type === "temporary" ? validateExpireSeconds(parseDuration(flags.expire, "expireSeconds")) : undefined;
      const config = loadConfig(ctx.env);
      requireConfig(config, ["appId", "appSecret"], "to call the WeChat API");
      const client = createWeChatClient({ appId: config.appId, appSecret: config.appSecret, apiBase: config.apiBase, mpBase: config.mpBase }, ctx.deps);
      const code =
        expireSeconds !== undefined ? await client.qrcodes.createTemporary({ ...scene, expireSeconds }) : await client.qrcodes.createPermanent(scene);
      const imageUrl = client.qrcodes.imageUrl(code.ticket);
      ctx.stdout.write(flags.json ? `${JSON.stringify(toJson(code, imageUrl))}\n` : describe(code, imageUrl));
    });

  qr.command("image <ticket|url>")
    .description("write a code's image: rendered locally from its url, or fetched with showqrcode from its ticket")
    .requiredOption("--out <file>", "where to write it: .png or .svg (rendered at --size), or .jpg (the platform's own image, from a ticket)")
    .option("--size <px>", "image width and height in pixels", "430")
    .option("--margin <modules>", "quiet zone around the code, in modules", "4")
    .option("--ec <level>", "error correction: L, M, Q or H", "M")
    .action(async (source: string, flags: ImageFlags) => {
      const format = outputFormat(flags.out);
      const size = parseWholeNumber(flags.size ?? "430", "size");
      const margin = parseWholeNumber(flags.margin ?? "4", "margin");
      const ec = flags.ec.toUpperCase();
      if (!["L", "M", "Q", "H"].includes(ec)) throw new ValidationError("ec", `must be L, M, Q or H, got ${JSON.stringify(flags.ec)}`);
      let text = source;
      if (!/^https?:\/\//i.test(source)) {
        const config = loadConfig(ctx.env);
        const image = await downloadQrImage(source, { mpBase: config.mpBase }, ctx.deps);
        if (format === "jpeg") {
          await writeFile(flags.out, image.bytes);
          ctx.stdout.write(`${flags.out}: ${image.bytes.length} bytes (${image.contentType}, from showqrcode)\n`);
          return;
        }
        // Re-render what the platform's image holds, so the size and format are the user's choice.
        text = decodeQrImage(image.bytes);
      } else if (format === "jpeg") {
        throw new ValidationError("out", "a .jpg comes only from showqrcode (give a ticket); render a url as .png or .svg");
      }
      const options = { size, margin, errorCorrectionLevel: ec as ErrorCorrectionLevel };
      const bytes = format === "svg" ? Buffer.from(renderSvg(text, options)) : renderPng(text, options);
      await writeFile(flags.out, bytes);
      ctx.stdout.write(`${flags.out}: ${bytes.length} bytes, ${size}×${size} px, encodes ${text}\n`);
    });

  registerQrBatchCommand(qr, ctx);
}

function outputFormat(file: string): "png" | "svg" | "jpeg" {
  const ext = extname(file).toLowerCase();
  if (ext === ".png") return "png";
  if (ext === ".svg") return "svg";
  if (ext === ".jpg" || ext === ".jpeg") return "jpeg";
  throw new ValidationError("out", `must end in .png, .svg or .jpg, got ${JSON.stringify(file)}`);
}

function toJson(code: QrTicket, imageUrl: string): Record<string, unknown> {
  return {
    type: code.type,
    ticket: code.ticket,
    url: code.url,
    ...(code.sceneId !== undefined ? { sceneId: code.sceneId } : { sceneStr: code.sceneStr }),
    expireSeconds: code.expireSeconds ?? null,
    expiresAt: code.expiresAt === undefined ? null : new Date(code.expiresAt).toISOString(),
    imageUrl,
  };
}

function describe(code: QrTicket, imageUrl: string): string {
  const lines = [
    `${code.type} code, scene ${code.sceneId ?? JSON.stringify(code.sceneStr)}`,
    `  url:     ${code.url}`,
    `  ticket:  ${code.ticket}`,
    `  image:   ${imageUrl}`,
  ];
  if (code.expiresAt !== undefined) lines.push(`  expires: ${new Date(code.expiresAt).toISOString()}`);
  return `${lines.join("\n")}\n`;
}
