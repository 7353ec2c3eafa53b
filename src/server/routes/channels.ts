/** Channels (渠道码) and their statistics. */
import type { FastifyInstance, FastifyReply } from "fastify";
import type { RequestSchemaTypes } from "./request-types.ts";
import {
  CHANNEL_BATCH_ACTIONS,
  CHANNEL_PAGE_DEFAULT,
  CHANNEL_PAGE_MAX,
  CHANNEL_SELECTION_MAX,
  type ChannelView,
  type WxqrService,
} from "../../domain/index.ts";
import type { Clock } from "../../deps.ts";
import type { Metrics } from "../metrics.ts";
import { CHANNELS_CSV, CHANNELS_CSV_HEADER, exportChannels, type ChannelExportOptions } from "../channel-export.ts";
import { ValidationError } from "../../errors.ts";
import { attachmentDisposition, csvDocument } from "../csv.ts";
import { parseInstant } from "./params.ts";
import { qrcodeJson } from "./qrcodes.ts";
import { channelSchema, dayCountsProperties, errorResponses, followUpInputSchema, idParams, imageSizeProperties, tagInputSchema } from "./schemas.ts";

/** A follow-up image of 2 MB arrives as ~2.8 MB of base64. */
const CHANNEL_BODY_LIMIT_BYTES = 3 * 1_048_576;

function channelJson(c: ChannelView): Record<string, unknown> {
  return {
    id: c.id,
    name: c.name,
    welcome: c.welcome,
    qrcode: qrcodeJson(c.qrcode),
    createdAt: new Date(c.createdAt).toISOString(),
    archived: c.archived,
    today: c.today,
    total: c.total,
    followUp: c.followUpText ? { text: c.followUpText } : c.followUpImage ? { imageId: c.followUpImage } : null,
    tag: c.tagName ? { name: c.tagName, id: c.tagId ?? null } : null,
    groupId: c.groupId ?? null,
  };
}

const CSV_HEADER = ["date", "scans", "unique_scanners", "new_followers", "returning_followers", "unfollows"];

const ARCHIVED_FILTER = { false: false, true: true, all: "all" } as const;

const groupIdFilter = {
  type: "string",
  minLength: 1,
  maxLength: 64,
  description: 'Only the channels of this group; "none": only ungrouped ones. An unknown group is refused',
} as const;

/** `none` asks for the ungrouped channels. */
const groupFilter = (groupId: string | undefined): string | null | undefined => (groupId === "none" ? null : groupId);

/** `ids=ch_1,ch_2`: a selection in a URL; empty items are ignored. */
const idList = (ids: string | undefined): string[] | undefined =>
  ids === undefined
    ? undefined
    : ids
        .split(",")
        .map((id) => id.trim())
        .filter((id) => id !== "");

const idListQuery = {
  type: "string",
  maxLength: CHANNEL_SELECTION_MAX * 65,
  description: `Channel ids separated by commas, at most ${CHANNEL_SELECTION_MAX}; an unknown one is refused`,
} as const;

const idArrayInput = {
  type: "array",
  items: { type: "string", minLength: 1, maxLength: 64 },
  minItems: 1,
  maxItems: CHANNEL_SELECTION_MAX,
  description: `Channel ids, at most ${CHANNEL_SELECTION_MAX}; an unknown one is refused`,
} as const;

const channelFilterInput = {
  type: "object",
  description: "Selects as `GET /api/channels` does",
  properties: {
    search: { type: "string", maxLength: 100, description: "Part of the name; letters A–Z match either case" },
    groupId: { type: ["string", "null"], minLength: 1, maxLength: 64, description: "Only the channels of this group; null: only ungrouped ones" },
    archived: { anyOf: [{ type: "boolean" }, { type: "string", enum: ["all"] }], description: 'Default false; true: only archived ones; "all"' },
  },
  additionalProperties: false,
} as const;

const exportFormatProperties = {
  format: { type: "string", enum: ["png", "svg"], default: "png" },
  ...imageSizeProperties,
} as const;

const mergedStatsSchema = {
  type: "object",
  properties: {
    channelIds: { type: "array", items: { type: "string" }, description: "The channels counted, oldest first" },
    from: { type: "string" },
    to: { type: "string" },
    ...dayCountsProperties,
    days: { type: "array", items: { type: "object", properties: { date: { type: "string" }, ...dayCountsProperties } } },
  },
  required: ["channelIds", "from", "to", "days"],
} as const;

const groupIdInput = { type: ["string", "null"], minLength: 1, maxLength: 64, description: "Its channel group; null: ungrouped" } as const;

