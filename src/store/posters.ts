/**
 * Poster designs: a background image and where the code and an optional line of text go, for
 * the referral campaign (`target` "referral") or one channel (`target` "channel:<id>").
 * Listing and the per-request version check read everything but the image bytes.
 * @module
 */
import type { Sql } from "./database.ts";

export interface PosterTextRow {
  text: string;
  fontSizePx: number;
  color: string;
  x: number;
  y: number;
}

export interface PosterMetaRow {
  accountId: string;
  target: string;
  /** Changes with every save. */
  version: string;
  backgroundType: string;
  width: number;
  height: number;
  qr: { x: number; y: number; sizePx: number };
  text: PosterTextRow | null;
  updatedAt: number;
}

export interface PosterRow extends PosterMetaRow {
  background: Buffer;
}

interface DbPosterMetaRow {
  target: string;
  version: string;
  background_type: string;
  width: number;
  height: number;
  qr_x: number;
  qr_y: number;
  qr_size: number;
  text: string | null;
  text_size: number | null;
  text_color: string | null;
  text_x: number | null;
  text_y: number | null;
  updated_at: number;
}

const META_COLUMNS = "target, version, background_type, width, height, qr_x, qr_y, qr_size, text, text_size, text_color, text_x, text_y, updated_at";

const toMeta = (accountId: string, r: DbPosterMetaRow): PosterMetaRow => ({
  accountId,
  target: r.target,
  version: r.version,
  backgroundType: r.background_type,
  width: Number(r.width),
  height: Number(r.height),
  qr: { x: Number(r.qr_x), y: Number(r.qr_y), sizePx: Number(r.qr_size) },
  text: r.text === null ? null : { text: r.text, fontSizePx: Number(r.text_size), color: r.text_color ?? "#000000", x: Number(r.text_x), y: Number(r.text_y) },
  updatedAt: Number(r.updated_at),
});

/** Inserts or replaces the target's design. */
export async function upsertPoster(sql: Sql, p: PosterRow): Promise<void> {
  const t = p.text;
  await sql.run(
    `INSERT INTO posters (account_id, target, version, background, background_type, width, height, qr_x, qr_y, qr_size,
       text, text_size, text_color, text_x, text_y, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (account_id, target) DO UPDATE SET version = excluded.version, background = excluded.background,
       background_type = excluded.background_type, width = excluded.width, height = excluded.height, qr_x = excluded.qr_x,
       qr_y = excluded.qr_y, qr_size = excluded.qr_size, text = excluded.text, text_size = excluded.text_size,
       text_color = excluded.text_color, text_x = excluded.text_x, text_y = excluded.text_y, updated_at = excluded.updated_at`,
    [
      p.accountId,
      p.target,
      p.version,
      p.background,
      p.backgroundType,
      p.width,
      p.height,
      p.qr.x,
      p.qr.y,
      p.qr.sizePx,
      t?.text ?? null,
      t?.fontSizePx ?? null,
      t?.color ?? null,
      t?.x ?? null,
      t?.y ?? null,
      p.updatedAt,
    ],
  );
}

/** Every design of the account, without the images, by target. */
export async function listPosters(sql: Sql, accountId: string): Promise<PosterMetaRow[]> {
  const rows = await sql.all<DbPosterMetaRow>(`SELECT ${META_COLUMNS} FROM posters WHERE account_id = ? ORDER BY target`, [accountId]);
  return rows.map((r) => toMeta(accountId, r));
}

export async function getPosterMeta(sql: Sql, accountId: string, target: string): Promise<PosterMetaRow | undefined> {
  const r = await sql.get<DbPosterMetaRow>(`SELECT ${META_COLUMNS} FROM posters WHERE account_id = ? AND target = ?`, [accountId, target]);
  return r && toMeta(accountId, r);
}

export async function getPoster(sql: Sql, accountId: string, target: string): Promise<PosterRow | undefined> {
  const r = await sql.get<DbPosterMetaRow & { background: Buffer }>(`SELECT ${META_COLUMNS}, background FROM posters WHERE account_id = ? AND target = ?`, [
    accountId,
    target,
  ]);
  return r && { ...toMeta(accountId, r), background: Buffer.from(r.background) };
}

/** False when the target had no design. */
export async function deletePoster(sql: Sql, accountId: string, target: string): Promise<boolean> {
  return (await sql.run("DELETE FROM posters WHERE account_id = ? AND target = ?", [accountId, target])) === 1;
}
