/**
 * Posters: the referral campaign's design (each follower's poster carries their own code) and
 * each channel's own; upload a background, place the code and a line of text, see a preview.
 */
import type { JSX } from "preact";
import { useEffect, useId, useState } from "preact/hooks";
import { api, ApiError, withQuery } from "../api.ts";
import { errorAdvice, ErrorNotice, Loading } from "../components/status.tsx";
import { useI18n } from "../i18n/i18n.tsx";
import { usePageTitle } from "../page-title.ts";
import type { ChannelPage, PosterDesign } from "../types.ts";
import { useApi } from "../use-api.ts";

interface Fields {
  qrX: number;
  qrY: number;
  qrSize: number;
  withText: boolean;
  text: string;
  fontSize: number;
  color: string;
  textX: number;
  textY: number;
}

const DEFAULT_FIELDS: Fields = { qrX: 40, qrY: 40, qrSize: 300, withText: false, text: "", fontSize: 48, color: "#000000", textX: 40, textY: 40 };

function fieldsOf(design: PosterDesign | undefined): Fields {
  if (!design) return DEFAULT_FIELDS;
  const { qr, text } = design;
  return {
    qrX: qr.x,
    qrY: qr.y,
    qrSize: qr.size,
    withText: text !== null,
    text: text?.text ?? "",
    fontSize: text?.fontSize ?? DEFAULT_FIELDS.fontSize,
    color: text?.color ?? DEFAULT_FIELDS.color,
    textX: text?.x ?? DEFAULT_FIELDS.textX,
    textY: text?.y ?? DEFAULT_FIELDS.textY,
  };
}

/** The file's bytes in base64, as the API takes them. */
function readBase64(file: File): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).replace(/^data:[^,]*,/, ""));
    reader.onerror = () => reject(reader.error ?? new Error("cannot read the file"));
    reader.readAsDataURL(file);
  });
}

function pathOf(target: string): string {
  return target === "referral" ? "/api/posters/referral" : `/api/posters/channels/${encodeURIComponent(target)}`;
}

