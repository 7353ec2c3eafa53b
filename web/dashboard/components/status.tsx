/** Loading, error and empty states: each says what is happening and what to do next. */
import type { ComponentChildren, JSX } from "preact";
import type { ApiError } from "../api.ts";
import { useI18n, type MessageKey } from "../i18n/i18n.tsx";

export function Loading({ label }: { label?: string }): JSX.Element {
  const { t } = useI18n();
  return (
    <p class="state state-loading" role="status">
      <span class="spinner" aria-hidden="true" />
      {label ?? t("state.loading")}
    </p>
  );
}

/** What to do about an API failure, by its status and code. */
export function errorAdvice(error: ApiError): MessageKey {
  if (error.status === 0) return "error.network";
  if (error.status === 401) return "error.unauthorized";
  if (error.status === 404) return "error.notFound";
  if (error.status === 429) return "error.rateLimited";
  if (error.code === "NAME_CONFLICT") return "error.nameConflict";
  if (error.code === "QUOTA_EXHAUSTED" || error.code === "WECHAT_QR_QUOTA_EXCEEDED") return "error.quota";
  if (error.status === 400) return "error.invalid";
  if (error.status === 502) return "error.wechat";
  return "error.unavailable";
}

export function ErrorNotice({ error, onRetry }: { error: ApiError; onRetry?: () => void }): JSX.Element {
  const { t } = useI18n();
  return (
    <div class="state state-error" role="alert">
      <p>
        {t(errorAdvice(error))}
        {error.field ? ` (${error.field})` : ""}
      </p>
      {onRetry && (
        <button type="button" class="secondary" onClick={onRetry}>
          {t("action.retry")}
        </button>
      )}
    </div>
  );
}

export function Empty({ title, children }: { title: string; children?: ComponentChildren }): JSX.Element {
  return (
    <div class="state state-empty">
      <p class="state-title">{title}</p>
      {children}
    </div>
  );
}
