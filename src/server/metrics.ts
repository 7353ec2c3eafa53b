/** Prometheus metrics (prom-client), in a registry of the server's own. */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { ChannelCodeRenewer, FollowUpService } from "../domain/index.ts";

export interface Metrics {
  registry: Registry;
  pushes: Counter<"outcome">;
  pushDuration: Histogram<"outcome">;
  codesCreated: Counter<"type">;
}

export function createMetrics(sources: {
  tokenRefreshes: () => number;
  pendingPushes: () => number;
  webhookBacklog?: () => Promise<number>;
  scanSessionWarmCodes?: () => Promise<number>;
  followUps?: FollowUpService;
  channelCodes?: Pick<ChannelCodeRenewer, "onOutcome">;
}): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "wxqr_" });
  const pushes = new Counter({ name: "wxqr_pushes_total", help: "Pushes received, by outcome", labelNames: ["outcome"], registers: [registry] });
  // WeChat gives up after 5 s; the buckets are dense below that.
  const pushDuration = new Histogram({
    name: "wxqr_push_duration_seconds",
    help: "Time from a push's arrival to its reply (commit included)",
    labelNames: ["outcome"],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const codesCreated = new Counter({
    name: "wxqr_qrcodes_created_total",
    help: "Codes created through the service",
    labelNames: ["type"],
    registers: [registry],
  });
  new Gauge({
    name: "wxqr_access_token_refreshes",
    help: "Access-token requests this process has sent",
    registers: [registry],
    collect() {
      this.set(sources.tokenRefreshes());
    },
  });
  new Gauge({
    name: "wxqr_push_commit_queue",
    help: "Pushes waiting for the next group commit",
    registers: [registry],
    collect() {
      this.set(sources.pendingPushes());
    },
  });
  const webhookBacklog = sources.webhookBacklog;
  if (webhookBacklog) {
    new Gauge({
      name: "wxqr_webhook_backlog",
      help: "Business-webhook events not yet delivered (the outbox, shared by every instance)",
      registers: [registry],
      async collect() {
        this.set(await webhookBacklog());
      },
    });
  }
  const warmCodes = sources.scanSessionWarmCodes;
  if (warmCodes) {
    new Gauge({
      name: "wxqr_scan_session_warm_codes",
      help: "Codes made ahead for scan sessions that can still outlive one (shared by every instance)",
      registers: [registry],
      async collect() {
        this.set(await warmCodes());
      },
    });
  }
  const followUps = sources.followUps;
  if (followUps) {
    new Gauge({
      name: "wxqr_follow_ups",
      help: "Follow-up messages and taggings in the outbox, by status (shared by every instance)",
      labelNames: ["status"],
      registers: [registry],
      async collect() {
        for (const [status, n] of Object.entries(await followUps.counts())) this.set({ status }, n);
      },
    });
    const sent = new Counter({
      name: "wxqr_follow_ups_sent_total",
      help: "Follow-up messages and taggings this process sent, by kind",
      labelNames: ["kind"],
      registers: [registry],
    });
    const failures = new Counter({
      name: "wxqr_follow_up_failures_total",
      help: "Follow-up rows whose attempt by this process failed, by the platform's errcode (45015 window closed, 45047 count used up; none: no errcode)",
      labelNames: ["errcode"],
      registers: [registry],
    });
    followUps.dispatcher.onOutcome((o) => {
      if (o.sent) sent.inc({ kind: o.kind }, o.rows);
      else failures.inc({ errcode: o.errcode === null ? "none" : String(o.errcode) }, o.rows);
    });
  }
  if (sources.channelCodes) {
    const renewals = new Counter({
      name: "wxqr_channel_renewals_total",
      help: "Renewals of temporary channels' codes by this process: renewed, lost-race (another instance switched first; one unused code), failed (tried again)",
      labelNames: ["outcome"],
      registers: [registry],
    });
    sources.channelCodes.onOutcome((outcome) => renewals.inc({ outcome }));
  }
  return { registry, pushes, pushDuration, codesCreated };
}
