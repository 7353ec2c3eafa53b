/** WeChat's own field names stay in these types; everything past the client is camelCase (style.md §2). */

export interface WireError {
  errcode: number;
  errmsg?: string;
}

export interface WireAccessToken {
  access_token: string;
  expires_in: number;
}

export type WireActionName = "QR_SCENE" | "QR_STR_SCENE" | "QR_LIMIT_SCENE" | "QR_LIMIT_STR_SCENE";

export interface WireQrCreateRequest {
  expire_seconds?: number;
  action_name: WireActionName;
  action_info: { scene: { scene_id: number } | { scene_str: string } };
}

export interface WireQrCreateResponse {
  ticket: string;
  url: string;
  expire_seconds?: number;
}
