import type { FastifyError } from "fastify";
import { describe, expect, it } from "vitest";
import { fastifyRefusal } from "./fastify-refusal.ts";

const fastifyError = (code: string, statusCode?: number): FastifyError =>
  Object.assign(new Error(code), { code, name: "FastifyError", ...(statusCode === undefined ? {} : { statusCode }) });

describe("fastifyRefusal", () => {
  it("tells a body over the limit from Fastify's other 4xx refusals", () => {
    expect(fastifyRefusal(fastifyError("FST_ERR_CTP_BODY_TOO_LARGE", 413))).toBe("body-too-large");
    expect(fastifyRefusal(fastifyError("FST_ERR_CTP_INVALID_MEDIA_TYPE", 415))).toBe("bad-request");
    expect(fastifyRefusal(fastifyError("FST_ERR_CTP_EMPTY_JSON_BODY", 400))).toBe("bad-request");
  });

  it("leaves Fastify's 5xx, errors without a status, and anyone else's 4xx alone", () => {
    expect(fastifyRefusal(fastifyError("FST_ERR_REP_INVALID_PAYLOAD_TYPE", 500))).toBeUndefined();
    expect(fastifyRefusal(fastifyError("FST_ERR_SOMETHING"))).toBeUndefined();
    expect(fastifyRefusal(fastifyError("NOT_FOUND", 404))).toBeUndefined();
  });
});
