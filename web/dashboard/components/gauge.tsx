/** A half-ring gauge of used against limit, with its figures as text beside it. */
import type { JSX } from "preact";

const R = 40;
const HALF = Math.PI * R;

export function Gauge({ used, limit, label }: { used: number; limit: number; label: string }): JSX.Element {
  const share = limit > 0 ? Math.min(1, used / limit) : 1;
  const tone = share >= 0.9 ? "danger" : share >= 0.7 ? "warn" : "ok";
  return (
    <svg class={`gauge gauge-${tone}`} viewBox="0 0 100 56" role="img" aria-label={label}>
      <path d="M10 50 A40 40 0 0 1 90 50" class="gauge-track" />
      <path d="M10 50 A40 40 0 0 1 90 50" class="gauge-fill" style={{ strokeDasharray: `${share * HALF} ${HALF}` }} />
      <text x="50" y="48" text-anchor="middle" class="gauge-text">
        {`${Math.round(share * 1000) / 10}%`}
      </text>
    </svg>
  );
}
