/** Name and welcome reply of a channel, for creating one and for editing one. */
import type { JSX } from "preact";
import { useId, useState } from "preact/hooks";
import { ApiError } from "../api.ts";
import { errorAdvice } from "../components/status.tsx";
import { useI18n } from "../i18n/i18n.tsx";
import type { ChannelGroup } from "../types.ts";
import { useApi } from "../use-api.ts";

export const NAME_MAX = 100;
export const WELCOME_MAX = 600;

export interface ChannelFields {
  name: string;
  welcome: string;
  /** Issue 13: its group, null for none; left out, the form does not offer the choice. */
  groupId?: string | null;
}

export function ChannelForm({
  initial,
  submitLabel,
  onSubmit,
}: {
  initial: ChannelFields;
  submitLabel: string;
  /** Resolves with a message to announce, or throws an ApiError to show. */
  onSubmit: (fields: ChannelFields) => Promise<string | void>;
}): JSX.Element {
  const { t, n } = useI18n();
  const id = useId();
  const [fields, setFields] = useState(initial);
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
        {(groups.data?.groups ?? []).map((g) => (
          <option value={g.id} key={g.id}>
            {g.name}
          </option>
        ))}
      </select>
    </div>
  );
}