export function registerChannelRoutes(untyped: FastifyInstance, deps: { service: WxqrService; metrics: Metrics; clock: Clock }): void {
  const app = untyped.withTypeProvider<RequestSchemaTypes>();
  const { service } = deps;

  app.post(
    "/api/channels",
    {
      bodyLimit: CHANNEL_BODY_LIMIT_BYTES,
      schema: {
        summary: "Create a channel with its own permanent code",
        body: {
          type: "object",
          properties: {
            name: { type: "string", minLength: 1, maxLength: 100 },
            welcome: { type: "string", maxLength: 600 },
            followUp: followUpInputSchema,
            tag: tagInputSchema,
            groupId: groupIdInput,
          },
          required: ["name"],
          additionalProperties: false,
        },
        response: { 201: channelSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const channel = await service.channels.create(request.body);
      deps.metrics.codesCreated.inc({ type: channel.qrcode.type });
      return reply.code(201).send(channelJson(channel));
    },
  );

  app.get(
    "/api/channels",
    {
      schema: {
        summary: "A page of channels with today's and total counters: searched by name, sorted, archived ones only when asked for",
        querystring: {
          type: "object",
          properties: {
            search: { type: "string", maxLength: 100, description: "Part of the name; letters A–Z match either case" },
            sort: { type: "string", enum: ["name", "createdAt", "todayScans", "totalScans"], default: "createdAt" },
            order: { type: "string", enum: ["asc", "desc"], default: "asc" },
            limit: { type: "integer", minimum: 1, maximum: CHANNEL_PAGE_MAX, default: CHANNEL_PAGE_DEFAULT },
            offset: { type: "integer", minimum: 0, default: 0 },
            archived: { type: "string", enum: ["false", "true", "all"], default: "false" },
            groupId: groupIdFilter,
          },
          additionalProperties: false,
        },
        response: {
          200: {
            type: "object",
            properties: { channels: { type: "array", items: channelSchema }, total: { type: "integer", description: "Channels that match, on every page" } },
            required: ["channels", "total"],
          },
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const q = request.query;
      const page = await service.channels.list({ ...q, archived: ARCHIVED_FILTER[q.archived], groupId: groupFilter(q.groupId) });
      return { channels: page.channels.map(channelJson), total: page.total };
    },
  );

  app.get(
    "/api/channels/export.zip",
    {
      schema: {
        summary:
          `The channels the list's filters or \`ids\` select, as a ZIP: each one's code rendered locally (named after the channel) and ${CHANNELS_CSV} ` +
          "for Excel (UTF-8 with BOM), streamed",
        querystring: {
          type: "object",
          properties: {
            ids: idListQuery,
            search: { type: "string", maxLength: 100, description: "Part of the name; letters A–Z match either case" },
            archived: { type: "string", enum: ["false", "true", "all"], description: 'Default "false", or "all" with `ids`' },
            groupId: groupIdFilter,
            ...exportFormatProperties,
          },
          additionalProperties: false,
        },
        produces: ["application/zip"],
        response: { 200: { type: "string", format: "binary", description: `${CHANNELS_CSV} header row: ${CHANNELS_CSV_HEADER.join(",")}` }, ...errorResponses },
      },
    },
    async (request, reply) => {
      const q = request.query;
      const ids = idList(q.ids);
      // A selection is taken as it is, archived channels included, unless asked otherwise.
      const archived = ARCHIVED_FILTER[q.archived ?? (ids ? "all" : "false")];
      return sendExport(reply, { ids, search: q.search, archived, groupId: groupFilter(q.groupId) }, q);
    },
  );

  app.post(
    "/api/channels/export.zip",
    {
      schema: {
        summary: "`GET /api/channels/export.zip` for a selection too long for a URL: `ids` or a `filter`, in a JSON body",
        body: {
          type: "object",
          properties: { ids: idArrayInput, filter: channelFilterInput, ...exportFormatProperties },
          additionalProperties: false,
        },
        produces: ["application/zip"],
        response: { 200: { type: "string", format: "binary", description: `${CHANNELS_CSV} header row: ${CHANNELS_CSV_HEADER.join(",")}` }, ...errorResponses },
      },
    },
    async (request, reply) => {
      const b = request.body;
      if (b.ids !== undefined && b.filter !== undefined) throw new ValidationError("ids", "give either `ids` or `filter`, not both");
      const f = b.filter ?? {};
      const filters = b.ids !== undefined ? { ids: b.ids, archived: "all" as const } : { search: f.search, groupId: f.groupId, archived: f.archived ?? false };
      return sendExport(reply, filters, b);
    },
  );

  async function sendExport(reply: FastifyReply, filters: ChannelExportOptions["filters"], image: { format: "png" | "svg"; size: number; margin: number }) {
    const zip = await exportChannels(service, { filters, format: image.format, size: image.size, margin: image.margin, mtime: new Date(deps.clock.now()) });
    return reply.type("application/zip").header("content-disposition", attachmentDisposition("channels.zip")).send(zip);
  }

  app.get(
    "/api/channels/stats",
    {
      schema: {
        summary: "Several channels' counters (`ids`) or a group's, summed per day; a person who scanned two of them is one unique scanner",
        querystring: {
          type: "object",
          properties: {
            ids: idListQuery,
            groupId: { type: "string", minLength: 1, maxLength: 64, description: "Every channel of this group, archived ones too" },
            from: { type: "string", description: "YYYY-MM-DD in the account's zone, an ISO date-time or epoch ms; default: the oldest channel's creation" },
            to: { type: "string", description: "Default: today" },
          },
          additionalProperties: false,
        },
        response: { 200: mergedStatsSchema, ...errorResponses },
      },
    },
    async (request) => {
      const q = request.query;
      return service.channels.mergedStats({
        ids: idList(q.ids),
        groupId: q.groupId,
        from: parseInstant(q.from, "from"),
        to: parseInstant(q.to, "to"),
      });
    },
  );

  app.post(
    "/api/channels/batch",
    {
      schema: {
        summary: "Move, archive or restore a selection (`ids`) or the channels a `filter` selects, all or none in one transaction",
        body: {
          type: "object",
          properties: {
            ids: idArrayInput,
            filter: channelFilterInput,
            action: { type: "string", enum: [...CHANNEL_BATCH_ACTIONS], description: "pause and resume: not yet supported (400)" },
            groupId: { ...groupIdInput, description: "For move: the group; null takes the channels out of theirs" },
          },
          required: ["action"],
          additionalProperties: false,
        },
        response: {
          200: {
            type: "object",
            properties: {
              matched: { type: "integer", description: "Channels selected" },
              updated: { type: "integer", description: "Those changed (the others already were so)" },
            },
            required: ["matched", "updated"],
          },
          ...errorResponses,
        },
      },
    },
    async (request) => service.channels.batch(request.body),
  );

  app.get("/api/channels/:id", { schema: { summary: "A channel", params: idParams, response: { 200: channelSchema, ...errorResponses } } }, async (request) =>
    channelJson(await service.channels.get(request.params.id)),
  );

  app.patch(
    "/api/channels/:id",
    {
      bodyLimit: CHANNEL_BODY_LIMIT_BYTES,
      schema: {
        summary: "Rename a channel, change or clear its welcome reply, follow-up or tag, move it to a group or out of one, archive or restore it",
        params: idParams,
        body: {
          type: "object",
          properties: {
            name: { type: "string", minLength: 1, maxLength: 100, description: "Unique; no control characters" },
            welcome: { type: ["string", "null"], maxLength: 600, description: "null or an empty string clears it" },
            archived: { type: "boolean", description: "An archived channel's code still works and counts; it leaves the default list" },
            followUp: followUpInputSchema,
            tag: tagInputSchema,
            groupId: groupIdInput,
          },
          additionalProperties: false,
        },
        response: { 200: channelSchema, ...errorResponses },
      },
    },
    async (request) => channelJson(await service.channels.update(request.params.id, request.body)),
  );

  app.get(
    "/api/channels/:id/stats",
    {
      schema: {
        summary: "A channel's counters over a range (default: since its creation), per day in the account's time zone",
        params: idParams,
        querystring: { type: "object", properties: { from: { type: "string" }, to: { type: "string" } }, additionalProperties: false },
        response: {
          200: {
            type: "object",
            properties: {
              from: { type: "string" },
              to: { type: "string" },
              ...dayCountsProperties,
              days: { type: "array", items: { type: "object", properties: { date: { type: "string" }, ...dayCountsProperties } } },
            },
          },
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const q = request.query;
      return service.channels.stats(request.params.id, { from: parseInstant(q.from, "from"), to: parseInstant(q.to, "to") });
    },
  );

  app.get(
    "/api/channels/:id/stats.csv",
    {
      schema: {
        summary: "A channel's counters per day as CSV for Excel (UTF-8 with BOM): every day of the range, zeros included",
        params: idParams,
        querystring: { type: "object", properties: { from: { type: "string" }, to: { type: "string" } }, additionalProperties: false },
        produces: ["text/csv"],
        response: { 200: { type: "string", description: `Header row: ${CSV_HEADER.join(",")}` }, ...errorResponses },
      },
    },
    async (request, reply) => {
      const q = request.query;
      const channel = await service.channels.get(request.params.id);
      const stats = await service.channels.dailyStats(channel.id, { from: parseInstant(q.from, "from"), to: parseInstant(q.to, "to") });
      const rows = stats.days.map((d) => [d.date, d.scans, d.uniqueScanners, d.newFollowers, d.returningFollowers, d.unfollows]);
      return reply
        .type("text/csv; charset=utf-8")
        .header("content-disposition", attachmentDisposition(`${channel.name}-${stats.from}-${stats.to}.csv`))
        .send(csvDocument(CSV_HEADER, rows));
    },
  );
}
