import { describe, expect, it } from "vitest";
import { checkFollowUp, checkTagName, FOLLOW_UP_IMAGE_MAX_BYTES } from "./channel-follow-ups.ts";
import { validationFieldOf } from "../../test/helpers/validation.ts";

const PNG_HEADER = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);

describe("checkTagName", () => {
  it("counts the platform's 30-byte limit in UTF-8 bytes, not characters", () => {
    expect(checkTagName("一二三四五六七八九十")).toBe("一二三四五六七八九十"); // 30 bytes
    expect(validationFieldOf(() => checkTagName("一二三四五六七八九十一"))).toBe("tag"); // 33 bytes, 11 characters
    expect(checkTagName("a".repeat(30))).toBe("a".repeat(30));
    expect(validationFieldOf(() => checkTagName("a".repeat(31)))).toBe("tag");
  });

  it("takes null to clear the tag and refuses an empty name", () => {
    expect(checkTagName(null)).toBeNull();
    expect(validationFieldOf(() => checkTagName("  "))).toBe("tag");
  });
});

describe("checkFollowUp", () => {
  it("takes a text or an image, not both and not neither", () => {
    expect(checkFollowUp({ text: " hi " })).toEqual({ followUpText: "hi", followUpImage: null });
    expect(checkFollowUp(null)).toEqual({ followUpText: null, followUpImage: null });
    expect(validationFieldOf(() => checkFollowUp({}))).toBe("followUp");
    expect(validationFieldOf(() => checkFollowUp({ text: "a", imageBase64: PNG_HEADER.toString("base64") }))).toBe("followUp");
  });

  it("names an image by its content and knows it by its bytes, whatever it claims", () => {
    const a = checkFollowUp({ imageBase64: PNG_HEADER.toString("base64") });
    const b = checkFollowUp({ imageBase64: PNG_HEADER.toString("base64") });
    expect(a.image?.contentType).toBe("image/png");
    expect(a.followUpImage).toBe(b.followUpImage);
    expect(validationFieldOf(() => checkFollowUp({ imageBase64: Buffer.from("GIF89a....").toString("base64") }))).toBe("followUp.imageBase64");
    expect(validationFieldOf(() => checkFollowUp({ imageBase64: "not base64!" }))).toBe("followUp.imageBase64");
    const huge = Buffer.concat([PNG_HEADER, Buffer.alloc(FOLLOW_UP_IMAGE_MAX_BYTES)]);
    expect(validationFieldOf(() => checkFollowUp({ imageBase64: huge.toString("base64") }))).toBe("followUp.imageBase64");
  });
});
