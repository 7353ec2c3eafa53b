/**
 * A Fastify type provider that types a route's request (body, query, params) from the JSON
 * schemas it already declares — the schemas that validate it and become the OpenAPI document —
 * so handlers need no casts. Replies are left to the handlers: their JSON is built by the
 * `…Json` functions, and Fastify serialises it by the same schemas at run time. Types only.
 * @module
 */
import type { FastifyTypeProvider } from "fastify";
import type { FromSchema, JSONSchema } from "json-schema-to-ts";

export interface RequestSchemaTypes extends FastifyTypeProvider {
  validator: this["schema"] extends JSONSchema ? FromSchema<this["schema"]> : unknown;
  serializer: unknown;
}
