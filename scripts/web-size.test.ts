import { describe, expect, it } from "vitest";
import { firstPageFiles, scriptsOfHtml, staticImportsOfChunk } from "./web-size.ts";

describe("web-size", () => {
  it("counts the entry script and the module preloads of the HTML, not stylesheets or remote scripts", () => {
    const html = `<script type="module" crossorigin src="./assets/index-a.js"></script>
      <link rel="modulepreload" crossorigin href="./assets/vendor-b.js">
      <link rel="stylesheet" href="./assets/index-c.css">
      <script type="module" src="https://example.com/x.js"></script>`;
    expect(scriptsOfHtml(html)).toEqual(["./assets/index-a.js", "./assets/vendor-b.js"]);
  });

  it("follows static imports of a minified chunk but not dynamic import()", () => {
    const js = `import{a as b}from"./preact-1.js";import"./side-2.js";export{c}from"./re-3.js";const l=()=>import("./chart-4.js");`;
    expect(staticImportsOfChunk(js)).toEqual(["./preact-1.js", "./side-2.js", "./re-3.js"]);
  });

  it("walks the static import graph from the HTML, each file once", () => {
    const files: Record<string, string> = {
      "/d/index.html": `<script type="module" src="./assets/index.js"></script>`,
      "/d/assets/index.js": `import{x}from"./shared.js";import"./more.js";import("./lazy.js")`,
      "/d/assets/more.js": `import{x}from"./shared.js";`,
      "/d/assets/shared.js": `export const x=1`,
    };
    const read = (p: string): string => files[p] ?? "";
    expect(firstPageFiles("/d", read).sort()).toEqual(["/d/assets/index.js", "/d/assets/more.js", "/d/assets/shared.js"]);
  });
});
