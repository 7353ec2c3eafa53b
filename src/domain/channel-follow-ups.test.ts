import { describe, expect, it } from "vitest";
import { ValidationError } from "../errors.ts";
import { checkFollowUp, checkTagName, FOLLOW_UP_IMAGE_MAX_BYTES } from "./channel-follow-ups.ts";

const PNG_HEADER = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);

function fieldOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof ValidationError) return err.field;
    throw err;
  }
  return undefined;
}

describe("checkTagName", () => {
  it("counts the platform's 30-byte limit in UTF-8 bytes, not characters", () => {
    expect(checkTagName("一二三四五六七八九十")).toBe("一二三四五六七八九十"); // 30 bytes
    expect(fieldOf(() => checkTagName("一二三四五六七八九十一"))).toBe("tag"); // 33 bytes, 11 characters
    expect(checkTagName("a".repeat(30))).toBe("a".repeat(30));
    expect(fieldOf(() => checkTagName("a".repeat(31)))).toBe("tag");
  });

  it("takes null to clear the tag and refuses an empty name", () => {
    expect(checkTagName(null)).toBeNull();
    expect(fieldOf(() => checkTagName("  "))).toBe("tag");
  });
});

describe("checkFollowUp", () => {
  it("takes a text or an image, not both and not neither", () => {
    expect(checkFollowUp({ text: " hi " })).toEqual({ followUpText: "hi", followUpImage: null });
    expect(checkFollowUp(null)).toEqual({ followUpText: null, followUpImage: null });
    expect(fieldOf(() => checkFollowUp({}))).toBe("followUp");
    expect(fieldOf(() => checkFollowUp({ text: "a", imageBase64: PNG_HEADER.toString("base64") }))).toBe("followUp");
  });

  it("names an image by its content and knows it by its bytes, whatever it claims", () => {
    const a = checkFollowUp({ imageBase64: PNG_HEADER.toString("base64") });
    const b = checkFollowUp({ imageBase64: PNG_HEADER.toString("base64") });
    expect(a.image?.contentType).toBe("image/png");
    expect(a.followUpImage).toBe(b.followUpImage);
    expect(fieldOf(() => checkFollowUp({ imageBase64: Buffer.from("GIF89a....").toString("base64") }))).toBe("followUp.imageBase64");
    expect(fieldOf(() => checkFollowUp({ imageBase64: "not base64!" }))).toBe("followUp.imageBase64");
    const huge = Buffer.concat([PNG_HEADER, Buffer.alloc(FOLLOW_UP_IMAGE_MAX_BYTES)]);
    expect(fieldOf(() => checkFollowUp({ imageBase64: huge.toString("base64") }))).toBe("followUp.imageBase64");
  });
});
