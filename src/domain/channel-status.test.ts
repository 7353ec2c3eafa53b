import { describe, expect, it } from "vitest";
import { channelStatus } from "./channel-status.ts";

describe("channelStatus", () => {
  const schedule = { startsAt: 1_000, endsAt: 2_000, paused: false };

  it("is scheduled before the start, active from it, ended from the end on", () => {
    expect(channelStatus(schedule, 999)).toBe("scheduled");
    expect(channelStatus(schedule, 1_000)).toBe("active");
    expect(channelStatus(schedule, 1_999)).toBe("active");
    expect(channelStatus(schedule, 2_000)).toBe("ended");
  });

  it("is active at any time without dates", () => {
    expect(channelStatus({}, 0)).toBe("active");
    expect(channelStatus({ startsAt: null, endsAt: null, paused: false }, Number.MAX_SAFE_INTEGER)).toBe("active");
  });

  it("is paused whatever the start says, but ended once the end has passed", () => {
    const paused = { ...schedule, paused: true };
    expect(channelStatus(paused, 500)).toBe("paused");
    expect(channelStatus(paused, 1_500)).toBe("paused");
    expect(channelStatus(paused, 2_000)).toBe("ended");
  });

  it("ends when a code that does not renew expires, even before the channel's own end", () => {
    expect(channelStatus(schedule, 1_499, 1_500)).toBe("active");
    expect(channelStatus(schedule, 1_500, 1_500)).toBe("ended");
    expect(channelStatus({ paused: true }, 1_500, 1_500)).toBe("ended");
    expect(channelStatus(schedule, 1_500, null)).toBe("active");
  });
});
