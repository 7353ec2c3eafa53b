/** A set of counters as labelled figures. */
import type { JSX } from "preact";
import { useI18n, type MessageKey } from "../i18n/i18n.tsx";
import type { Counts, Totals } from "../types.ts";

const COUNT_LABELS: ReadonlyArray<[keyof Totals, MessageKey]> = [
  ["scans", "counts.scans"],
  ["uniqueScanners", "counts.uniqueScanners"],
  ["newFollowers", "counts.newFollowers"],
  ["returningFollowers", "counts.returningFollowers"],
  ["unfollows", "counts.unfollows"],
  ["netGrowth", "counts.netGrowth"],
];

export function Figures({ counts, compact = false }: { counts: Counts | Totals; compact?: boolean }): JSX.Element {
  const { t, n } = useI18n();
  return (
    <dl class={compact ? "figures compact" : "figures"}>
      {COUNT_LABELS.filter(([key]) => key in counts).map(([key, label]) => {
        const value = (counts as Totals)[key];
        return (
          <div class="figure" key={key}>
            <dt>{t(label)}</dt>
            <dd class={key === "netGrowth" && value < 0 ? "negative" : undefined}>{key === "netGrowth" && value > 0 ? `+${n(value)}` : n(value)}</dd>
          </div>
        );
      })}
    </dl>
  );
}
