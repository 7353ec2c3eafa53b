import { describe, expect, it } from "vitest";
import { en } from "./en.ts";
import { zhCN } from "./zh-CN.ts";

const placeholders = (message: string): string[] => [...message.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!).sort();

describe("dashboard dictionaries", () => {
  it("have the same keys in Chinese and English", () => {
    expect(Object.keys(en).sort()).toEqual(Object.keys(zhCN).sort());
  });

  it("fill the same placeholders in both languages", () => {
    for (const key of Object.keys(zhCN) as Array<keyof typeof zhCN>) expect([key, placeholders(en[key])]).toEqual([key, placeholders(zhCN[key])]);
  });

  it("have no empty message", () => {
    for (const dictionary of [zhCN, en]) for (const [key, message] of Object.entries(dictionary)) expect([key, message.trim().length > 0]).toEqual([key, true]);
  });

  it("name the sign-in field and the language control as the issue asks", () => {
    expect([zhCN["signIn.token"], en["signIn.token"]]).toEqual(["管理令牌", "Admin token"]);
    expect([zhCN["language.label"], en["language.label"]]).toEqual(["语言", "Language"]);
  });
});
