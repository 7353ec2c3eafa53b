/** Name, welcome reply, replies by audience and schedule of a channel, for creating one and for editing one. */
import type { JSX } from "preact";
import { useId, useState } from "preact/hooks";
import { ApiError } from "../api.ts";
import { GroupOptions } from "../components/group-options.tsx";
import { errorAdvice } from "../components/status.tsx";
import { useI18n } from "../i18n/i18n.tsx";
import type { Audience, Channel } from "../types.ts";
import { fromZoneInput, toZoneInput } from "../zone-time.ts";
import type { ChannelGroup } from "../types.ts";
import { useApi } from "../use-api.ts";

export const NAME_MAX = 100;
export const WELCOME_MAX = 600;

export interface ChannelFields {
  name: string;
  welcome: string;
  audience: AudienceFields;
  /** Only with `withCode` (creating a channel). */
  code?: CodeFields;
  /** Issue 13: its group, null for none; left out, the form does not offer the choice. */
  groupId?: string | null;
}

/** Replies by audience and the schedule (issue #13), as the form holds them: text, and `datetime-local` values in Beijing time. */
export interface AudienceFields {
  replies: Record<Audience, string>;
  startsAt: string;
  endsAt: string;
}

const AUDIENCES: readonly Audience[] = ["newFollower", "returningFollower", "follower"];

export const NO_AUDIENCE_FIELDS: AudienceFields = { replies: { newFollower: "", returningFollower: "", follower: "" }, startsAt: "", endsAt: "" };

export function audienceFieldsOf(channel: Channel): AudienceFields {
  return {
    replies: {
      newFollower: channel.replies.newFollower ?? "",
      returningFollower: channel.replies.returningFollower ?? "",
      follower: channel.replies.follower ?? "",
    },
    startsAt: toZoneInput(channel.startsAt),
    endsAt: toZoneInput(channel.endsAt),
  };
}

/**
 * The request's part for these fields: an empty text or time clears it. A time the form shows as
 * it was (`before`) is left out, so that saving does not round a stored instant to the minute.
 */
export function audienceBody(
  fields: AudienceFields,
  before?: AudienceFields,
): { replies: Record<Audience, string | null>; startsAt?: number | null; endsAt?: number | null } {
  const replies = Object.fromEntries(AUDIENCES.map((a) => [a, fields.replies[a].trim() === "" ? null : fields.replies[a]])) as Record<Audience, string | null>;
  const time = (name: "startsAt" | "endsAt") => (before && before[name] === fields[name] ? {} : { [name]: fromZoneInput(fields[name]) ?? null });
  return { replies, ...time("startsAt"), ...time("endsAt") };
}

/** The form's fields for replies by audience and the schedule: a contiguous block of its own. */
function AudienceInputs({
  id,
  fields,
  invalid,
  onChange,
}: {
  id: string;
  fields: AudienceFields;
  invalid: (field: string) => boolean;
  onChange: (fields: AudienceFields) => void;
}): JSX.Element {
  const { t } = useI18n();
  const time = (name: "startsAt" | "endsAt"): JSX.Element => (
    <div class="field">
      <label for={`${id}-${name}`}>{t(`audience.${name}`)}</label>
      <input
        id={`${id}-${name}`}
        type="datetime-local"
        value={fields[name]}
        aria-invalid={invalid(name)}
        aria-describedby={`${id}-schedule-help`}
        onInput={(e) => onChange({ ...fields, [name]: e.currentTarget.value })}
      />
    </div>
  );
  return (
    <>
      <fieldset class="audience-replies">
        <legend>{t("audience.repliesTitle")}</legend>
        <p id={`${id}-replies-help`} class="hint">
          {t("audience.repliesHelp", { scene: "{scene}", channel: "{channel}" })}
        </p>
        {AUDIENCES.map((a) => (
          <div class="field" key={a}>
            <label for={`${id}-reply-${a}`}>{t(`audience.${a}`)}</label>
            <textarea
              id={`${id}-reply-${a}`}
              value={fields.replies[a]}
              maxLength={WELCOME_MAX}
              rows={2}
              aria-invalid={invalid(`replies.${a}`)}
              aria-describedby={`${id}-replies-help`}
              onInput={(e) => onChange({ ...fields, replies: { ...fields.replies, [a]: e.currentTarget.value } })}
            />
          </div>
        ))}
      </fieldset>
      <fieldset class="audience-schedule">
        <legend>{t("audience.scheduleTitle")}</legend>
        {time("startsAt")}
        {time("endsAt")}
        <p id={`${id}-schedule-help`} class="hint">
          {t("audience.scheduleHelp")}
        </p>
      </fieldset>
    </>
  );
}

// --- temporary channels (issue #13) ---
export interface CodeFields {
  type: "permanent" | "temporary";
  days: string;
  renew: boolean;
}

const DEFAULT_CODE: CodeFields = { type: "permanent", days: "7", renew: true };

/** The `code` of a create request; none for a permanent code (the default). */
export function codeBody(fields: ChannelFields): { code?: { type: "temporary"; days: number; renew: boolean } } {
  const code = fields.code;
  if (!code || code.type === "permanent") return {};
  return { code: { type: "temporary", days: Number(code.days), renew: code.renew } };
}

