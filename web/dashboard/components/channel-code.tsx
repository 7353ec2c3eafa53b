/**
 * A channel's code type and expiry, and its stable public image link with a copy button
 * (issue #13). An expired code of a channel that does not renew shows as expired: the channel
 * has ended.
 */
import type { JSX } from "preact";
import { useState } from "preact/hooks";
import { formatDateTime } from "../format.ts";
import { useI18n } from "../i18n/i18n.tsx";
import type { Channel } from "../types.ts";

/** "永久", or "临时 3 天" with a "自动续期" badge when it renews. */
export function CodeType({ channel }: { channel: Pick<Channel, "code"> }): JSX.Element {
  const { t, n } = useI18n();
  const { code } = channel;
  if (code.type === "permanent") return <span class="code-type">{t("code.permanent")}</span>;
  return (
    <span class="code-type">
      {t("code.temporary", { days: n(code.days) })}
      {code.renew && <span class="badge ok">{t("code.renews")}</span>}
    </span>
  );
}

/** When the current code expires (or did), and when a renewing one is replaced; nothing for a permanent code. */
export function CodeExpiry({ channel, now = Date.now() }: { channel: Pick<Channel, "code">; now?: number }): JSX.Element | null {
  const { t, locale } = useI18n();
  const { code } = channel;
  if (code.type === "permanent" || code.expiresAt === null) return null;
  const time = formatDateTime(locale, code.expiresAt);
  const expired = Date.parse(code.expiresAt) <= now;
  return (
    <span class={expired ? "code-expiry expired" : "code-expiry"}>
      {expired ? t("code.expired", { time }) : t("code.expiresAt", { time })}
      {!expired && code.renewsAt && (
        <>
          {" · "}
          {t("code.renewsAt", { time: formatDateTime(locale, code.renewsAt) })}
        </>
      )}
    </span>
  );
}

/** The link as an absolute URL of this dashboard's origin, with a copy button. */
export function ImageLink({ channel }: { channel: Pick<Channel, "imageLink"> }): JSX.Element {
  const { t } = useI18n();
  const [copied, setCopied] = useState<string | null>(null);
  const href = new URL(channel.imageLink, window.location.origin).href;
  const copy = async (): Promise<void> => {
    try {
      await navigator.clipboard.writeText(href);
      setCopied(t("code.copied"));
    } catch {
      setCopied(t("code.copyFailed"));
    }
  };
  return (
    <div class="image-link">
      <p>
        <strong>{t("code.link")}</strong> <code>{href}</code>
      </p>
      <p class="hint">{t("code.linkHelp")}</p>
      <div class="actions">
        <button type="button" class="secondary" onClick={copy}>
          {t("code.copy")}
        </button>
        <span role="status" class="form-done">
          {copied}
        </span>
      </div>
    </div>
  );
}
