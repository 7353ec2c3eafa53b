/** The account at a glance, for the dashboard's first screen. */
import type { FastifyInstance } from "fastify";
import type { WxqrService } from "../../domain/index.ts";
import { dayCountsProperties, errorResponses } from "./schemas.ts";

const totalsSchema = {
  type: "object",
  properties: { ...dayCountsProperties, netGrowth: { type: "integer", description: "newFollowers + returningFollowers − unfollows" } },
  required: ["scans", "uniqueScanners", "newFollowers", "returningFollowers", "unfollows", "netGrowth"],
} as const;

const groupTotalsSchema = {
  type: "object",
  description: "Sums over the group's channels; no unique scanners, which do not add up across channels",
  properties: {
    scans: { type: "integer" },
    newFollowers: { type: "integer" },
    returningFollowers: { type: "integer" },
    unfollows: { type: "integer" },
    netGrowth: { type: "integer" },
  },
  required: ["scans", "newFollowers", "returningFollowers", "unfollows", "netGrowth"],
} as const;

const overviewSchema = {
  type: "object",
  properties: {
    today: totalsSchema,
    last7: { ...totalsSchema, description: "The 7 days ending today" },
    last30: { ...totalsSchema, description: "The 30 days ending today" },
    quota: {
      type: "object",
      properties: {
        permanent: {
          type: "object",
          properties: { used: { type: "integer" }, limit: { type: "integer" }, remaining: { type: "integer" } },
          required: ["used", "limit", "remaining"],
        },
      },
      required: ["permanent"],
    },
    groups: {
      type: "array",
      description: "Each channel group's totals (archived channels included), by name",
      items: {
        type: "object",
        properties: { id: { type: "string" }, name: { type: "string" }, today: groupTotalsSchema, last7: groupTotalsSchema, last30: groupTotalsSchema },
        required: ["id", "name", "today", "last7", "last30"],
      },
    },
    webhook: {
      type: "object",
      description: "Only when a webhook is configured",
      properties: { backlog: { type: "integer" }, failing: { type: "integer", description: "Undelivered events that failed at least once" } },
      required: ["backlog", "failing"],
    },
  },
  required: ["today", "last7", "last30", "quota", "groups"],
} as const;

export function registerOverviewRoutes(app: FastifyInstance, deps: { service: WxqrService }): void {
  app.get(
    "/api/overview",
    {
      schema: {
        summary: "Today, the last 7 and the last 30 days over all channels (days in the account's time zone), the code quota, the webhook's backlog",
        response: { 200: overviewSchema, ...errorResponses },
      },
    },
    () => deps.service.overview(),
  );
}
