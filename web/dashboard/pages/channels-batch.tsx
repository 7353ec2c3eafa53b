/**
 * The channels list's batch bar (issue 13): for the ticked channels, or every channel the filters
 * match, move to a group, archive or restore, pause or resume, download the codes as one ZIP, and
 * open their merged analysis.
 */
import type { JSX } from "preact";
import { useState } from "preact/hooks";
import { api, ApiError, postAndSave, withQuery } from "../api.ts";
import { GroupOptions } from "../components/group-options.tsx";
import { errorAdvice } from "../components/status.tsx";
import { useI18n, type MessageKey } from "../i18n/i18n.tsx";
import { Link } from "../router.tsx";
import type { BatchAction, BatchResult, ChannelFilter, ChannelGroup } from "../types.ts";

/** Ticked ids, or "every channel the filters match" (which the service resolves, however many). */
export type Selection = { kind: "ids"; ids: string[] } | { kind: "filter" };

export interface ListFilters {
  search: string;
  /** "" every group, "none" ungrouped, else a group's id. */
  groupId: string;
  archived: "false" | "true" | "all";
}

const ZIP_SIZES = [258, 430, 860, 1280] as const;
// A longer selection is still moved or downloaded; only its analysis link would outgrow a URL.
const MAX_ANALYSED_IDS = 100;
const UNGROUPED = "none";

const ACTIONS: ReadonlyArray<[BatchAction, MessageKey]> = [
  ["archive", "batch.archive"],
  ["restore", "batch.restore"],
  ["pause", "batch.pause"],
  ["resume", "batch.resume"],
];

/** The list's filters as the batch and ZIP bodies take them (JSON: null for ungrouped, a boolean or "all"). */
export function batchFilter(filters: ListFilters): ChannelFilter {
  return {
    ...(filters.search ? { search: filters.search } : {}),
    ...(filters.groupId ? { groupId: filters.groupId === UNGROUPED ? null : filters.groupId } : {}),
    archived: filters.archived === "all" ? "all" : filters.archived === "true",
  };
}

/** What the request names: the ids, or the filters. */
function target(selection: Selection, filters: ListFilters): { ids: string[] } | { filter: ChannelFilter } {
  return selection.kind === "ids" ? { ids: selection.ids } : { filter: batchFilter(filters) };
}

export function BatchBar({
  selection,
  count,
  filters,
  groups,
  onDone,
  onClear,
}: {
  selection: Selection;
  /** How many channels the selection holds. */
  count: number;
  filters: ListFilters;
  groups: ChannelGroup[];
  onDone: () => void;
  onClear: () => void;
}): JSX.Element {
  const { t, n } = useI18n();
  const [moveTo, setMoveTo] = useState<string>(UNGROUPED);
  const [format, setFormat] = useState<"png" | "svg">("png");
  const [size, setSize] = useState<number>(430);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<{ ok: boolean; message: string } | null>(null);

  const fail = (err: unknown): void => {
    const apiError = err instanceof ApiError ? err : new ApiError(0, "UNKNOWN", String(err));
    setResult({ ok: false, message: t(errorAdvice(apiError)) });
  };
  const run = async (action: BatchAction): Promise<void> => {
    setBusy(true);
    setResult(null);
    try {
      const body = { ...target(selection, filters), action, ...(action === "move" ? { groupId: moveTo === UNGROUPED ? null : moveTo } : {}) };
      const done = await api.post<BatchResult>("/api/channels/batch", body);
      setResult({ ok: true, message: t("batch.done", { updated: n(done.updated), matched: n(done.matched) }) });
      onDone();
    } catch (err) {
      fail(err);
    } finally {
      setBusy(false);
    }
  };
  const download = async (): Promise<void> => {
    setBusy(true);
    setResult(null);
    try {
      await postAndSave("/api/channels/export.zip", { ...target(selection, filters), format, size }, "channels.zip");
      setResult({ ok: true, message: t("batch.downloaded", { n: n(count) }) });
    } catch (err) {
      fail(err);
    } finally {
      setBusy(false);
    }
  };

  // A filter's ZIP is a plain link: the browser streams it to disk as the service writes it.
  const filterZip = withQuery("/api/channels/export.zip", {
    search: filters.search || undefined,
    groupId: filters.groupId || undefined,
    archived: filters.archived,
    format,
    size,
  });
  const analysis =
    selection.kind === "ids"
      ? selection.ids.length <= MAX_ANALYSED_IDS
        ? withQuery("/analysis", { ids: selection.ids.join(",") })
        : null
      : filters.groupId && filters.groupId !== UNGROUPED && !filters.search
        ? withQuery("/analysis", { groupId: filters.groupId })
        : null;

  return (
    <section class="batch-bar card" aria-labelledby="batch-title">
      <div class="batch-head">
        <h2 id="batch-title">{t(selection.kind === "ids" ? "batch.selected" : "batch.allMatching", { n: n(count) })}</h2>
        <button type="button" class="link-button" onClick={onClear}>
          {t("batch.clear")}
        </button>
      </div>
      <div class="batch-groups">
        <div class="inline-form">
          <div class="field">
            <label for="batch-move">{t("batch.moveTo")}</label>
            <select id="batch-move" value={moveTo} onChange={(e) => setMoveTo(e.currentTarget.value)}>
              <option value={UNGROUPED}>{t("groups.none")}</option>
              <GroupOptions groups={groups} />
            </select>
          </div>
          <button type="button" disabled={busy} onClick={() => run("move")}>
            {t("batch.move")}
          </button>
        </div>
        <div class="actions" role="group" aria-label={t("batch.stateActions")}>
          {ACTIONS.map(([action, label]) => (
            <button type="button" class="secondary" disabled={busy} onClick={() => run(action)} key={action}>
              {t(label)}
            </button>
          ))}
          {analysis && (
            <Link class="button secondary" href={analysis}>
              {t("batch.analyse")}
            </Link>
          )}
        </div>
        <div class="inline-form">
          <div class="field">
            <label for="batch-format">{t("batch.format")}</label>
            <select id="batch-format" value={format} onChange={(e) => setFormat(e.currentTarget.value as "png" | "svg")}>
              <option value="png">PNG</option>
              <option value="svg">SVG</option>
            </select>
          </div>
          <div class="field">
            <label for="batch-size">{t("batch.size")}</label>
            <select id="batch-size" value={size} onChange={(e) => setSize(Number(e.currentTarget.value))}>
              {ZIP_SIZES.map((s) => (
                <option value={s} key={s}>
                  {t("channel.pixels", { n: n(s) })}
                </option>
              ))}
            </select>
          </div>
          {selection.kind === "ids" ? (
            <button type="button" disabled={busy} onClick={download}>
              {t("batch.download")}
            </button>
          ) : (
            <a class="button" href={filterZip} download="channels.zip">
              {t("batch.download")}
            </a>
          )}
        </div>
      </div>
      <p role="status" aria-live="polite" class={result && !result.ok ? "form-error" : "form-done"}>
        {busy ? t("batch.working") : (result?.message ?? "")}
      </p>
    </section>
  );
}
