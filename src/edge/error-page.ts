import { FAILURES, type FailureCode } from "../failures/codes";
import { PAGE_CSS } from "./assets";

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => ESCAPES[ch] ?? ch);
}

export interface ErrorPageInput {
  readonly code: FailureCode;
  readonly requestId: string;
  readonly connectionId?: string | undefined;
  readonly detail?: string | undefined;
}

/**
 * A small page whose only resource is the shared stylesheet, so it renders
 * under PAGE_CSP. Tags HTML lets a page leave out (head, body, closing ones)
 * are left out: every byte here is in the bundle.
 */
export function renderErrorPage(input: ErrorPageInput): string {
  const { status, message } = FAILURES[input.code];
  const rows = [
    ["Error", input.code],
    ...(input.connectionId ? [["Connection", input.connectionId]] : []),
    ["Request id", input.requestId],
  ]
    .map(([k, v]) => `<dt>${escapeHtml(k ?? "")}</dt><dd><code>${escapeHtml(v ?? "")}</code></dd>`)
    .join("");
  const detail = input.detail ? `<p>${escapeHtml(input.detail)}</p>` : "";
  return `<!doctype html><html lang="en"><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><meta name="robots" content="noindex"><title>${status} ${escapeHtml(input.code)}</title><link rel="stylesheet" href="${PAGE_CSS}"><main><h1>${escapeHtml(message)}</h1>${detail}<dl>${rows}</dl><p>If this keeps happening, contact support and quote the request id.</main>`;
}
