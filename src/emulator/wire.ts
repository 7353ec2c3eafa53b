/**
 * How the emulator writes API answers: HTTP 200 for errors as well as successes, the
 * platform's odd `application/json; encoding=utf-8` content type, and `/` escaped as `\/`
 * as in the platform's own samples (wechat-api.md §1), so clients must use a real JSON parser.
 * @module
 */
import type { FastifyReply } from "fastify";
import type { Random } from "../deps.ts";
import { wireError } from "./wire-errors.ts";

export const WIRE_CONTENT_TYPE = "application/json; encoding=utf-8";

/** Serialises like the platform: every `/` in a string becomes `\/` (still valid JSON). */
export function toWireJson(body: object): string {
  return JSON.stringify(body).replaceAll("/", "\\/");
}

export function sendWire(reply: FastifyReply, body: object): FastifyReply {
  // A Buffer, so Fastify leaves the content type exactly as written (a string gets `; charset=utf-8`).
  return reply
    .code(200)
    .header("content-type", WIRE_CONTENT_TYPE)
    .send(Buffer.from(toWireJson(body), "utf8"));
}

export function sendWireError(reply: FastifyReply, errcode: number, random: Random): FastifyReply {
  return sendWire(reply, wireError(errcode, random));
}