function CodeChoice({ id, value, invalid, onChange }: { id: string; value: CodeFields; invalid: boolean; onChange: (code: CodeFields) => void }): JSX.Element {
  const { t } = useI18n();
  return (
    <fieldset class="field code-choice">
      <legend>{t("code.choose")}</legend>
      <label class="check">
        <input type="radio" name={`${id}-code`} checked={value.type === "permanent"} onChange={() => onChange({ ...value, type: "permanent" })} />
        {t("code.choosePermanent")}
      </label>
      <label class="check">
        <input type="radio" name={`${id}-code`} checked={value.type === "temporary"} onChange={() => onChange({ ...value, type: "temporary" })} />
        {t("code.chooseTemporary")}
      </label>
      {value.type === "temporary" && (
        <>
          <label for={`${id}-days`}>{t("code.days")}</label>
          <input
            id={`${id}-days`}
            type="number"
            min={1}
            max={30}
            step={1}
            value={value.days}
            aria-invalid={invalid}
            onInput={(e) => onChange({ ...value, days: e.currentTarget.value })}
          />
          <label class="check">
            <input type="checkbox" checked={value.renew} onChange={(e) => onChange({ ...value, renew: e.currentTarget.checked })} />
            {t("code.renew")}
          </label>
        </>
      )}
    </fieldset>
  );
}
// --- end temporary channels ---

export function ChannelForm({
  initial,
  submitLabel,
  onSubmit,
  withCode = false,
}: {
  initial: ChannelFields;
  submitLabel: string;
  /** Offer the choice of a permanent or a temporary code (creating a channel). */
  withCode?: boolean;
  /** Resolves with a message to announce, or throws an ApiError to show. */
  onSubmit: (fields: ChannelFields) => Promise<string | void>;
}): JSX.Element {
  const { t, n } = useI18n();
  const id = useId();
  const [fields, setFields] = useState<ChannelFields>(withCode ? { code: DEFAULT_CODE, ...initial } : initial);
  const [error, setError] = useState<{ message: string; field?: string } | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event): Promise<void> => {
    e.preventDefault();
    setDone(null);
    const name = fields.name.trim();
    if (name === "") {
      setError({ message: t("channel.nameRequired"), field: "name" });
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const message = await onSubmit({ ...fields, name });
      if (message) setDone(message);
    } catch (err) {
      const api = err instanceof ApiError ? err : new ApiError(0, "UNKNOWN", String(err));
      setError({ message: t(errorAdvice(api)), ...(api.field ? { field: api.field } : api.code === "NAME_CONFLICT" ? { field: "name" } : {}) });
    } finally {
      setBusy(false);
    }
  };

  const invalid = (field: string): boolean => error?.field === field;
  return (
    <form class="channel-form" onSubmit={submit} noValidate>
      <div class="field">
        <label for={`${id}-name`}>{t("channel.name")}</label>
        <input
          id={`${id}-name`}
          value={fields.name}
          maxLength={NAME_MAX}
          required
          aria-invalid={invalid("name")}
          aria-describedby={error ? `${id}-error` : undefined}
          onInput={(e) => setFields({ ...fields, name: e.currentTarget.value })}
        />
      </div>
      <div class="field">
        <label for={`${id}-welcome`}>{t("channel.welcome")}</label>
        <textarea
          id={`${id}-welcome`}
          value={fields.welcome}
          maxLength={WELCOME_MAX}
          rows={3}
          aria-invalid={invalid("welcome")}
          aria-describedby={`${id}-welcome-help`}
          onInput={(e) => setFields({ ...fields, welcome: e.currentTarget.value })}
        />
        <p id={`${id}-welcome-help`} class="hint">
          {t("channel.welcomeHelp", { used: n(fields.welcome.length), max: n(WELCOME_MAX) })}
        </p>
      </div>
      <AudienceInputs id={id} fields={fields.audience} invalid={invalid} onChange={(audience) => setFields({ ...fields, audience })} />
      {withCode && fields.code && <CodeChoice id={id} value={fields.code} invalid={invalid("code.days")} onChange={(code) => setFields({ ...fields, code })} />}
      {fields.groupId !== undefined && <GroupField id={`${id}-group`} value={fields.groupId} onChange={(groupId) => setFields({ ...fields, groupId })} />}
      {error && (
        <p id={`${id}-error`} class="form-error" role="alert">
          {error.message}
        </p>
      )}
      <div class="actions">
        <button type="submit" disabled={busy}>
          {submitLabel}
        </button>
        <span role="status" class="form-done">
          {done}
        </span>
      </div>
    </form>
  );
}

/** Issue 13: the channel's group, among the account's groups or none. */
function GroupField({ id, value, onChange }: { id: string; value: string | null; onChange: (groupId: string | null) => void }): JSX.Element {
  const { t } = useI18n();
  const groups = useApi<{ groups: ChannelGroup[] }>("/api/channel-groups");
  return (
    <div class="field">
      <label for={id}>{t("groups.group")}</label>
      <select id={id} value={value ?? ""} onChange={(e) => onChange(e.currentTarget.value || null)}>
        <option value="">{t("groups.none")}</option>
        <GroupOptions groups={groups.data?.groups} />
      </select>
    </div>
  );
}
