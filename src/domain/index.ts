export { createWxqrService, DEFAULT_TIME_ZONE, type WxqrService, type WxqrServiceOptions, type ScanLogPage } from "./service.ts";
export type { CodeService, CreateCodeInput, Quota, QrCodeRow, OwnerKind, CodeType } from "./codes.ts";
export type { ChannelService, ChannelStats, ChannelWithCode } from "./channels.ts";
export type { PushOutcome } from "./record-push.ts";
export { createGroupCommitter, type GroupCommitter } from "./group-commit.ts";
export { dayInZone } from "./days.ts";
