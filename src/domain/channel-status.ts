/**
 * A channel's status (issue #13, deliverable 4), from its schedule, its paused flag and the clock:
 * computed when read, never stored, so that it turns from "scheduled" to "active" to "ended"
 * without anything running at those instants. The push path asks the same function whether a scan
 * gets a reply, so the API can never show "active" for a channel that stays silent.
 * @module
 */

export type ChannelStatus = "scheduled" | "active" | "paused" | "ended";

export const CHANNEL_STATUSES: readonly ChannelStatus[] = ["scheduled", "active", "paused", "ended"];

export interface ChannelSchedule {
  /** Epoch ms, inclusive; null or absent: no start. */
  startsAt?: number | null | undefined;
  /** Epoch ms, exclusive; null or absent: no end. */
  endsAt?: number | null | undefined;
  paused?: boolean | undefined;
}

/**
 * The channel's status at `now`. "ended" wins over "paused" (resuming would not bring it back),
 * and "paused" over "scheduled" (the operator's pause holds whatever the dates say).
 * `codeEndsAt` is when a temporary code that does not renew expires: the channel ends with it.
 * Archiving is not a status: an archived channel's code still works and still replies, it only
 * leaves the default list, so `archived` stays a field of its own.
 * @example
 * channelStatus({ startsAt: 2_000, endsAt: 5_000, paused: false }, 1_000); // "scheduled"
 * channelStatus({ startsAt: 2_000, endsAt: 5_000, paused: true }, 3_000); // "paused"
 * channelStatus({ startsAt: null, endsAt: 5_000, paused: false }, 5_000); // "ended"
 */
export function channelStatus(channel: ChannelSchedule, now: number, codeEndsAt?: number | null): ChannelStatus {
  if (channel.endsAt != null && now >= channel.endsAt) return "ended";
  if (codeEndsAt != null && now >= codeEndsAt) return "ended";
  if (channel.paused) return "paused";
  if (channel.startsAt != null && now < channel.startsAt) return "scheduled";
  return "active";
}
