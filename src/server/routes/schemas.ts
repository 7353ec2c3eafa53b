/** JSON schemas shared by the routes; they validate requests and become the OpenAPI document. */
export const errorSchema = {
  type: "object",
  properties: { error: { type: "string" }, message: { type: "string" }, field: { type: "string" }, errcode: { type: "integer" } },
  required: ["error", "message"],
} as const;

export const qrcodeSchema = {
  type: "object",
  properties: {
    id: { type: "string" },
    type: { type: "string", enum: ["temporary", "permanent"] },
    sceneId: { type: "integer" },
    sceneStr: { type: "string" },
    ticket: { type: "string" },
    url: { type: "string" },
    expiresAt: { type: ["string", "null"], format: "date-time" },
    imageUrl: { type: "string" },
    label: { type: ["string", "null"] },
  },
  required: ["id", "type", "ticket", "url", "expiresAt", "imageUrl"],
} as const;

export const dayCountsProperties = {
  scans: { type: "integer" },
  uniqueScanners: { type: "integer" },
  newFollowers: { type: "integer" },
  returningFollowers: { type: "integer" },
  unfollows: { type: "integer" },
} as const;

export const countsSchema = {
  type: "object",
  properties: dayCountsProperties,
  required: ["scans", "uniqueScanners", "newFollowers", "returningFollowers", "unfollows"],
} as const;

const audienceTextsSchema = {
  type: "object",
  description: "The passive reply per audience (null: the welcome); {scene} and {channel} stand for the scanned scene and the channel's name",
  properties: {
    newFollower: { type: ["string", "null"], description: "To someone who follows through the code for the first time" },
    returningFollower: { type: ["string", "null"], description: "To someone who followed before, unfollowed, and follows again through the code" },
    follower: { type: ["string", "null"], description: "To someone who already follows and scans the code" },
  },
  required: ["newFollower", "returningFollower", "follower"],
} as const;

const audienceEnum = { type: "string", enum: ["newFollower", "returningFollower", "follower"] } as const;

/** A channel's replies by audience, schedule, pause and status (issue #13), as the API shows them. */
const channelAudienceProperties = {
  replies: audienceTextsSchema,
  followUpAudiences: { type: ["array", "null"], items: audienceEnum, description: "Who gets the follow-up; null: everyone" },
  startsAt: { type: ["integer", "null"], description: "Epoch ms: no reply before it; null: no start" },
  endsAt: { type: ["integer", "null"], description: "Epoch ms: no reply from it on; null: no end" },
  paused: { type: "boolean", description: "Scans still count, but get no reply and no follow-up" },
  status: {
    type: "string",
    enum: ["scheduled", "active", "paused", "ended"],
    description: "Now: scheduled (before startsAt), active, paused, ended (from endsAt on); only an active channel replies",
  },
} as const;

const channelAudienceRequired = ["replies", "followUpAudiences", "startsAt", "endsAt", "paused", "status"] as const;

/** The same fields in a request to create or change a channel (`paused` only in a change). */
export const channelAudienceInputProperties = {
  replies: {
    type: "object",
    description:
      "The passive reply per audience, each at most 600 characters, null or an empty string for the welcome; {scene} and {channel} stand for the scanned scene and the channel's name",
    properties: {
      newFollower: { type: ["string", "null"], maxLength: 600 },
      returningFollower: { type: ["string", "null"], maxLength: 600 },
      follower: { type: ["string", "null"], maxLength: 600 },
    },
    additionalProperties: false,
  },
  followUpAudiences: { type: ["array", "null"], items: audienceEnum, minItems: 1, uniqueItems: true, description: "Who gets the follow-up; null: everyone" },
  startsAt: { type: ["integer", "null"], minimum: 0, description: "Epoch ms: no reply before it; null: no start" },
  endsAt: { type: ["integer", "null"], minimum: 0, description: "Epoch ms, after startsAt: no reply from it on; null: no end" },
} as const;

