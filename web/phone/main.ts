/**
 * The emulator's phone page: pick or create a WeChat user, scan one of the emulator's codes (by
 * clicking it, pasting its url or uploading a photo), follow or unfollow, write to the account,
 * and read the chat as the user saw it (passive replies and customer-service messages, images
 * inline). Everything goes through the emulator's `/emulator/*` controls on this origin;
 * user-supplied text only ever lands in `textContent`.
 */
import { api, EmulatorRefusal, sceneOf, type Code, type User } from "./api.ts";
import { chatItems, type ChatItem, type Delivery, type Received } from "./chat.ts";
import { translate, zh, type Lang, type MessageKey } from "./i18n.ts";

const REFRESH_MS = 2_000; // codes created in the dashboard show up within this
const CODES_SHOWN = 30;
const PHOTO_MAX_SIDE_PX = 1_600; // a phone photo is scaled down before upload: the emulator's body limit is 8 MB
const PHOTO_MAX_BYTES = 3 * 1_048_576;
const LANG_KEY = "wxqr-phone-lang";
const USER_KEY = "wxqr-phone-user";

const REASON_KEYS: Record<string, MessageKey> = {
  unknown_code: "unknownCode",
  expired: "expiredCode",
  no_qr_in_image: "noQrInImage",
  not_following: "notFollowingError",
  already_following: "alreadyFollowing",
  push_not_configured: "pushNotConfigured",
  unreachable: "unreachable",
};

const view = {
  users: [] as User[],
  codes: [] as Code[],
  deliveries: [] as Delivery[],
  received: [] as Received[],
  openId: localStorage.getItem(USER_KEY) ?? "",
  lang: initialLang(),
  busy: false,
  /** Until the first answer, "no users" is not known yet. */
  loaded: false,
  chatSignature: "",
  /** The emulator's clock minus this browser's: codes expire by the emulator's time. */
  clockOffsetMs: 0,
};

const emulatorNow = (): number => Date.now() + view.clockOffsetMs;

function initialLang(): Lang {
  const saved = localStorage.getItem(LANG_KEY);
  if (saved === "zh" || saved === "en") return saved;
  // Chinese unless the browser asks for English.
  return navigator.language.toLowerCase().startsWith("en") ? "en" : "zh";
}

const t = (key: MessageKey, values?: Record<string, string | number>): string => translate(view.lang, key, values);

function byId<T extends HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (element === null) throw new Error(`phone page: #${id} is missing from index.html`);
  return element as T;
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, className: string, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  if (className !== "") element.className = className;
  element.append(...children);
  return element;
}

const ui = {
  lang: byId<HTMLSelectElement>("lang"),
  user: byId<HTMLSelectElement>("user"),
  userState: byId<HTMLParagraphElement>("user-state"),
  follow: byId<HTMLButtonElement>("follow"),
  newUser: byId<HTMLDetailsElement>("new-user"),
  newUserForm: byId<HTMLFormElement>("new-user-form"),
  nickname: byId<HTMLInputElement>("nickname"),
  openId: byId<HTMLInputElement>("openid"),
  filter: byId<HTMLInputElement>("filter"),
  codes: byId<HTMLUListElement>("codes"),
  codesNote: byId<HTMLParagraphElement>("codes-note"),
  urlForm: byId<HTMLFormElement>("url-form"),
  url: byId<HTMLInputElement>("url"),
  photo: byId<HTMLInputElement>("photo"),
  chatWith: byId<HTMLSpanElement>("chat-with"),
  chat: byId<HTMLDivElement>("chat"),
  status: byId<HTMLParagraphElement>("status"),
  messageForm: byId<HTMLFormElement>("message-form"),
  message: byId<HTMLInputElement>("message"),
};

const currentUser = (): User | undefined => view.users.find((u) => u.openId === view.openId);
const displayName = (u: User): string => (u.nickname === null ? u.openId : `${u.nickname} (${u.openId})`);

