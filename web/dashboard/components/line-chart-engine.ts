/**
 * ECharts, tree-shaken to what the line charts use (echarts/core plus one chart type, four
 * components and the SVG renderer). Loaded lazily by LineChart, so the first page does not carry it.
 */
import { LineChart as EChartsLine } from "echarts/charts";
import { AriaComponent, GridComponent, LegendComponent, TooltipComponent } from "echarts/components";
import { init, use } from "echarts/core";
import { SVGRenderer } from "echarts/renderers";

use([EChartsLine, GridComponent, LegendComponent, TooltipComponent, AriaComponent, SVGRenderer]);

export interface LineSeries {
  name: string;
  values: number[];
}

export interface LineChartData {
  labels: string[];
  series: LineSeries[];
  /** Written into the chart's accessible description. */
  title: string;
  locale: string;
}

export interface LineChartHandle {
  update(data: LineChartData): void;
  dispose(): void;
}

// Dark enough on white for WCAG's 3:1 for graphics; told apart by line style as well.
const COLORS = ["#0a7a3e", "#1d5fbf", "#b3261e", "#7a4bb3", "#a35c00", "#00707a"];

function option(data: LineChartData): Record<string, unknown> {
  const numbers = new Intl.NumberFormat(data.locale);
  return {
    color: COLORS,
    aria: { enabled: true, label: { description: data.title } },
    animationDuration: 300,
    grid: { left: 8, right: 16, top: 40, bottom: 8, containLabel: true },
    legend: { top: 0, type: "scroll" },
    tooltip: { trigger: "axis", valueFormatter: (v: unknown) => (typeof v === "number" ? numbers.format(v) : String(v)) },
    xAxis: { type: "category", data: data.labels, boundaryGap: false },
    yAxis: { type: "value", minInterval: 1, axisLabel: { formatter: (v: number) => numbers.format(v) } },
    series: data.series.map((s, i) => ({
      name: s.name,
      type: "line",
      data: s.values,
      showSymbol: data.labels.length <= 31,
      lineStyle: { width: 2, type: i % 3 === 0 ? "solid" : i % 3 === 1 ? "dashed" : "dotted" },
    })),
  };
}

export function mountLineChart(element: HTMLElement, data: LineChartData): LineChartHandle {
  const chart = init(element, undefined, { renderer: "svg" });
  chart.setOption(option(data));
  const observer = new ResizeObserver(() => chart.resize());
  observer.observe(element);
  return {
    update: (next) => chart.setOption(option(next), { notMerge: true }),
    dispose: () => {
      observer.disconnect();
      chart.dispose();
    },
  };
}
