/**
 * `wxqr channels list|create|update|archive` and `wxqr channels groups …` (issue #13), for
 * operators who script. Like `wxqr followers import`, they work on the database directly (no
 * running service needed) with the account's credentials: creating a channel creates its
 * permanent code at WeChat.
 * @module
 */
import type { Command } from "commander";
import { loadConfig, requireConfig } from "../../config.ts";
import { createWxqrService, imageLinkPath, type ChannelGroupListItem, type ChannelView, type CodeSpecInput, type WxqrService } from "../../domain/index.ts";
import { ValidationError } from "../../errors.ts";
import { openDatabase } from "../../store/index.ts";
import { migrate } from "../../store/migrations.ts";
import { createWeChatClient } from "../../wechat/client.ts";
import type { CliContext } from "../context.ts";

interface ListFlags {
  group?: string;
  archived?: boolean;
  json?: boolean;
}

interface ChannelFlags {
  name?: string;
  welcome?: string;
  group?: string;
  json?: boolean;
  temporary?: string;
  renew?: boolean;
  permanent?: boolean;
}

// --- temporary channels (issue #13) ---
/** `--temporary DAYS [--renew|--no-renew]` or `--permanent` as the channel's `code`; undefined: neither given. */
function codeFlags(flags: ChannelFlags): CodeSpecInput | undefined {
  if (flags.permanent && flags.temporary !== undefined) throw new ValidationError("code", "give --temporary DAYS or --permanent, not both");
  if (flags.permanent) {
    if (flags.renew !== undefined) throw new ValidationError("code.renew", "--renew goes with --temporary DAYS");
    return { type: "permanent" };
  }
  if (flags.temporary === undefined) {
    if (flags.renew !== undefined) throw new ValidationError("code.renew", "--renew goes with --temporary DAYS");
    return undefined;
  }
  const days = /^\d+$/.test(flags.temporary) ? Number(flags.temporary) : Number.NaN;
  return { type: "temporary", days, ...(flags.renew !== undefined ? { renew: flags.renew } : {}) };
}

const codeJson = (c: ChannelView): Record<string, unknown> =>
  c.codeDays == null
    ? { type: "permanent" }
    : {
        type: "temporary",
        days: c.codeDays,
        renew: c.codeRenew ?? false,
        expiresAt: c.qrcode.expiresAt === null ? null : new Date(c.qrcode.expiresAt).toISOString(),
      };

/** "permanent", or "temporary 3d" (+ " renew"), for the table. */
const codeLabel = (c: ChannelView): string => (c.codeDays == null ? "permanent" : `temporary ${c.codeDays}d${c.codeRenew ? " renew" : ""}`);
// --- end temporary channels ---

/** Runs `body` with the service on the configured database, closing it after. */
async function withService<T>(ctx: CliContext, why: string, body: (service: WxqrService) => Promise<T>): Promise<T> {
  const config = loadConfig(ctx.env);
  requireConfig(config, ["appId", "appSecret"], why);
  const client = createWeChatClient({ appId: config.appId, appSecret: config.appSecret, apiBase: config.apiBase, mpBase: config.mpBase }, ctx.deps);
  const db = openDatabase(config.database);
  try {
    await migrate(db);
    const service = await createWxqrService(
      { db, qrcodes: client.qrcodes, wechat: client, accountId: config.appId, permanentQuota: config.permanentQuota },
      ctx.deps,
    );
    return await body(service);
  } finally {
    await db.close();
  }
}

/** `--group` names a group by id or by name; "none" (where allowed) means ungrouped. */
async function resolveGroup(service: WxqrService, given: string, noneAllowed: boolean): Promise<string | null> {
  if (noneAllowed && given === "none") return null;
  const groups = await service.channelGroups.list();
  const found = groups.find((g) => g.id === given) ?? groups.find((g) => g.name === given.trim());
  if (!found) throw new ValidationError("groupId", `no channel group with the id or name ${JSON.stringify(given)}`);
  return found.id;
}

const channelJson = (c: ChannelView, groupNames: ReadonlyMap<string, string>): Record<string, unknown> => ({
  id: c.id,
  name: c.name,
  welcome: c.welcome,
  groupId: c.groupId ?? null,
  group: c.groupId ? (groupNames.get(c.groupId) ?? null) : null,
  archived: c.archived,
  scene: c.qrcode.sceneId ?? c.qrcode.sceneStr ?? null,
  url: c.qrcode.url,
  ticket: c.qrcode.ticket,
  createdAt: new Date(c.createdAt).toISOString(),
  today: c.today,
  total: c.total,
  code: codeJson(c),
  imageLink: imageLinkPath(c.imageToken ?? ""),
});

