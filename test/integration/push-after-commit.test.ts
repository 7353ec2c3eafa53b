/**
 * `PushContext.afterCommit` on both engines: work a hook registers runs only for a push whose
 * transaction committed, once, even when its batch was run a second time item by item because
 * another push in it failed.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { silentLogger } from "../../src/deps.ts";
import { pushBatch, runAfterCommit } from "../../src/domain/push-batch.ts";
import type { PushSettings } from "../../src/domain/push-hooks.ts";
import { toPushMessage, type PushMessage } from "../../src/push/events.ts";
import * as codes from "../../src/store/codes.ts";
import type { Database } from "../../src/store/database.ts";
import { migrate } from "../../src/store/migrations.ts";
import { type DatabaseFactory, describeOnBothEngines } from "../helpers/databases.ts";

const ACCOUNT = "wxAfterCommit";
const AT = Date.UTC(2026, 10, 25, 4);

function textPush(openId: string, content: string, msgId: number): PushMessage {
  return toPushMessage(
    { ToUserName: "gh_test", FromUserName: openId, CreateTime: "1795000000", MsgType: "text", Content: content, MsgId: String(msgId) },
    false,
  );
}

/** Pushes of no code, each handed to `onOther`, the hook under test. */
function replyingWith(onOther: NonNullable<PushSettings["onOther"]>): PushSettings {
  return { accountId: ACCOUNT, timeZone: "Asia/Shanghai", owners: {}, onOther };
}

function describeAfterCommit(makeFactory: () => DatabaseFactory): void {
  let factory: DatabaseFactory;
  beforeAll(() => {
    factory = makeFactory();
  });
  afterAll(async () => {
    await factory.cleanup();
  });

  async function freshDatabase(): Promise<Database> {
    const { db } = await factory.create();
    await migrate(db);
    await db.transaction((sql) => codes.ensureAccount(sql, { id: ACCOUNT, timeZone: "Asia/Shanghai" }, AT));
    return db;
  }

  it("runs a push's after-commit work once it committed, never for a push rolled back beside it", async () => {
    const db = await freshDatabase();
    const ran: string[] = [];
    const settings = replyingWith(async (_sql, ctx, message) => {
      ctx.afterCommit(() => ran.push(message.openId));
      if (message.fields.Content === "fail") throw new Error("this push cannot be stored");
    });

    const results = await db.batch([textPush("oGood", "hello", 1), textPush("oBad", "fail", 2), textPush("oAlso", "hi", 3)], pushBatch(settings, AT));
    expect(results.map((r) => r.ok)).toEqual([true, false, true]);
    // Nothing runs before the batch's caller says so: the batch has committed by then.
    expect(ran).toEqual([]);
    for (const r of results) if (r.ok) runAfterCommit(r.value, silentLogger);
    expect(ran).toEqual(["oGood", "oAlso"]);
  });

  it("runs the rest of a push's after-commit work when one piece throws", async () => {
    const db = await freshDatabase();
    const ran: string[] = [];
    const warned: unknown[] = [];
    const settings = replyingWith(async (_sql, ctx) => {
      ctx.afterCommit(() => {
        throw new Error("first piece fails");
      });
      ctx.afterCommit(() => ran.push("second"));
    });
    const [result] = await db.batch([textPush("oOne", "hello", 1)], pushBatch(settings, AT));
    expect(result?.ok).toBe(true);
    if (result?.ok) runAfterCommit(result.value, { ...silentLogger, warn: (o) => void warned.push(o) });
    expect(ran).toEqual(["second"]);
    expect(warned).toHaveLength(1);
  });
}

describeOnBothEngines("push-after-commit", describeAfterCommit);
