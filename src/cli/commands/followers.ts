/** `wxqr followers import`: record the account's existing followers, so they never count as new. */
import type { Command } from "commander";
import { loadConfig, requireConfig } from "../../config.ts";
import { createWxqrService } from "../../domain/index.ts";
import { openDatabase } from "../../store/index.ts";
import { migrate } from "../../store/migrations.ts";
import { createWeChatClient } from "../../wechat/client.ts";
import type { CliContext } from "../context.ts";

export function registerFollowerCommands(program: Command, ctx: CliContext): void {
  const followers = program.command("followers").description("the account's followers as wxqr knows them");

  followers
    .command("import")
    .description(
      "page through the platform's follower list (/cgi-bin/user/get) and record everyone wxqr does not know, so that people who followed before wxqr never count as new followers or referrals",
    )
    .option("--json", "print the result as JSON")
    .action(async (flags: { json?: boolean }) => {
      const config = loadConfig(ctx.env);
      requireConfig(config, ["appId", "appSecret"], "to read the follower list");
      const client = createWeChatClient({ appId: config.appId, appSecret: config.appSecret, apiBase: config.apiBase, mpBase: config.mpBase }, ctx.deps);
      const db = openDatabase(config.database);
      try {
        await migrate(db);
        const service = await createWxqrService(
          {
            db,
            qrcodes: client.qrcodes,
            wechat: client,
            accountId: config.appId,
            permanentQuota: config.permanentQuota,
          },
          ctx.deps,
        );
        const result = await service.followers.importFromPlatform();
        if (flags.json) {
          ctx.stdout.write(`${JSON.stringify({ ...result, importedAt: new Date(result.importedAt).toISOString() })}\n`);
          return;
        }
        ctx.stdout.write(
          `imported ${result.imported} followers (${result.alreadyKnown} already known; the platform lists ${result.total}) in ${result.pages} page${result.pages === 1 ? "" : "s"}\n` +
            `from now on a "new follower" is someone new to the account, not just new to wxqr\n`,
        );
      } finally {
        await db.close();
      }
    });
}
