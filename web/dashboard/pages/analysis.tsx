/**
 * Merged analysis (issue 13): a group's or a selection's channels summed per day, a person who
 * scanned several of them counted once. The set stays in the URL (`?groupId=` or `?ids=`).
 */
import type { JSX } from "preact";
import { useState } from "preact/hooks";
import { withQuery } from "../api.ts";
import { DateRange, lastDays, type DayRange } from "../components/date-range.tsx";
import { GroupOptions } from "../components/group-options.tsx";
import { PerDayChart } from "../components/per-day-chart.tsx";
import { Empty } from "../components/status.tsx";
import { useI18n, type MessageKey } from "../i18n/i18n.tsx";
import { usePageTitle } from "../page-title.ts";
import { Link, navigate, useLocation } from "../router.tsx";
import type { ChannelGroup, Counts, MergedStats } from "../types.ts";
import { useApi } from "../use-api.ts";

const CHART_METRICS: ReadonlyArray<[keyof Counts, MessageKey]> = [
  ["scans", "counts.scans"],
  ["uniqueScanners", "counts.uniqueScanners"],
  ["newFollowers", "counts.newFollowers"],
  ["unfollows", "counts.unfollows"],
];

/** The ids of a `?ids=` selection, each once. */
export function idsOfQuery(value: string | null): string[] {
  return [...new Set((value ?? "").split(",").filter((id) => id !== ""))];
}

export function Analysis(): JSX.Element {
  const { t, n } = useI18n();
  usePageTitle(t("analysis.title"));
  const { query } = useLocation();
  const ids = idsOfQuery(query.get("ids"));
  const groupId = ids.length > 0 ? undefined : (query.get("groupId") ?? undefined);
  const groups = useApi<{ groups: ChannelGroup[] }>("/api/channel-groups");
  const group = groups.data?.groups.find((g) => g.id === groupId);
  const [range, setRange] = useState<DayRange>(() => lastDays(30));

  const set = ids.length > 0 ? { ids: ids.join(",") } : groupId ? { groupId } : null;
  const stats = useApi<MergedStats>(set ? withQuery("/api/channels/stats", { ...set, from: range.from, to: range.to }) : null, { live: true });
  const subject = ids.length > 0 ? t("analysis.selection", { n: n(ids.length) }) : (group?.name ?? "");

  return (
    <>
      <p class="breadcrumb">
        <Link href={groupId ? withQuery("/channels", { groupId }) : "/channels"}>{t("channel.back")}</Link>
      </p>
      <div class="page-head">
        <h1>{subject ? t("analysis.titleOf", { subject }) : t("analysis.title")}</h1>
      </div>
      <p class="hint">{t("analysis.help")}</p>
      {ids.length === 0 && (
        <form class="filters card" onSubmit={(e) => e.preventDefault()}>
          <div class="field">
            <label for="analysis-group">{t("analysis.group")}</label>
            <select
              id="analysis-group"
              value={groupId ?? ""}
              onChange={(e) => navigate(withQuery("/analysis", { groupId: e.currentTarget.value || undefined }), { replace: true })}
            >
              <option value="">{t("analysis.pickGroup")}</option>
              <GroupOptions groups={groups.data?.groups} />
            </select>
          </div>
        </form>
      )}
      {!set ? (
        <Empty title={t("analysis.nothing")}>
          <p>{t("analysis.nothingHelp")}</p>
        </Empty>
      ) : (
        <section class="card" aria-labelledby="analysis-stats-title">
          <h2 id="analysis-stats-title">{t("analysis.perDay")}</h2>
          <DateRange value={range} onChange={setRange} />
          <PerDayChart
            stats={stats}
            range={range}
            caption={t("analysis.chartCaption", { subject })}
            choices={CHART_METRICS}
            initialMetrics={["scans", "uniqueScanners", "newFollowers"]}
            lead={stats.data && <p class="hint">{t("analysis.channels", { n: n(stats.data.channelIds.length) })}</p>}
          />
        </section>
      )}
    </>
  );
}
