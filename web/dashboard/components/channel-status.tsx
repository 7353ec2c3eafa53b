/** A channel's status (issue #13) as a badge: its word in the page's language, the colour only a second cue. */
import type { JSX } from "preact";
import { useI18n } from "../i18n/i18n.tsx";
import type { ChannelStatus } from "../types.ts";

export function ChannelStatusBadge({ status }: { status: ChannelStatus }): JSX.Element {
  const { t } = useI18n();
  return <span class={`badge status-${status}`}>{t(`audience.${status}`)}</span>;
}