export const channelSchema = {
  type: "object",
  properties: {
    id: { type: "string" },
    name: { type: "string" },
    welcome: { type: ["string", "null"] },
    qrcode: qrcodeSchema,
    createdAt: { type: "string", format: "date-time" },
    archived: { type: "boolean", description: "Left out of the default list; the code still works and its scans still count" },
    today: { ...countsSchema, description: "Today, in the account's time zone" },
    total: { ...countsSchema, description: "Since the channel began (unique scanners: each follower once)" },
    followUp: {
      type: ["object", "null"],
      description: "The customer-service message sent after every scan through the channel",
      properties: { text: { type: "string" }, imageId: { type: "string", description: "Names the image by its content" } },
    },
    tag: {
      type: ["object", "null"],
      description: "The tag given to whoever scans through the channel",
      properties: { name: { type: "string" }, id: { type: ["integer", "null"], description: "WeChat's tag id" } },
    },
    groupId: { type: ["string", "null"], description: "Its channel group; null: ungrouped" },
    ...channelAudienceProperties,
    code: {
      type: "object",
      description: "Permanent, or temporary for `days` days; a renewing one gets a new code before `expiresAt` (at `renewsAt`)",
      properties: {
        type: { type: "string", enum: ["permanent", "temporary"] },
        days: { type: "integer" },
        renew: { type: "boolean" },
        expiresAt: {
          type: ["string", "null"],
          format: "date-time",
          description: "The current code's expiry; in the past: the channel has ended (not renewing)",
        },
        renewsAt: { type: ["string", "null"], format: "date-time", description: "When the current code is replaced; null: never" },
      },
      required: ["type"],
    },
    imageLink: { type: "string", description: "The stable public image link (PNG; `.svg` for SVG; `?size=`): always the current code, no token needed" },
  },
  required: [
    "id",
    "name",
    "welcome",
    "qrcode",
    "createdAt",
    "archived",
    "today",
    "total",
    "followUp",
    "tag",
    "groupId",
    ...channelAudienceRequired,
    "code",
    "imageLink",
  ],
} as const;

/** A channel's code in `POST`/`PATCH /api/channels` (issue #13). */
export const codeInputSchema = {
  type: "object",
  description:
    "Permanent (default), or temporary for 1 to 30 days, renewed a day before it expires when `renew` (12 h for 1 day). On PATCH: a new type creates a new code now; new `days`/`renew` apply from the next renewal",
  properties: {
    type: { type: "string", enum: ["permanent", "temporary"] },
    days: { type: "integer" },
    renew: { type: "boolean" },
  },
  required: ["type"],
  additionalProperties: false,
} as const;

/** A rendered code's size and quiet zone, in pixels and modules. */
export const imageSizeProperties = {
  size: { type: "integer", minimum: 21, maximum: 4096, default: 430 },
  margin: { type: "integer", minimum: 0, maximum: 16, default: 4 },
} as const;

export const imageQuery = { type: "object", properties: imageSizeProperties, additionalProperties: false } as const;

export const idParams = { type: "object", properties: { id: { type: "string", minLength: 1, maxLength: 64 } }, required: ["id"] } as const;

export const errorResponses = {
  400: errorSchema,
  401: errorSchema,
  404: errorSchema,
  409: errorSchema,
  429: errorSchema,
  502: errorSchema,
  503: errorSchema,
} as const;

/** A channel's follow-up in a request: a text or an image, or null to clear it. */
export const followUpInputSchema = {
  type: ["object", "null"],
  description: "A customer-service message after every scan through the channel: {text} or {imageBase64} (PNG or JPEG, at most 2 MB); null clears it",
  properties: {
    text: { type: "string", minLength: 1, maxLength: 600 },
    imageBase64: { type: "string", minLength: 1, maxLength: 2_796_204 },
  },
  additionalProperties: false,
} as const;

export const tagInputSchema = {
  type: ["string", "null"],
  description: "A tag for whoever scans through the channel, at most 30 UTF-8 bytes (10 Chinese characters); created at WeChat once; null clears it",
} as const;
