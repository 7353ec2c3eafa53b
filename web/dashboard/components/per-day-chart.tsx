/** Per-day figures of a range: the metrics to chart, the totals and the chart, as loaded. */
import type { ComponentChildren, JSX } from "preact";
import { useState } from "preact/hooks";
import { formatDay } from "../format.ts";
import { useI18n, type MessageKey } from "../i18n/i18n.tsx";
import { fillDays } from "../stats.ts";
import type { ChannelStats, Counts } from "../types.ts";
import type { ApiState } from "../use-api.ts";
import type { DayRange } from "./date-range.tsx";
import { Figures } from "./figures.tsx";
import { LineChart } from "./line-chart.tsx";
import { ErrorNotice, Loading } from "./status.tsx";

export interface PerDayChartProps {
  stats: ApiState<ChannelStats>;
  range: DayRange;
  /** The chart's title and table caption. */
  caption: string;
  /** The metrics one can chart, and their labels. */
  choices: ReadonlyArray<[keyof Counts, MessageKey]>;
  initialMetrics: Array<keyof Counts>;
  /** Shown above the figures once they are loaded. */
  lead?: ComponentChildren;
}

export function PerDayChart({ stats, range, caption, choices, initialMetrics, lead }: PerDayChartProps): JSX.Element {
  const { t, locale } = useI18n();
  const [metrics, setMetrics] = useState<Array<keyof Counts>>(initialMetrics);
  const days = stats.data ? fillDays(range, stats.data.days) : [];
  return (
    <>
      <fieldset class="metric-choice">
        <legend>{t("channel.metrics")}</legend>
        {choices.map(([key, label]) => (
          <label class="check" key={key}>
            <input
              type="checkbox"
              checked={metrics.includes(key)}
              onChange={(e) => setMetrics(e.currentTarget.checked ? [...metrics, key] : metrics.filter((m) => m !== key))}
            />
            {t(label)}
          </label>
        ))}
      </fieldset>
      {stats.error && !stats.data ? (
        <ErrorNotice error={stats.error} onRetry={stats.reload} />
      ) : !stats.data ? (
        <Loading />
      ) : (
        <>
          {lead}
          <Figures counts={stats.data} compact />
          <LineChart
            tableCaption={caption}
            data={{
              title: caption,
              labels: days.map((d) => formatDay(locale, d.date, "short")),
              series: choices.filter(([key]) => metrics.includes(key)).map(([key, label]) => ({ name: t(label), values: days.map((d) => d[key]) })),
            }}
          />
        </>
      )}
    </>
  );
}
