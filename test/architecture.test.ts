/// <reference types="vite/client" />
import { describe, expect, it } from "vitest";
import * as worker from "../src/index";

// Every source file's text, by path relative to src/ (Vite reads them at build time).
const SOURCES = Object.fromEntries(
  Object.entries(
    import.meta.glob<string>(["../src/**/*.ts", "../src/**/*.js", "!../src/**/*.d.ts"], {
      query: "?raw",
      import: "default",
      eager: true,
    }),
  ).map(([path, text]) => [path.replace("../src/", ""), text]),
);

/**
 * The layers, bottom up (docs/architecture.md): a folder may import its own
 * files and any lower layer, never a higher one, so no two folders can loop.
 */
const LAYER: Record<string, number> = {
  "clock.ts": 0,
  "version.ts": 0,
  failures: 0,
  security: 0,
  observability: 0,
  // The browser client: served to partners' pages, never imported by the worker.
  client: 0,
  config: 1,
  storage: 2,
  core: 3,
  platforms: 4,
  webhooks: 5,
  edge: 6,
  "index.ts": 7,
};

function unitOf(path: string): string {
  const first = path.split("/")[0] ?? path;
  // A top-level module, as a file path or as an import target without its extension.
  return path.includes("/") || first.includes(".") ? first : `${first}.ts`;
}

function importsOf(text: string): string[] {
  return [...text.matchAll(/(?:from|import)\s*\(?\s*"([^"]+)"/g)].map((m) => m[1] ?? "");
}

function resolve(from: string, specifier: string): string {
  const parts = from.split("/").slice(0, -1);
  for (const segment of specifier.split("/")) {
    if (segment === "..") parts.pop();
    else if (segment !== ".") parts.push(segment);
  }
  return parts.join("/");
}

const edges = Object.entries(SOURCES).flatMap(([path, text]) =>
  importsOf(text)
    .filter((specifier) => specifier.startsWith("."))
    .map((specifier) => ({ path, target: resolve(path, specifier) })),
);

describe("architecture", () => {
  it("reads the sources", () => {
    expect(Object.keys(SOURCES)).toContain("core/session.ts");
    expect(edges.length).toBeGreaterThan(50);
  });

  it("every file sits in a known layer", () => {
    const unknown = Object.keys(SOURCES).filter((path) => LAYER[unitOf(path)] === undefined);
    expect(unknown).toEqual([]);
  });

  it("imports only go down the layers: no folder loops", () => {
    const upward = edges
      .filter(({ path, target }) => unitOf(path) !== unitOf(target))
      .filter(({ path, target }) => (LAYER[unitOf(target)] ?? 99) >= (LAYER[unitOf(path)] ?? -1))
      .map(({ path, target }) => `${path} -> ${target}`);
    expect(upward).toEqual([]);
  });

  it("only the HTTP edge imports Hono", () => {
    const outside = Object.entries(SOURCES)
      .filter(
        ([path, text]) => unitOf(path) !== "edge" && importsOf(text).some((s) => s === "hono" || s.startsWith("hono/")),
      )
      .map(([path]) => path);
    expect(outside).toEqual([]);
    expect(Object.keys(SOURCES).some((path) => path.startsWith("edge/") && SOURCES[path]?.includes('from "hono'))).toBe(
      true,
    );
  });

  it("uses none of the Hono parts wrangler.toml's [alias] leaves out of the bundle", () => {
    // src/edge/hono-unused.js stands in for them in the deployed bundle only:
    // the tests run the real Hono, so only this check sees such a call.
    const using = Object.entries(SOURCES)
      .filter(([path]) => path !== "edge/hono-unused.js")
      .filter(
        ([, text]) =>
          /\.(parseBody|mount|query|queries)\(/.test(text) ||
          importsOf(text).some((s) => /^hono\/(html|jsx|css|validator)(\/|$)/.test(s) || s.startsWith("hono/dist/")),
      )
      .map(([path]) => path);
    expect(using).toEqual([]);
  });

  it("platform adapters do not import each other", () => {
    const crossing = edges
      .filter(({ path, target }) => path.startsWith("platforms/") && target.startsWith("platforms/"))
      .filter(({ path, target }) => path.split("/")[1] !== target.split("/")[1])
      .map(({ path, target }) => `${path} -> ${target}`);
    expect(crossing).toEqual([]);
  });

  it("the core names no platform", () => {
    const naming = Object.entries(SOURCES)
      .filter(([path]) => unitOf(path) === "core" && path !== "core/platform.ts")
      // Comments aside, and the log field `peakaStatus`, whose name is part of the log format.
      .filter(([, text]) => /peaka|rivery/i.test(text.replace(/\/\/.*|\/\*[\s\S]*?\*\/|peakaStatus/g, "")))
      .map(([path]) => path);
    expect(naming).toEqual([]);
  });
});

describe("public exports", () => {
  it("the worker module exports its handlers (fetch, queue) and the factory tests use, nothing else", () => {
    expect(Object.keys(worker).sort()).toEqual(["createWorker", "default"]);
    expect(typeof worker.default.fetch).toBe("function");
    expect(typeof worker.default.queue).toBe("function");
  });

  it("package.json exports the start-link signer, the result verifier and the browser client only", async () => {
    const { default: pkg } = await import("../package.json");
    expect(Object.keys(pkg.exports).sort()).toEqual(["./client", "./package.json", "./result", "./start-link"]);
    expect(pkg.exports["./client"]).toEqual({ types: "./src/client/connect.d.ts", default: "./src/client/connect.js" });
  });

  it("the browser client stays out of the worker: nothing imports it, and it imports nothing", () => {
    expect(edges.filter(({ target }) => target.startsWith("client/")).map(({ path }) => path)).toEqual([]);
    expect(importsOf(SOURCES["client/connect.js"] ?? "")).toEqual([]);
  });
});
