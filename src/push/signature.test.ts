import { describe, expect, it } from "vitest";
import { computeMsgSignature, computeSignature, signatureMatches } from "./signature.ts";

// wechat-api.md §5 and §6 "Test vectors".
const V1A_ENCRYPT = "jn1L23DB+6ELqJ+6bruv21Y6MD7KeIfP82D6gU39rmkgczbWwt5+3bnyg5K55bgVtVzd832WzZGMhkP72vVOfg==";
const V1B_ENCRYPT =
  "jn1L23DB+6ELqJ+6bruv23M2GmYfkv0xBh2h+XTBOKVKcgDFHle6gqcZ1cZrk3e1qjPQ1F4RsLWzQRG9udbKWesxlkupqcEcW7ZQweImX9+wLMa0GaUzpkycA8+IamDBxn5loLgZpnS7fVAbExOkK5DYHBmv5tptA9tklE/fTIILHR8HLXa5nQvFb3tYPKAlHF3rtTeayNf0QuM+UW/wM9enGIDIJHF7CLHiDNAYxr+r+OrJCmPQyTy8cVWlu9iSvOHPT/77bZqJucQHQ04sq7KZI27OcqpQNSto2OdHCoTccjggX5Z9Mma0nMJBU+jLKJ38YB1fBIz+vBzsYjrTmFQ44YfeEuZ+xRTQwr92vhA9OxchWVINGC50qE/6lmkwWTwGX9wtQpsJKhP+oS7rvTY8+VdzETdfakjkwQ5/Xka042OlUb1/slTwo4RscuQ+RdxSGvDahxAJ6+EAjLt9d8igHngxIbf6YyqqROxuxqIeIch3CssH/LqRs+iAcILvApYZckqmA7FNERspKA5f8GoJ9sv8xmGvZ9Yrf57cExWtnX8aCMMaBropU/1k+hKP5LVdzbWCG0hGwx/dQudYR/eXp3P0XxjlFiy+9DMlaFExWUZQDajPkdPrEeOwofJb";
const V2_ENCRYPT =
  "rTNFcsut4LfGuAFKEUVVpwcaCOTJzOd9twZdIW910jb3k+iicx2uvhttIZ3Qg9Qgty3BEF2xbOrz6boTfb30dMomcgrkTqdFPwnhqbk+kIQ7rZiwny9D7NUrTgA5kpX3KsZvrXzUZyP2x9YOlxbgm572lmxKvM7HAQQhIQ/p6HBmoY30bGXFK0BtIu1pW9TjhOYrLQoU18nWYjWqDA1ynkmOytpv7QRI1P1+0NoxL0q2zO1DgeSvnE8CZGo/o5Ap/WHK5W2RAsinpzN4/LjPnmB6U01I5XCoJoC0GK/yMZycd2Oh8Nq6+wBkC1U85oy0ktOY4nLvsQMLrourmMGdZHuTbqpeJ8Ao/5PRYJ+WBvRUwPfGKBL2+2IKZF49vAJqkcGWSHGE76ZN2erXeuNazf/o9o3lIE3q739o4c8t9QGPe31GT2Go/rOz1BsrASwvauNulCh+++yz+CQzBIuikA==";
const V6_ENCRYPT =
  "jn1L23DB+6ELqJ+6bruv23bYF/d/cxBf0szhrD8BQ1MkorjFwC0rHlVODYXVB9IoGQ4CNo1VHAn/QmUDCsvVe82eyvUkmySBcDgs5PbFfKp2ePVamowQeOGiTDxQxfc0zZvbaYk0COUUiAaB/IEopgGDDJSgveMJDjHgkBx4Nx81IIBG9qe74QCHJuxFckKhp7Cuj2X7i4f9smx6Yw1aazrdxDv91w7cHwKTq8lVDIk/zuyq0ezzh3Xbdy23KenwkyrhtC4kJo7kB+ldn4/GO1SItIgZv3tgje6//fMu9F6enbRCzdYUxx/r+6rWoDS+tu+IsbMk44+4keY9yTnmgGCj1jLkjHS5iqR32YnP0dH3cG0WOGT04fyYH9R4gjOceILmUF+eXMFiSnIsOvOZzXQegH9nVOwrEaL2/dfAE6GR1eAGGsurIJ7/d7BZVsiDXJxXbVbRmnZWObU561ufa/WD5hjuGqCASNAnpvt8+W2nQ8pGJqSgBcqMmJUr0fL0";