export function Posters(): JSX.Element {
  const { t, n } = useI18n();
  usePageTitle(t("nav.posters"));
  const id = useId();
  const designs = useApi<{ posters: PosterDesign[]; limits: { maxBytes: number; maxSidePx: number } }>("/api/posters");
  const channels = useApi<ChannelPage>(withQuery("/api/channels", { limit: 1000, sort: "name" }));
  const [target, setTarget] = useState("referral");
  const design = designs.data?.posters.find((p) => (target === "referral" ? p.target === "referral" : p.channelId === target));
  const [fields, setFields] = useState<Fields>(DEFAULT_FIELDS);
  const [file, setFile] = useState<File | null>(null);
  const [error, setError] = useState<{ message: string; field?: string } | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  // A new target, or its design loaded: the form shows that design.
  useEffect(() => {
    setFields(fieldsOf(design));
    setError(null);
  }, [target, design?.version]);

  if (designs.error && !designs.data) return <ErrorNotice error={designs.error} onRetry={designs.reload} />;
  if (!designs.data) return <Loading />;

  const set = (patch: Partial<Fields>): void => setFields({ ...fields, ...patch });
  const invalid = (field: string): boolean => error?.field === field || (error?.field?.startsWith(`${field}.`) ?? false);

  const act = async (work: () => Promise<string>): Promise<void> => {
    setBusy(true);
    setError(null);
    setDone(null);
    try {
      setDone(await work());
      designs.reload();
    } catch (err) {
      const failure = err instanceof ApiError ? err : new ApiError(0, "UNKNOWN", String(err));
      setError({ message: `${t(errorAdvice(failure))}${failure.field ? ` (${failure.field})` : ""}`, ...(failure.field ? { field: failure.field } : {}) });
    } finally {
      setBusy(false);
    }
  };

  const save = (e: Event): void => {
    e.preventDefault();
    void act(async () => {
      const body = {
        ...(file ? { background: await readBase64(file) } : {}),
        qr: { x: fields.qrX, y: fields.qrY, size: fields.qrSize },
        text: fields.withText ? { text: fields.text, fontSize: fields.fontSize, color: fields.color, x: fields.textX, y: fields.textY } : null,
      };
      await api.put(pathOf(target), body);
      setFile(null);
      return t("posters.saved");
    });
  };

  const remove = (): void => {
    void act(async () => {
      await api.delete(pathOf(target));
      return t("posters.removed");
    });
  };

  const number = (name: keyof Fields, label: string, field: string, min = 0): JSX.Element => (
    <div class="field">
      <label for={`${id}-${name}`}>{label}</label>
      <input
        id={`${id}-${name}`}
        type="number"
        inputMode="numeric"
        min={min}
        step={1}
        value={fields[name] as number}
        aria-invalid={invalid(field)}
        onInput={(e) => set({ [name]: Number(e.currentTarget.value) })}
      />
    </div>
  );

  return (
    <>
      <h1>{t("nav.posters")}</h1>
      <p class="hint">{t("posters.intro")}</p>
      <div class="columns">
        <section class="card" aria-labelledby={`${id}-form-title`}>
          <h2 id={`${id}-form-title`}>{t("posters.target")}</h2>
          <form onSubmit={save} noValidate>
            <div class="field">
              <label for={`${id}-target`}>{t("posters.target")}</label>
              <select id={`${id}-target`} value={target} onChange={(e) => setTarget(e.currentTarget.value)}>
                <option value="referral">{t("posters.referral")}</option>
                {(channels.data?.channels ?? []).map((c) => (
                  <option value={c.id} key={c.id}>
                    {t("posters.channel", { name: c.name })}
                  </option>
                ))}
              </select>
            </div>
            <div class="field">
              <label for={`${id}-background`}>{t("posters.background")}</label>
              <input
                id={`${id}-background`}
                type="file"
                accept="image/png,image/jpeg"
                aria-invalid={invalid("background")}
                aria-describedby={`${id}-background-help`}
                onChange={(e) => setFile(e.currentTarget.files?.[0] ?? null)}
              />
              <p id={`${id}-background-help`} class="hint">
                {design ? `${t("posters.current", { width: n(design.width), height: n(design.height) })} ` : ""}
                {t("posters.backgroundHelp", {
                  mb: n(Math.round((designs.data.limits.maxBytes / 1_048_576) * 10) / 10),
                  side: n(designs.data.limits.maxSidePx),
                })}
              </p>
            </div>
            <fieldset>
              <legend>{t("posters.qr")}</legend>
              <div class="inline-form">
                {number("qrX", t("posters.x"), "qr.x")}
                {number("qrY", t("posters.y"), "qr.y")}
                {number("qrSize", t("posters.size"), "qr.size", 100)}
              </div>
            </fieldset>
            <fieldset>
              <legend>{t("posters.text")}</legend>
              <label class="check">
                <input type="checkbox" checked={fields.withText} onChange={(e) => set({ withText: e.currentTarget.checked })} />
                {t("posters.withText")}
              </label>
              {fields.withText && (
                <>
                  <div class="field">
                    <label for={`${id}-text`}>{t("posters.text")}</label>
                    <input
                      id={`${id}-text`}
                      value={fields.text}
                      maxLength={100}
                      aria-invalid={invalid("text.text")}
                      onInput={(e) => set({ text: e.currentTarget.value })}
                    />
                  </div>
                  <div class="inline-form">
                    {number("fontSize", t("posters.fontSize"), "text.fontSize", 8)}
                    <div class="field">
                      <label for={`${id}-color`}>{t("posters.color")}</label>
                      <input
                        id={`${id}-color`}
                        type="color"
                        value={fields.color}
                        aria-invalid={invalid("text.color")}
                        onInput={(e) => set({ color: e.currentTarget.value })}
                      />
                    </div>
                    {number("textX", t("posters.x"), "text.x")}
                    {number("textY", t("posters.y"), "text.y")}
                  </div>
                </>
              )}
            </fieldset>
            {error && (
              <p class="form-error" role="alert">
                {error.message}
              </p>
            )}
            <div class="actions">
              <button type="submit" disabled={busy}>
                {t("posters.save")}
              </button>
              {design && (
                <button type="button" class="danger" disabled={busy} onClick={remove}>
                  {t("posters.remove")}
                </button>
              )}
              <span role="status" class="form-done">
                {done}
              </span>
            </div>
          </form>
        </section>
        <section class="card" aria-labelledby={`${id}-preview-title`}>
          <h2 id={`${id}-preview-title`}>{t("posters.preview")}</h2>
          {design ? (
            <>
              <img
                class="poster-preview"
                src={`${pathOf(target)}/preview.png?v=${encodeURIComponent(design.version)}`}
                width={design.width}
                height={design.height}
                alt={t("posters.previewAlt")}
              />
              <p class="hint">{t("posters.previewHelp")}</p>
            </>
          ) : (
            <p class="hint">{t("posters.none")}</p>
          )}
        </section>
      </div>
    </>
  );
}
