/** uPlot (small, canvas, no dependencies) wrapped as a preact component. */
import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import { html } from "./ui.ts";

/** The axis shows Pakistan time, like every other time on the pages (model.ts fmtTime), whatever the viewer's zone. */
const pkt = (ts: number) => uPlot.tzDate(new Date(ts * 1000), "Asia/Karachi");

export function LineChart(p: {
  title: string;
  xs: number[];
  series: { label: string; values: (number | null)[]; color: string }[];
  height?: number;
  /** Fixed y range (e.g. [0, 100] for a percentage); default: uPlot's auto range. */
  yRange?: [number, number];
  testid?: string;
}) {
  const el = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const host = el.current;
    if (!host) return;
    const width = Math.max(280, host.clientWidth || 600);
    const plot = new uPlot(
      {
        title: p.title,
        width,
        height: p.height ?? 200,
        tzDate: pkt,
        scales: { x: { time: true }, ...(p.yRange ? { y: { range: p.yRange } } : {}) },
        series: [{}, ...p.series.map((s) => ({ label: s.label, stroke: s.color, width: 2, paths: uPlot.paths.stepped?.({ align: 1 }) }))],
        axes: [{}, {}],
      },
      [p.xs.map((x) => x / 1000), ...p.series.map((s) => s.values)],
      host,
    );
    const ro = new ResizeObserver(() => plot.setSize({ width: Math.max(280, host.clientWidth), height: p.height ?? 200 }));
    ro.observe(host);
    return () => {
      ro.disconnect();
      plot.destroy();
    };
  }, [p.xs, p.series]);
  // For tests and curious readers: how many points and the lowest value drawn.
  const values = p.series.flatMap((s) => s.values.filter((v): v is number => v !== null));
  return html`<div class="chart" ref=${el} data-testid=${p.testid ?? "chart"} data-points=${p.xs.length}
    data-min=${values.length ? String(Math.min(...values)) : ""}></div>`;
}
