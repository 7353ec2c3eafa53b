/** `wxqr serve`, `wxqr migrate`, `wxqr stats`: the service from the environment. */
import type { Command } from "commander";
import { loadConfig, requireConfig } from "../../config.ts";
import { ConfigError } from "../../errors.ts";
import { CHANNEL_PAGE_MAX, createWxqrService, type ChannelView, type WxqrService } from "../../domain/index.ts";
import { migrate } from "../../store/migrations.ts";
import { listAccountIds } from "../../store/codes.ts";
import { openDatabase } from "../../store/index.ts";
import type { CliContext } from "../context.ts";
import { SERVICE_REQUIRES, startService } from "../start-service.ts";

export function registerServiceCommands(program: Command, ctx: CliContext): void {
  program
    .command("serve")
    .description("run the service (push endpoint, REST API, metrics), configured from the environment")
    .option("--port <n>", "overrides WXQR_PORT")
    .option("--host <addr>", "overrides WXQR_HOST")
    .option("--log", "log requests (JSON lines on stdout; secrets redacted)")
    .action(async (flags: { port?: string; host?: string; log?: boolean }) => {
      const config = loadConfig(ctx.env, { ...(flags.port ? { WXQR_PORT: flags.port } : {}), ...(flags.host ? { WXQR_HOST: flags.host } : {}) });
      requireConfig(config, SERVICE_REQUIRES, "by wxqr serve");
      const running = await startService(config, ctx.deps, { logger: Boolean(flags.log) });
      ctx.stdout.write(`wxqr serving on ${running.url} (push endpoint ${running.url}/wechat, API ${running.url}/api, docs ${running.url}/docs)\n`);
      const signal = await ctx.untilStopped();
      ctx.stdout.write(`stopping (${signal}): finishing in-flight pushes…\n`);
      await running.close();
      ctx.stdout.write("stopped\n");
    });

  program
    .command("migrate")
    .description("apply database migrations (also done at start)")
    .action(async () => {
      const config = loadConfig(ctx.env);
      const db = openDatabase(config.database);
      try {
        const applied = await migrate(db);
        ctx.stdout.write(applied.length ? `applied migrations ${applied.join(", ")}\n` : "database is up to date\n");
      } finally {
        await db.close();
      }
    });

  program
    .command("stats")
    .description("print channel statistics from the database")
    .option("--channel <id>", "one channel (default: all)")
    .option("--from <day>", "first day, YYYY-MM-DD (default: the channel's creation)")
    .option("--to <day>", "last day, YYYY-MM-DD (default: today)")
    .option("--json", "print JSON")
    .action(async (flags: { channel?: string; from?: string; to?: string; json?: boolean }) => {
      const config = loadConfig(ctx.env);
      const db = openDatabase(config.database);
      try {
        await migrate(db);
        // A database with one account (as `wxqr dev` leaves it) needs no WECHAT_APP_ID to read.
        const accounts = await db.read((sql) => listAccountIds(sql));
        const accountId = config.appId ?? (accounts.length === 1 ? accounts[0] : undefined);
        if (accountId === undefined) {
          throw new ConfigError([
            { key: "WECHAT_APP_ID", message: `is required to choose whose statistics to read (the database has ${accounts.length} accounts)` },
          ]);
        }
        const service = await createWxqrService({ db, accountId }, ctx.deps);
        const channels = flags.channel ? [await service.channels.get(flags.channel)] : await everyChannel(service);
        const rows = [];
        for (const c of channels) rows.push({ id: c.id, name: c.name, ...(await service.channels.stats(c.id, { from: flags.from, to: flags.to })) });
        if (flags.json) {
          ctx.stdout.write(`${JSON.stringify(rows)}\n`);
          return;
        }
        if (rows.length === 0) {
          ctx.stdout.write("no channels yet\n");
          return;
        }
        ctx.stdout.write("channel                        scans  unique  new  returning  unfollows  days\n");
        for (const r of rows) {
          ctx.stdout.write(
            `${`${r.name} (${r.id})`.padEnd(30).slice(0, 30)} ${String(r.scans).padStart(6)} ${String(r.uniqueScanners).padStart(7)} ${String(r.newFollowers).padStart(4)} ${String(r.returningFollowers).padStart(10)} ${String(r.unfollows).padStart(10)}  ${r.from}…${r.to}\n`,
          );
        }
      } finally {
        await db.close();
      }
    });
}

/** Every channel, archived ones included, page by page. */
async function everyChannel(service: WxqrService): Promise<ChannelView[]> {
  const all: ChannelView[] = [];
  for (;;) {
    const page = await service.channels.list({ archived: "all", limit: CHANNEL_PAGE_MAX, offset: all.length });
    all.push(...page.channels);
    if (page.channels.length === 0 || all.length >= page.total) return all;
  }
}
