import { FAILURES, type FailureCode } from "../failures/codes";

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

/** A small self-contained page: no external resources, so it renders under PAGE_CSP. */
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
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><meta name="robots" content="noindex"><title>${status} ${escapeHtml(input.code)}</title><style>body{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#1f2328}h1{font-size:1.4rem}dl{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem;color:#59636e}dd{margin:0}code{word-break:break-all}</style></head><body><main><h1>${escapeHtml(message)}</h1>${detail}<dl>${rows}</dl><p>If this keeps happening, contact support and quote the request id.</p></main></body></html>`;
}
