import type { Context } from "hono";
import { AppFailure } from "../failures/failure";
import type { AppEnv } from "./context";

/*
 * The pages' constant script and style live in public/assets/ (static
 * assets, uploaded beside the script, not in its bundle). Each URL carries
 * the first 8 hex digits of its file's SHA-256 (test/assets.test.ts checks
 * them), because the worker lets browsers keep these files for a year: a
 * changed file must get a new URL, or a page would run yesterday's script.
 */
export const WAIT_JS = "/assets/wait.js?v=9a75fe3d";
export const POPUP_JS = "/assets/popup.js?v=23f13506";
export const PAGE_CSS = "/assets/page.css?v=f0586fc8";

/** The one exception to no-store (app.ts): a found asset is the same for everyone, and its URL changes with it. */
export const ASSET_CACHE = "public, max-age=31536000, immutable";

/**
 * What the assets server answers (HEAD, If-None-Match and 304 included),
 * copied because its headers are immutable and the app stamps its own.
 */
export async function fromAssets(c: Context<AppEnv>): Promise<Response> {
  const asset = await c.env.ASSETS.fetch(c.req.raw);
  return new Response(asset.body, asset);
}

/** `GET|HEAD /assets/*`; an unknown file is the app's usual 404. */
export async function assetRoute(c: Context<AppEnv>): Promise<Response> {
  c.get("log").route = "asset";
  const asset = await fromAssets(c);
  if (asset.status === 404) throw new AppFailure("not_found");
  return asset;
}