function setStatus(text: string, kind: "info" | "error" = "info"): void {
  ui.status.textContent = text;
  ui.status.dataset.kind = kind;
}

function randomOpenId(): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
  const bytes = crypto.getRandomValues(new Uint8Array(27));
  return `o${Array.from(bytes, (b) => alphabet[b % alphabet.length]).join("")}`; // 28 characters, like real OpenIDs
}

function renderStaticText(): void {
  document.documentElement.lang = view.lang === "zh" ? "zh-CN" : "en";
  document.title = `${t("title")} · wxqr`;
  for (const node of document.querySelectorAll<HTMLElement>("[data-i18n]")) node.textContent = t(node.dataset.i18n as MessageKey);
  ui.lang.value = view.lang;
  ui.url.placeholder = t("pastePlaceholder");
  ui.message.placeholder = t("message");
}

function renderUsers(): void {
  const options = view.users.map((u) => {
    const option = el("option", "", displayName(u));
    option.value = u.openId;
    return option;
  });
  if (view.users.length === 0) options.push(Object.assign(el("option", "", t("noUsers")), { value: "", disabled: true }));
  ui.user.replaceChildren(...options);
  if (!view.users.some((u) => u.openId === view.openId)) view.openId = view.users[0]?.openId ?? "";
  ui.user.value = view.openId;
  ui.user.disabled = view.users.length === 0;
  const user = currentUser();
  ui.userState.textContent = user === undefined ? t("noUsers") : t(user.subscribed ? "following" : "notFollowing");
  ui.userState.dataset.following = String(user?.subscribed === true);
  ui.follow.textContent = t(user?.subscribed === true ? "unfollow" : "follow");
  ui.follow.hidden = user === undefined;
  ui.chatWith.textContent = user === undefined ? "—" : (user.nickname ?? user.openId);
  if (view.loaded && view.users.length === 0) ui.newUser.open = true;
  if (ui.nickname.value === "") ui.nickname.value = `${t("defaultNickname")} ${view.users.length + 1}`;
  if (ui.openId.value === "") ui.openId.value = randomOpenId();
  renderBusy();
}

function codeLine(code: Code, now: number): HTMLLIElement {
  const expired = code.expiresAt !== null && code.expiresAt <= now;
  const when = code.expiresAt === null ? "" : expired ? t("expired") : t("expiresIn", { minutes: Math.max(1, Math.ceil((code.expiresAt - now) / 60_000)) });
  const button = el(
    "button",
    "code",
    el("span", "scene", t("scene", { scene: sceneOf(code) })),
    el("span", `badge ${code.kind}`, t(code.kind)),
    el("span", "when", when),
    el("span", "action", t("scan")),
  );
  button.type = "button";
  button.dataset.ticket = code.ticket;
  button.disabled = expired || view.busy || currentUser() === undefined;
  return el("li", "", button);
}

function renderCodes(): void {
  const filter = ui.filter.value.trim().toLowerCase();
  const matching = view.codes.filter((c) => filter === "" || sceneOf(c).toLowerCase().includes(filter)).sort((a, b) => b.createdAt - a.createdAt);
  const now = emulatorNow();
  ui.codes.replaceChildren(...matching.slice(0, CODES_SHOWN).map((c) => codeLine(c, now)));
  ui.codesNote.textContent = view.codes.length === 0 ? t("noCodes") : matching.length > CODES_SHOWN ? t("more", { count: matching.length - CODES_SHOWN }) : "";
}

const senderLabel = (via: Received["via"]): HTMLElement =>
  el("span", "who", via === "customer_service" ? `${t("account")} · ${t("viaCustomerService")}` : t("account"));

function mediaLabel(msgType: string): string {
  const key = `media_${msgType}`;
  return key in zh ? t(key as MessageKey) : t("mediaOther", { type: msgType });
}

