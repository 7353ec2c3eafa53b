/** The JSON the dashboard reads from /api (the API contract of issue 10). */

export interface Counts {
  scans: number;
  uniqueScanners: number;
  newFollowers: number;
  returningFollowers: number;
  unfollows: number;
}

export type Totals = Counts & { netGrowth: number };

export interface QrCode {
  id: string;
  type: "temporary" | "permanent";
  ticket: string;
  url: string;
  imageUrl: string;
  label?: string | null;
}

export interface Channel {
  id: string;
  name: string;
  welcome: string | null;
  qrcode: QrCode;
  createdAt: string;
  archived: boolean;
  today: Counts;
  total: Counts;
  /** Its channel group, null when ungrouped (issue 13). */
  groupId: string | null;
  /** Replies by audience, schedule and pause (issue #13). */
  replies: Record<Audience, string | null>;
  startsAt: number | null;
  endsAt: number | null;
  paused: boolean;
  status: ChannelStatus;
  // --- temporary channels (issue #13) ---
  code: ChannelCode;
  /** Root-relative: the stable public image link (PNG; `.svg` for SVG). */
  imageLink: string;
  // --- end temporary channels ---
}

export type Audience = "newFollower" | "returningFollower" | "follower";

export type ChannelStatus = "scheduled" | "active" | "paused" | "ended";

export type ChannelCode = { type: "permanent" } | { type: "temporary"; days: number; renew: boolean; expiresAt: string | null; renewsAt: string | null };

export interface ChannelPage {
  channels: Channel[];
  total: number;
}

export type DayCounts = Counts & { date: string };

export interface ChannelStats extends Counts {
  from: string;
  to: string;
  days: DayCounts[];
}

export interface Overview {
  today: Totals;
  last7: Totals;
  last30: Totals;
  quota: { permanent: { used: number; limit: number; remaining: number } };
  webhook?: { backlog: number; failing: number | boolean };
  groups: OverviewGroup[];
}

export interface Leaderboard {
  leaders: Array<{ openId: string; invitees: number }>;
  newMeans: "new-to-wxqr" | "new-to-account";
}

export interface Follower {
  openId: string;
  subscribed: boolean;
  source: string | null;
  inviter: string | null;
  invitees: string[];
  imported: boolean;
  newMeans: "new-to-wxqr" | "new-to-account";
}

export type EventKind = "scan" | "subscribe" | "unsubscribe" | "other";

/** A row of the scan log, as GET /api/events and the stream give it. */
export interface ScanLogRow {
  seq: number;
  kind: EventKind;
  openId: string;
  event: string | null;
  eventKey: string | null;
  scene: string | null;
  ticket: string | null;
  qrcodeId: string | null;
  isNewFollower: boolean | null;
  createdAt: string;
  receivedAt: string;
}

export interface ScanSessionCreated {
  id: string;
  secret: string;
  qrcode: { id: string; ticket: string; url: string; imageUrl: string };
  expiresAt: string;
}

export interface ScanSessionView {
  id: string;
  status: "pending" | "scanned" | "confirmed" | "expired";
  confirm: boolean;
  expiresAt: string;
  openId?: string;
  isNewFollower?: boolean;
}

export interface PosterDesign {
  target: "referral" | "channel";
  channelId?: string;
  version: string;
  backgroundType: "image/png" | "image/jpeg";
  width: number;
  height: number;
  qr: { x: number; y: number; size: number };
  text: { text: string; fontSize: number; color: string; x: number; y: number } | null;
  updatedAt: string;
  backgroundUrl: string;
}

/** Issue 13: a channel group as GET /api/channel-groups lists it. */
export interface ChannelGroup {
  id: string;
  name: string;
  createdAt: string;
  /** Its channels, archived ones apart. */
  channels: number;
  archivedChannels: number;
}

/** Sums over a group's channels: no unique scanners, which do not add up across channels. */
export type GroupTotals = Omit<Totals, "uniqueScanners">;

export interface OverviewGroup {
  id: string;
  name: string;
  today: GroupTotals;
  last7: GroupTotals;
  last30: GroupTotals;
}

/** GET /api/channels/stats: a set of channels summed per day, each scanner counted once across the set. */
export interface MergedStats extends ChannelStats {
  channelIds: string[];
}

/** The list's filters, as POST /api/channels/batch and POST /api/channels/export.zip take them. */
export interface ChannelFilter {
  search?: string;
  /** null: the ungrouped channels. */
  groupId?: string | null;
  archived?: boolean | "all";
}

export type BatchAction = "move" | "archive" | "restore" | "pause" | "resume";

export interface BatchResult {
  matched: number;
  updated: number;
}
