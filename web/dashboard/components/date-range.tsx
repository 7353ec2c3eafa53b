/** A range of days (Asia/Shanghai) with presets; the range is kept valid (from ≤ to ≤ today). */
import type { JSX } from "preact";
import { useId } from "preact/hooks";
import { addDays, isDay, today } from "../format.ts";
import { useI18n } from "../i18n/i18n.tsx";

export interface DayRange {
  from: string;
  to: string;
}

export function lastDays(n: number): DayRange {
  const to = today();
  return { from: addDays(to, -(n - 1)), to };
}

const PRESETS = [7, 30, 90] as const;

export function DateRange({ value, onChange }: { value: DayRange; onChange: (range: DayRange) => void }): JSX.Element {
  const { t } = useI18n();
  const id = useId();
  const max = today();
  const set = (field: keyof DayRange, day: string): void => {
    if (!isDay(day)) return;
    const next = { ...value, [field]: day };
    if (next.from > next.to) {
      if (field === "from") next.to = next.from;
      else next.from = next.to;
    }
    onChange(next);
  };
  return (
    <fieldset class="date-range">
      <legend>{t("range.legend")}</legend>
      <div class="range-presets">
        {PRESETS.map((n) => {
          const preset = lastDays(n);
          const active = preset.from === value.from && preset.to === value.to;
          return (
            <button type="button" class={active ? "chip active" : "chip"} aria-pressed={active} onClick={() => onChange(preset)} key={n}>
              {t("range.lastDays", { n })}
            </button>
          );
        })}
      </div>
      <div class="range-inputs">
        <label for={`${id}-from`}>{t("range.from")}</label>
        <input id={`${id}-from`} type="date" value={value.from} max={max} onChange={(e) => set("from", e.currentTarget.value)} />
        <label for={`${id}-to`}>{t("range.to")}</label>
        <input id={`${id}-to`} type="date" value={value.to} max={max} onChange={(e) => set("to", e.currentTarget.value)} />
      </div>
    </fieldset>
  );
}
