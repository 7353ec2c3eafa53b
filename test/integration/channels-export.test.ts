/**
 * `GET /api/channels/export.zip` (issue #12) over real loopback HTTP, on SQLite and PostgreSQL:
 * the ZIP holds each listed channel's code, rendered by the service, and `channels.csv` for Excel;
 * every image is read back with jsQR and must be the channel's url. A selection (`ids`, or a body
 * for `POST`) is exported the same way; 1,000 channels (written straight into the store) too.
 */
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { decodeQrImage } from "../../src/qr/decode.ts";
import { insertBulkChannels } from "../helpers/bulk-channels.ts";
import { type DatabaseFactory, describeOnBothEngines, sqliteFactory } from "../helpers/databases.ts";
import { type Json, type ServiceHarness, serviceHarnesses } from "../helpers/service.ts";
import { readZip } from "../helpers/zip.ts";

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/** RFC 4180 rows: quoted fields may hold commas, quotes ("") and line breaks. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") {
      row.push(field);
      field = "";
    } else if (ch === "\r" && text[i + 1] === "\n") {
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
      i++;
    } else field += ch;
  }
  expect(field, "the last row ends in CRLF").toBe("");
  return rows;
}

function describeExport(makeFactory: () => DatabaseFactory): void {
  const { start } = serviceHarnesses(makeFactory);

  async function create(h: ServiceHarness, name: string): Promise<Json> {
    h.clock.advance(1_000);
    const res = await h.api("POST", "/api/channels", { name });
    expect(res.status).toBe(201);
    return res.body;
  }

  async function download(h: ServiceHarness, query = ""): Promise<{ res: Response; entries: Map<string, Buffer> }> {
    const res = await fetch(`${h.serviceUrl}/api/channels/export.zip${query}`, { headers: { authorization: `Bearer ${h.adminToken}` } });
    expect(res.status).toBe(200);
    return { res, entries: readZip(Buffer.from(await res.arrayBuffer())) };
  }

  function csvOf(entries: Map<string, Buffer>): Record<string, string>[] {
    const csv = entries.get("channels.csv")!;
    expect(csv.subarray(0, 3)).toEqual(BOM);
    const [header, ...rows] = parseCsv(csv.subarray(3).toString("utf8"));
    expect(header).toEqual([
      "id",
      "name",
      "scene",
      "url",
      "ticket",
      "created_at",
      "archived",
      "scans",
      "unique_scanners",
      "new_followers",
      "returning_followers",
      "unfollows",
      "file",
    ]);
    return rows.map((row) => Object.fromEntries(header!.map((key, i) => [key, row[i]!])));
  }

  it("zips every listed channel's code, each decoding to its url, with channels.csv (BOM, totals, safe unique names)", async () => {
    const h = await start();
    const a = await create(h, "Poster A");
    const slash = await create(h, "海报/B");
    const underscore = await create(h, "海报_B");
    const formula = await create(h, "=HYPERLINK(1), north");
    const archived = await create(h, "old poster");
    expect((await h.api("PATCH", `/api/channels/${archived.id}`, { archived: true })).status).toBe(200);
    h.clock.advance(1_000);
    expect((await h.scan("o-1", a.qrcode.ticket)).body.delivery.outcome).toBe("delivered");
    h.clock.advance(1_000);
    expect((await h.scan("o-2", a.qrcode.ticket)).body.delivery.outcome).toBe("delivered");

    const { res, entries } = await download(h);
    expect(res.headers.get("content-type")).toBe("application/zip");
    expect(res.headers.get("content-disposition")).toBe('attachment; filename="channels.zip"');
    expect([...entries.keys()]).toEqual(["Poster A.png", "海报_B.png", `海报_B-${underscore.id}.png`, "=HYPERLINK(1), north.png", "channels.csv"]);

    const rows = csvOf(entries);
    expect(rows.map((r) => r.id)).toEqual([a.id, slash.id, underscore.id, formula.id]);
    for (const [row, channel] of [
      [rows[0]!, a],
      [rows[1]!, slash],
      [rows[2]!, underscore],
      [rows[3]!, formula],
    ] as const) {
      expect(row).toMatchObject({
        scene: String(channel.qrcode.sceneId ?? channel.qrcode.sceneStr),
        url: channel.qrcode.url,
        ticket: channel.qrcode.ticket,
        created_at: channel.createdAt,
        archived: "false",
      });
      const png = entries.get(row.file!)!;
      expect(png.readUInt32BE(16)).toBe(430);
      expect(decodeQrImage(png)).toBe(channel.qrcode.url);
    }
    expect(rows[0]).toMatchObject({ name: "Poster A", scans: "2", unique_scanners: "2", new_followers: "2", returning_followers: "0", unfollows: "0" });
    expect(rows[1]!.name).toBe("海报/B");
    // Excel would run it as a formula: the apostrophe makes it text.
    expect(rows[3]!.name).toBe("'=HYPERLINK(1), north");
  });

  it("takes the list's filters, SVG and a size", async () => {
    const h = await start();
    await create(h, "shop north");
    await create(h, "poster");
    const old = await create(h, "shop south");
    expect((await h.api("PATCH", `/api/channels/${old.id}`, { archived: true })).status).toBe(200);

    const { entries } = await download(h, "?search=SHOP&archived=all&format=svg&size=200");
    expect([...entries.keys()]).toEqual(["shop north.svg", "shop south.svg", "channels.csv"]);
    expect(csvOf(entries).map((r) => [r.name, r.archived])).toEqual([
      ["shop north", "false"],
      ["shop south", "true"],
    ]);
    expect(entries.get("shop north.svg")!.toString("utf8")).toMatch(/^<svg [^>]*width="200" height="200"/);

    const onlyArchived = await download(h, "?archived=true");
    expect([...onlyArchived.entries.keys()]).toEqual(["shop south.png", "channels.csv"]);
    const none = await download(h, "?search=nothing");
    expect([...none.entries.keys()]).toEqual(["channels.csv"]);
    expect(csvOf(none.entries)).toEqual([]);
  });

  it("takes a selection: ids in the URL or in a JSON body (archived ones included), or a filter in the body", async () => {
    const h = await start();
    const north = await create(h, "north");
    const south = await create(h, "south");
    const old = await create(h, "old");
    await create(h, "misc");
    expect((await h.api("PATCH", `/api/channels/${old.id}`, { archived: true })).status).toBe(200);

    const byUrl = await download(h, `?ids=${old.id},${north.id}&format=svg`);
    expect([...byUrl.entries.keys()]).toEqual(["north.svg", "old.svg", "channels.csv"]);
    expect(csvOf(byUrl.entries).map((r) => r.id)).toEqual([north.id, old.id]);

    const post = async (body: unknown): Promise<Response> =>
      fetch(`${h.serviceUrl}/api/channels/export.zip`, {
        method: "POST",
        headers: { authorization: `Bearer ${h.adminToken}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    const byBody = await post({ ids: [south.id, old.id], size: 100 });
    expect([byBody.status, byBody.headers.get("content-type")]).toEqual([200, "application/zip"]);
    const entries = readZip(Buffer.from(await byBody.arrayBuffer()));
    expect([...entries.keys()]).toEqual(["south.png", "old.png", "channels.csv"]);
    expect(decodeQrImage(entries.get("old.png")!)).toBe(old.qrcode.url);
    const byFilter = readZip(Buffer.from(await (await post({ filter: { search: "TH", archived: "all" } })).arrayBuffer()));
    expect([...byFilter.keys()]).toEqual(["north.png", "south.png", "channels.csv"]);

    for (const [body, field] of [
      [{ ids: [north.id, "ch_unknown"] }, "ids"],
      [{ ids: [north.id], filter: {} }, "ids"],
      [{ ids: [] }, "ids"],
      [{ filter: { groupId: "cg_unknown" } }, "groupId"],
    ] as const) {
      const res = await post(body);
      expect([body, res.status, ((await res.json()) as Json).field]).toEqual([body, 400, field]);
    }
    expect((await h.api("GET", "/api/channels/export.zip?ids=ch_unknown")).body.field).toBe("ids");
  });

  it("needs the admin token, refuses a bad query, and is in the OpenAPI document", async () => {
    const h = await start();
    const anonymous = await h.api("GET", "/api/channels/export.zip", undefined, { token: null });
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.error).toBe("UNAUTHORIZED");
    for (const query of ["?format=gif", "?size=5000", "?archived=maybe", "?limit=5"]) {
      const res = await h.api("GET", `/api/channels/export.zip${query}`);
      expect(res.status, query).toBe(400);
      expect(res.body.error).toBe("VALIDATION_FAILED");
    }
    const doc = await h.api("GET", "/docs/openapi.json");
    expect(doc.status).toBe(200);
    const operation = doc.body.paths["/api/channels/export.zip"].get;
    expect(Object.keys(operation.responses["200"].content)).toEqual(["application/zip"]);
    expect(operation.parameters.map((p: Json) => p.name).sort()).toEqual(["archived", "format", "groupId", "ids", "margin", "search", "size"]);
    expect(Object.keys(doc.body.paths["/api/channels/export.zip"].post.responses["200"].content)).toEqual(["application/zip"]);
  });
}

describeOnBothEngines("channels-export", describeExport);

describe("SQLite, 1,000 channels", () => {
  const { start } = serviceHarnesses(sqliteFactory);

  it("zips 1,000 channels: every image decodes to its channel's url, and the CSV has the BOM and one row per channel", async () => {
    const h = await start();
    const accountId = (await h.db.read((sql) => sql.get<{ id: string }>("SELECT id FROM accounts")))!.id;
    const made = await insertBulkChannels(h.db, { accountId, count: 1_000, createdAt: h.clock.now() });
    const res = await fetch(`${h.serviceUrl}/api/channels/export.zip?size=60&margin=1`, { headers: { authorization: `Bearer ${h.adminToken}` } });
    expect(res.status).toBe(200);
    const entries = readZip(Buffer.from(await res.arrayBuffer()));
    expect(entries.size).toBe(1_001);
    const csv = entries.get("channels.csv")!;
    expect(csv.subarray(0, 3)).toEqual(BOM);
    const [, ...rows] = parseCsv(csv.subarray(3).toString("utf8"));
    expect(rows.map((r) => r[0])).toEqual(made.map((c) => c.id));
    for (const [i, channel] of made.entries()) {
      expect(rows[i]![12]).toBe(`${channel.name}.png`);
      expect(decodeQrImage(entries.get(`${channel.name}.png`)!), channel.name).toBe(channel.url);
    }
  }, 120_000);

  it("removes the CSV it spools to disk, whether the ZIP was read to its end or the client went away", async () => {
    const h = await start();
    const accountId = (await h.db.read((sql) => sql.get<{ id: string }>("SELECT id FROM accounts")))!.id;
    await insertBulkChannels(h.db, { accountId, count: 200, createdAt: h.clock.now() });
    // The service runs in this process: its temporary files go where this test can see them alone.
    const spoolRoot = mkdtempSync(join(tmpdir(), "wxqr-spool-test-"));
    const tmpBefore = process.env.TMPDIR;
    process.env.TMPDIR = spoolRoot;
    try {
      const url = `${h.serviceUrl}/api/channels/export.zip?size=60&margin=1`;
      const headers = { authorization: `Bearer ${h.adminToken}` };
      const whole = await fetch(url, { headers });
      expect(readZip(Buffer.from(await whole.arrayBuffer())).size).toBe(201);
      await expect.poll(() => readdirSync(spoolRoot)).toEqual([]);

      const abandoned = new AbortController();
      const partial = await fetch(url, { headers, signal: abandoned.signal });
      const reader = partial.body!.getReader();
      expect((await reader.read()).done).toBe(false);
      expect(readdirSync(spoolRoot)).toHaveLength(1); // the spool of the export under way
      abandoned.abort();
      await expect.poll(() => readdirSync(spoolRoot)).toEqual([]);
    } finally {
      process.env.TMPDIR = tmpBefore;
      rmSync(spoolRoot, { recursive: true, force: true });
    }
  }, 60_000);
});