/** Columns padded to their widest cell (by code point, so CJK names misalign slightly, as in `ls`). */
function table(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = header.map((h, i) => Math.max([...h].length, ...rows.map((r) => [...r[i]!].length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c + " ".repeat(widths[i]! - [...c].length)))
      .join("  ")
      .trimEnd();
  return `${[header, ...rows].map(line).join("\n")}\n`;
}

async function groupNames(service: WxqrService): Promise<Map<string, string>> {
  return new Map((await service.channelGroups.list()).map((g) => [g.id, g.name]));
}

function writeChannel(ctx: CliContext, c: ChannelView, names: ReadonlyMap<string, string>, json: boolean | undefined, verb: string): void {
  if (json) ctx.stdout.write(`${JSON.stringify(channelJson(c, names))}\n`);
  else
    ctx.stdout.write(
      `${verb} channel ${c.id} ${JSON.stringify(c.name)}${c.groupId ? ` in group ${JSON.stringify(names.get(c.groupId))}` : ""}\n${c.qrcode.url}\n`,
    );
}

const groupJson = (g: ChannelGroupListItem | { id: string; name: string; createdAt: number }): Record<string, unknown> => ({
  id: g.id,
  name: g.name,
  createdAt: new Date(g.createdAt).toISOString(),
  ...("channels" in g ? { channels: g.channels, archivedChannels: g.archivedChannels } : {}),
});

export function registerChannelCommands(program: Command, ctx: CliContext): void {
  const channels = program
    .command("channels")
    .description("channels (渠道码) and their groups, on the configured database (WXQR_DATABASE) with the account's credentials");

  channels
    .command("list")
    .description("list the channels with today's and total scans")
    .option("--group <name|id>", 'only the channels of this group; "none": only ungrouped ones')
    .option("--archived", "list the archived channels instead")
    .option("--json", "print one JSON object per line")
    .action(async (flags: ListFlags) => {
      await withService(ctx, "to read the account's channels", async (service) => {
        const groupId = flags.group === undefined ? undefined : await resolveGroup(service, flags.group, true);
        const names = await groupNames(service);
        const found: ChannelView[] = [];
        for (let offset = 0; ;) {
          const page = await service.channels.list({ groupId, archived: flags.archived ?? false, sort: "createdAt", order: "asc", limit: 1_000, offset });
          found.push(...page.channels);
          offset += page.channels.length;
          if (page.channels.length === 0 || offset >= page.total) break;
        }
        if (flags.json) {
          for (const c of found) ctx.stdout.write(`${JSON.stringify(channelJson(c, names))}\n`);
          return;
        }
        if (found.length === 0) {
          ctx.stdout.write("no channels\n");
          return;
        }
        const rows = found.map((c) => [
          c.id,
          c.name,
          c.groupId ? (names.get(c.groupId) ?? "") : "-",
          String(c.today.scans),
          String(c.total.scans),
          codeLabel(c),
          c.qrcode.expiresAt === null ? "-" : new Date(c.qrcode.expiresAt).toISOString(),
          c.qrcode.url ?? "",
        ]);
        ctx.stdout.write(table(["ID", "NAME", "GROUP", "TODAY", "TOTAL", "CODE", "EXPIRES", "URL"], rows));
      });
    });

  channels
    .command("create <name>")
    .description("create a channel with its own code (qrcode/create): permanent, or temporary with --temporary DAYS")
    .option("--welcome <text>", "the reply to whoever scans the code")
    .option("--group <name|id>", "put it in this group")
    .option("--temporary <days>", "a temporary code valid 1 to 30 days (no permanent quota), behind the channel's stable image link")
    .option("--renew", "with --temporary: a new code replaces it a day before it expires (12 h for 1 day)")
    .option("--json", "print the channel as JSON")
    .action(async (name: string, flags: ChannelFlags) => {
      await withService(ctx, "to create the channel's code", async (service) => {
        const groupId = flags.group === undefined ? undefined : await resolveGroup(service, flags.group, false);
        const code = codeFlags(flags);
        const created = await service.channels.create({
          name,
          ...(code ? { code } : {}),
          ...(flags.welcome !== undefined ? { welcome: flags.welcome } : {}),
          ...(groupId ? { groupId } : {}),
        });
        writeChannel(ctx, created, await groupNames(service), flags.json, "created");
      });
    });

  channels
    .command("update <id>")
    .description('rename a channel, change its welcome reply ("" clears it), move it to a group, or change its code')
    .option("--name <name>", "its new name")
    .option("--welcome <text>", 'its new welcome reply; "" clears it')
    .option("--group <name|id>", 'move it to this group; "none" ungroups it')
    .option("--temporary <days>", "make its code temporary for 1 to 30 days (from a permanent one: a new code now; else from the next renewal)")
    .option("--renew", "with --temporary: renew its code before it expires")
    .option("--no-renew", "with --temporary: let its code expire")
    .option("--permanent", "give it a permanent code now (takes one of the permanent quota)")
    .option("--json", "print the channel as JSON")
    .action(async (id: string, flags: ChannelFlags) => {
      const code = codeFlags(flags);
      if (flags.name === undefined && flags.welcome === undefined && flags.group === undefined && code === undefined) {
        throw new ValidationError("update", "give at least one of --name, --welcome, --group, --temporary DAYS or --permanent");
      }
      await withService(ctx, "to update the channel", async (service) => {
        const groupId = flags.group === undefined ? undefined : await resolveGroup(service, flags.group, true);
        const updated = await service.channels.update(id, {
          ...(flags.name !== undefined ? { name: flags.name } : {}),
          ...(flags.welcome !== undefined ? { welcome: flags.welcome } : {}),
          ...(groupId !== undefined ? { groupId } : {}),
          ...(code ? { code } : {}),
        });
        writeChannel(ctx, updated, await groupNames(service), flags.json, "updated");
      });
    });

  channels
    .command("archive <id>")
    .description("archive a channel: its code keeps working and counting, it leaves the default list")
    .option("--json", "print the channel as JSON")
    .action(async (id: string, flags: { json?: boolean }) => {
      await withService(ctx, "to archive the channel", async (service) => {
        writeChannel(ctx, await service.channels.update(id, { archived: true }), await groupNames(service), flags.json, "archived");
      });
    });

  const groups = channels.command("groups").description("groups of channels, by campaign or region");

  groups
    .command("list")
    .description("list the groups with how many channels each holds")
    .option("--json", "print one JSON object per line")
    .action(async (flags: { json?: boolean }) => {
      await withService(ctx, "to read the account's groups", async (service) => {
        const found = await service.channelGroups.list();
        if (flags.json) {
          for (const g of found) ctx.stdout.write(`${JSON.stringify(groupJson(g))}\n`);
          return;
        }
        if (found.length === 0) {
          ctx.stdout.write("no groups\n");
          return;
        }
        ctx.stdout.write(
          table(
            ["ID", "NAME", "CHANNELS", "ARCHIVED"],
            found.map((g) => [g.id, g.name, String(g.channels), String(g.archivedChannels)]),
          ),
        );
      });
    });

  groups
    .command("create <name>")
    .description("create a group")
    .option("--json", "print the group as JSON")
    .action(async (name: string, flags: { json?: boolean }) => {
      await withService(ctx, "to create the group", async (service) => {
        const g = await service.channelGroups.create(name);
        ctx.stdout.write(flags.json ? `${JSON.stringify(groupJson(g))}\n` : `created group ${g.id} ${JSON.stringify(g.name)}\n`);
      });
    });

  groups
    .command("rename <id> <name>")
    .description("rename a group")
    .option("--json", "print the group as JSON")
    .action(async (id: string, name: string, flags: { json?: boolean }) => {
      await withService(ctx, "to rename the group", async (service) => {
        const g = await service.channelGroups.rename(id, name);
        ctx.stdout.write(flags.json ? `${JSON.stringify(groupJson(g))}\n` : `renamed group ${g.id} to ${JSON.stringify(g.name)}\n`);
      });
    });

  groups
    .command("delete <id>")
    .description("delete a group; its channels become ungrouped")
    .action(async (id: string) => {
      await withService(ctx, "to delete the group", async (service) => {
        await service.channelGroups.delete(id);
        ctx.stdout.write(`deleted group ${id}; its channels are ungrouped\n`);
      });
    });
}