function imageBubble(src: string): HTMLElement {
  const image = el("img", "");
  image.alt = t("imageAlt");
  image.src = src;
  // The image's height is known only once it loads: keep the newest message in view.
  image.addEventListener("load", () => (ui.chat.scrollTop = ui.chat.scrollHeight));
  image.addEventListener("error", () => image.replaceWith(t("imageGone")));
  return el("div", "bubble picture", image);
}

function chatNode(item: ChatItem, timeFormat: Intl.DateTimeFormat): HTMLElement {
  const time = el("time", "", timeFormat.format(item.time));
  time.dateTime = new Date(item.time).toISOString();
  switch (item.kind) {
    case "sent":
      return el("div", "msg sent", el("p", "bubble", item.text), time);
    case "reply":
      return el("div", "msg reply", senderLabel(item.via), el("p", "bubble", item.text), time);
    case "image":
      return el("div", "msg reply", senderLabel(item.via), imageBubble(item.src), time);
    case "media": {
      const label = mediaLabel(item.msgType);
      const text = item.title === undefined ? t("mediaPlaceholder", { type: label }) : `[${label}] ${item.title}`;
      return el("div", "msg reply", senderLabel(item.via), el("p", "bubble placeholder", text), time);
    }
    case "notice":
      return el("p", "notice", item.text);
    case "status":
      return el("p", "note", t(item.key));
    case "action":
      return el("p", "note action", t(item.key, item.scene === undefined ? {} : { scene: item.scene }), " · ", time);
  }
}

function renderChat(force = false): void {
  // The received log only grows: its ids say what changed.
  const signature = JSON.stringify([view.lang, view.openId, view.deliveries.map((d) => [d.id, d.outcome, d.userSaw]), view.received.map((m) => m.id)]);
  if (!force && signature === view.chatSignature) return;
  view.chatSignature = signature;
  const items = chatItems(view.deliveries, view.received);
  const timeFormat = new Intl.DateTimeFormat(view.lang === "zh" ? "zh-CN" : "en", { hour: "2-digit", minute: "2-digit", second: "2-digit" });
  ui.chat.replaceChildren(...(items.length === 0 ? [el("p", "empty", t("chatEmpty"))] : items.map((item) => chatNode(item, timeFormat))));
  ui.chat.scrollTop = ui.chat.scrollHeight;
}

function renderBusy(): void {
  const noUser = currentUser() === undefined;
  for (const control of [ui.follow, ui.photo, ...ui.urlForm.querySelectorAll("button"), ...ui.messageForm.querySelectorAll("button")]) {
    (control as HTMLButtonElement | HTMLInputElement).disabled = view.busy || noUser;
  }
  for (const button of ui.codes.querySelectorAll<HTMLButtonElement>("button.code")) {
    const code = view.codes.find((c) => c.ticket === button.dataset.ticket);
    const expired = code?.expiresAt != null && code.expiresAt <= emulatorNow();
    button.disabled = view.busy || noUser || expired;
  }
  document.body.setAttribute("aria-busy", String(view.busy));
}

function render(): void {
  renderStaticText();
  renderUsers();
  renderCodes();
  renderChat(true);
  renderBusy();
}

async function refresh(): Promise<void> {
  try {
    const [users, codes, now] = await Promise.all([api.users(), api.codes(), api.now()]);
    view.clockOffsetMs = now - Date.now();
    view.users = users;
    view.codes = codes;
    view.loaded = true;
    renderUsers();
    renderCodes();
    const openId = view.openId;
    [view.deliveries, view.received] = openId === "" ? [[], []] : await Promise.all([api.deliveries(openId), api.received(openId)]);
    renderChat();
    if (ui.status.dataset.kind === "error" && ui.status.textContent === t("unreachable")) setStatus("");
  } catch (err) {
    if (err instanceof EmulatorRefusal && err.reason === "unreachable") setStatus(t("unreachable"), "error");
  }
}