const V6_REPLY_ENCRYPT =
  "jn1L23DB+6ELqJ+6bruv2w4sePYQdD6NGsLnUAZaXUMQ9GZqG3LR/7dHyqhL7uoRUYsml20OUichn6ld2qdUhxRnRtvamXVbM3CZESAk1hl6hDCHKLIOkgc10b7FnnR9275CjFHt1hiXYmARo9erPNPBLGaJmlytHj7fUhR/IU00NTh8aIa91xcOxwCpo9zpTRxoYOK7f7P1SO6JEywYiQedWxI+TiDsv68OQHR9EDasETWrLGgAnjkceiIvRtiGugBW0WYrJ71KuUcyRjqXRYmaxOQHapOac9wXuUd/XkFWKDF+FQQSxVld0dcTRDim1w0k802Nhcblf29Tz++DRHecjj85uxOt89xR+xzCRdHJtmFFmOE3hSzWSqj1ao3/";

describe("computeSignature", () => {
  it("matches wechatpy's check_signature vector and rejects its …3fe variant", () => {
    const sig = computeSignature("test", "1410685589", "test");
    expect(sig).toBe("f21891de399b4e33a1a93c9a7b8a8fffb5a443ff");
    expect(signatureMatches(sig, "f21891de399b4e33a1a93c9a7b8a8fffb5a443ff")).toBe(true);
    expect(signatureMatches(sig, "f21891de399b4e33a1a93c9a7b8a8fffb5a443fe")).toBe(false);
  });

  it("matches the derived pamtest vector", () => {
    expect(computeSignature("pamtest", "1409304348", "xxxxxx")).toBe("76480565cbe296026c53aaacd1ad523a1ddba24f");
  });

  it("sorts before joining, so argument order does not matter", () => {
    expect(computeSignature("xxxxxx", "pamtest", "1409304348")).toBe("76480565cbe296026c53aaacd1ad523a1ddba24f");
  });
});

describe("computeMsgSignature", () => {
  it("matches V5 (node-webot/wechat-crypto)", () => {
    expect(computeMsgSignature("RMNlACHlV5ThzfRlVS4D4", "timestamp", "nonce", "encrypt")).toBe("8edac0945683c119ee71c9f6256d76c48aa08a96");
  });

  it("matches the V1 derived msg_signatures", () => {
    expect(computeMsgSignature("pamtest", "1409304348", "xxxxxx", V1A_ENCRYPT)).toBe("82c962d39941aa48552f90ef55aa323dc620cc10");
    expect(computeMsgSignature("pamtest", "1409304348", "xxxxxx", V1B_ENCRYPT)).toBe("ea88b765074e41eb8c7a75b449db34fa2fd560d5");
  });

  it("matches V2 (EasyWeChat)", () => {
    expect(computeMsgSignature("pamtest", "1458300676", "260774613", V2_ENCRYPT)).toBe("4f3ad57b6989f09f4eb392acce4f9e93942ed890");
  });

  it("matches V6's push and reply signatures", () => {
    expect(computeMsgSignature("pamtest", "1409304348", "xxxxxx", V6_ENCRYPT)).toBe("e7d01d4a2a34e9c43bf40a8cf8143b46f43c25a3");
    expect(computeMsgSignature("pamtest", "1409304348", "xxxxxx", V6_REPLY_ENCRYPT)).toBe("4f98556c66fa12eaf9774033d888172b24d995a8");
  });
});

describe("signatureMatches", () => {
  it("is false for different lengths, case, and the empty string", () => {
    const sig = computeSignature("test", "1410685589", "test");
    expect(signatureMatches(sig, sig.slice(1))).toBe(false);
    expect(signatureMatches(sig, sig.toUpperCase())).toBe(false);
    expect(signatureMatches(sig, "")).toBe(false);
    expect(signatureMatches(sig, `${sig}0`)).toBe(false);
  });
});
