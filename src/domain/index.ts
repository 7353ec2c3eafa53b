export { createWxqrService, DEFAULT_TIME_ZONE, type WxqrService, type WxqrServiceOptions, type WxqrServiceDeps, type ScanLogPage } from "./service.ts";
export type { CodeService, CreateCodeInput, Quota, QrCodeRow, OwnerKind, CodeType } from "./codes.ts";
export {
  CHANNEL_PAGE_DEFAULT,
  CHANNEL_PAGE_MAX,
  type ChannelChanges,
  type ChannelListOptions,
  type ChannelPage,
  type ChannelService,
  type ChannelSort,
  type ChannelStats,
  type ChannelView,
  type ChannelWithCode,
  type DayCounts,
} from "./channels.ts";
export type { ChannelGroupListItem, ChannelGroupRow, ChannelGroupService } from "./channel-groups.ts";
export {
  CHANNEL_BATCH_ACTIONS,
  CHANNEL_SELECTION_MAX,
  type ChannelBatchAction,
  type ChannelBatchFilter,
  type ChannelBatchInput,
  type ChannelBatchResult,
  type MergedChannelStats,
  type MergedStatsQuery,
} from "./channel-sets.ts";
export type { PushOutcome } from "./record-push.ts";
export type { GroupTotals, Overview, Totals } from "./overview.ts";
export type { PushLogRow } from "../store/followers.ts";
export { LIVE_FEED_DEFAULTS, type LiveFeed, type LiveFeedItem, type LiveFeedOptions } from "./live-feed.ts";
export { createGroupCommitter, type GroupCommitter } from "./group-commit.ts";
export {
  createWebhookDispatcher,
  type WebhookDispatcher,
  type WebhookOptions,
  type WebhookStatus,
  type WebhookDelivery,
  type RoundResult,
} from "./webhook-dispatcher.ts";
export { createOutboxEmitter, webhookEventId, type WebhookEvent } from "./webhook-outbox.ts";
export { verifyWebhookSignature, signWebhook } from "./webhook-signature.ts";
export { dayInZone } from "./days.ts";
export type { ReferralService, Leaderboard, LeaderboardEntry } from "./referrals.ts";
export type { FollowerService, FollowerView, FollowerImportResult, NewMeans } from "./followers.ts";
export type { ScanSessionService, ScanSessionOptions, ScanSessionView, ScanSessionStatus, ScanSessionPurpose, CreatedScanSession } from "./scan-sessions.ts";
export { renderPoster, inspectBackground, checkLayout, POSTER_FONT_FAMILY, type PosterDesign, type PosterLayout, type PosterText } from "./poster-image.ts";
export type { PosterService, PosterInfo, PosterInput, PosterOptions, PosterTarget, RenderedPoster } from "./posters.ts";
export {
  createFollowUpDispatcher,
  posterImageSource,
  DEFAULT_FOLLOW_UP_WINDOW_MS,
  type FollowUpDispatcher,
  type FollowUpOptions,
  type FollowUpOutcome,
  type FollowUpRound,
  type PosterImageSource,
} from "./follow-up-dispatcher.ts";
export { FOLLOW_UP_PAGE_MAX, type FollowUpService, type FollowUpPage, type FollowUpRow, type FollowUpKind, type FollowUpStatus } from "./follow-ups.ts";
export { FOLLOW_UP_TEXT_MAX, FOLLOW_UP_IMAGE_MAX_BYTES, TAG_NAME_MAX_BYTES, type FollowUpInput, type TagRerun } from "./channel-follow-ups.ts";
