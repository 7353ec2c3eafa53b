/**
 * Reading the JSON bodies of `/emulator/*` control requests. A bad body gets 400 with a
 * message saying what is wrong.
 * @module
 */
import type { FastifyReply } from "fastify";
import { z } from "zod";
import { rawBody } from "./context.ts";
import { WECHAT_ID_RE } from "./options.ts";

/** A user's openId in a control request. */
export const openIdField = z.string().regex(WECHAT_ID_RE, "openId must be 1 to 64 letters, digits, _ or -");

export const NICKNAME_MAX_CHARS = 32; // WeChat's own nicknames are shorter; this only has to fit the phone page

/** A display name: 1 to 32 characters, no control characters. */
export const nicknameField = z
  .string()
  .trim()
  .min(1, "nickname must not be empty")
  .refine((s) => Array.from(s).length <= NICKNAME_MAX_CHARS, `nickname must be at most ${NICKNAME_MAX_CHARS} characters`)
  // eslint-disable-next-line no-control-regex
  .refine((s) => !/[\u0000-\u001f\u007f]/.test(s), "nickname must not contain control characters");

export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };

/** Parses a body (read as text) as JSON and checks it against `schema`; an empty body is `{}`. */
export function readJsonBody<T>(route: string, body: unknown, schema: z.ZodType<T>): Parsed<T> {
  const text = rawBody(body).trim();
  let json: unknown = {};
  if (text !== "") {
    try {
      json = JSON.parse(text);
    } catch {
      return { ok: false, message: `${route}: the body is not JSON` };
    }
  }
  const result = schema.safeParse(json);
  if (!result.success) return { ok: false, message: `${route}: ${z.prettifyError(result.error).replaceAll("\n", " ")}` };
  return { ok: true, value: result.data };
}

/** `readJsonBody`, answering 400 itself when the body is bad. */
export function parseBody<T>(reply: FastifyReply, route: string, body: unknown, schema: z.ZodType<T>): Parsed<T> {
  const parsed = readJsonBody(route, body, schema);
  if (!parsed.ok) badRequest(reply, parsed.message);
  return parsed;
}

export function badRequest(reply: FastifyReply, message: string, extra: Record<string, unknown> = {}): void {
  void reply.code(400).send({ statusCode: 400, error: "Bad Request", message, ...extra });
}