/** Runs one user action: buttons off while the emulator pushes (with WeChat's retries this can take a while). */
async function act(action: () => Promise<unknown>): Promise<boolean> {
  if (view.busy) return false;
  view.busy = true;
  renderBusy();
  setStatus(t("working"));
  let ok = false;
  try {
    await action();
    setStatus("");
    ok = true;
  } catch (err) {
    const refusal = err instanceof EmulatorRefusal ? err : new EmulatorRefusal("error", String(err));
    const key = REASON_KEYS[refusal.reason];
    setStatus(key === undefined ? t("failed", { message: refusal.message }) : t(key), "error");
  } finally {
    view.busy = false;
    await refresh();
    renderBusy();
  }
  // On a phone-sized screen the chat is below the codes: bring the reply into view.
  if (ok && window.matchMedia("(max-width: 760px)").matches) ui.chat.scrollIntoView({ block: "end" });
  return ok;
}

async function photoAsDataUrl(file: File): Promise<string> {
  const asIs = (): Promise<string> =>
    new Promise((resolve, reject) => {
      const reader = new FileReader();
      reader.onload = () => resolve(String(reader.result));
      reader.onerror = () => reject(reader.error ?? new Error("could not read the file"));
      reader.readAsDataURL(file);
    });
  const bitmap = await createImageBitmap(file);
  const scale = Math.min(1, PHOTO_MAX_SIDE_PX / Math.max(bitmap.width, bitmap.height));
  if (scale === 1 && file.size <= PHOTO_MAX_BYTES) return asIs();
  const canvas = document.createElement("canvas");
  canvas.width = Math.round(bitmap.width * scale);
  canvas.height = Math.round(bitmap.height * scale);
  canvas.getContext("2d")?.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  return canvas.toDataURL("image/jpeg", 0.92);
}

ui.lang.addEventListener("change", () => {
  view.lang = ui.lang.value === "en" ? "en" : "zh";
  localStorage.setItem(LANG_KEY, view.lang);
  ui.nickname.value = "";
  render();
});

ui.user.addEventListener("change", () => {
  view.openId = ui.user.value;
  localStorage.setItem(USER_KEY, view.openId);
  view.deliveries = [];
  view.received = [];
  setStatus("");
  renderUsers();
  renderCodes();
  renderChat(true);
  void refresh();
});

ui.follow.addEventListener("click", () => {
  const user = currentUser();
  if (user !== undefined) void act(() => (user.subscribed ? api.unfollow(user.openId) : api.follow(user.openId)));
});

ui.newUserForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const openId = ui.openId.value.trim();
  const nickname = ui.nickname.value.trim();
  void act(async () => {
    await api.nameUser(openId, nickname);
    view.openId = openId;
    localStorage.setItem(USER_KEY, openId);
    ui.openId.value = "";
    ui.nickname.value = "";
    ui.newUser.open = false;
  });
});

ui.filter.addEventListener("input", () => renderCodes());

ui.codes.addEventListener("click", (event) => {
  const button = (event.target as Element).closest<HTMLButtonElement>("button.code");
  const ticket = button?.dataset.ticket;
  if (ticket !== undefined && view.openId !== "") void act(() => api.scan(view.openId, { ticket }));
});

ui.urlForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const url = ui.url.value.trim();
  void act(() => api.scan(view.openId, { url })).then((ok) => {
    if (ok) ui.url.value = "";
  });
});

ui.photo.addEventListener("change", () => {
  const file = ui.photo.files?.[0];
  if (file === undefined) return;
  void act(async () => api.scan(view.openId, { image: await photoAsDataUrl(file) })).then(() => {
    ui.photo.value = "";
  });
});

ui.messageForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const content = ui.message.value;
  void act(() => api.send(view.openId, content)).then((ok) => {
    if (ok) ui.message.value = "";
  });
});

render();
void refresh();
setInterval(() => {
  if (document.visibilityState === "visible" && !view.busy) void refresh();
}, REFRESH_MS);
