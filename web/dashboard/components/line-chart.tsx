/** A per-day line chart; the chart engine loads on first use, and the figures are also a table. */
import type { JSX } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { useI18n } from "../i18n/i18n.tsx";
import type { LineChartData, LineChartHandle } from "./line-chart-engine.ts";

export function LineChart({ data, tableCaption }: { data: Omit<LineChartData, "locale">; tableCaption: string }): JSX.Element {
  const { t, n, locale } = useI18n();
  const element = useRef<HTMLDivElement>(null);
  const handle = useRef<LineChartHandle | null>(null);
  const [failed, setFailed] = useState(false);
  const full: LineChartData = { ...data, locale };

  useEffect(() => {
    let cancelled = false;
    import("./line-chart-engine.ts").then(
      ({ mountLineChart }) => {
        if (!cancelled && element.current) handle.current = mountLineChart(element.current, full);
      },
      () => setFailed(true),
    );
    return () => {
      cancelled = true;
      handle.current?.dispose();
      handle.current = null;
    };
  }, []);

  useEffect(() => {
    handle.current?.update(full);
  }, [JSON.stringify(full)]);

  return (
    <div class="chart">
      {failed ? <p class="state state-error">{t("chart.failed")}</p> : <div class="chart-canvas" ref={element} />}
      <details class="chart-table">
        <summary>{t("chart.showTable")}</summary>
        <div class="table-scroll">
          <table>
            <caption>{tableCaption}</caption>
            <thead>
              <tr>
                <th scope="col">{t("chart.day")}</th>
                {data.series.map((s) => (
                  <th scope="col" key={s.name}>
                    {s.name}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {data.labels.map((label, i) => (
                <tr key={label}>
                  <th scope="row">{label}</th>
                  {data.series.map((s) => (
                    <td key={s.name}>{n(s.values[i] ?? 0)}</td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </div>
  );
}
