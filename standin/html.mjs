// HTML for the stand-in's and the demo app's pages. Every dynamic value goes
// through `escapeHtml`, including values that came from our own URLs.

const ENTITIES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** @param {unknown} value */
export function escapeHtml(value) {
  return String(value ?? "").replace(/[&<>"']/g, (ch) => ENTITIES[ch] ?? ch);
}

const STYLE = `
  body { font: 16px/1.45 system-ui, sans-serif; margin: 0; background: #f4f5f7; color: #1d2430; }
  header { padding: 14px 24px; color: #fff; background: var(--accent); display: flex; gap: 12px; align-items: center; }
  header b { font-size: 18px; }
  header span { opacity: .85; font-size: 14px; }
  main { max-width: 920px; margin: 24px auto; padding: 0 16px; }
  .card { background: #fff; border-radius: 10px; padding: 20px 24px; box-shadow: 0 1px 3px rgba(0,0,0,.08); margin-bottom: 18px; }
  h1 { font-size: 22px; margin: 0 0 12px; }
  h2 { font-size: 17px; margin: 0 0 10px; }
  table { border-collapse: collapse; width: 100%; }
  th, td { text-align: left; padding: 7px 8px; border-bottom: 1px solid #e6e8ec; vertical-align: middle; }
  th { font-size: 13px; text-transform: uppercase; letter-spacing: .03em; color: #5b6472; }
  code { background: #eef0f3; border-radius: 4px; padding: 1px 5px; font-size: 14px; word-break: break-all; }
  button { font: inherit; border: 0; border-radius: 6px; padding: 7px 14px; cursor: pointer; background: var(--accent); color: #fff; }
  button.secondary { background: #dfe3e8; color: #1d2430; }
  form.inline { display: inline; margin: 0 4px 0 0; }
  .muted { color: #5b6472; font-size: 14px; }
  .ok { color: #0a7a36; font-weight: 600; }
  .fail { color: #b42318; font-weight: 600; }
  .pill { display: inline-block; border-radius: 999px; padding: 1px 10px; font-size: 13px; background: rgba(255,255,255,.25); }
  fieldset { border: 1px solid #e6e8ec; border-radius: 8px; margin: 14px 0; }
  label { margin-right: 14px; }
`;

/**
 * @param {{ title: string, brand: string, tag?: string, accent: string, body: string, script?: string }} page
 */
export function layout({ title, brand, tag, accent, body, script }) {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title><style>:root { --accent: ${accent}; }${STYLE}</style></head>
<body><header><b>${escapeHtml(brand)}</b>${tag ? `<span class="pill">${escapeHtml(tag)}</span>` : ""}</header>
<main>${body}</main>${script ? `<script>${script}</script>` : ""}</body></html>`;
}

/**
 * Hidden inputs for a form; used for the consent decision and form_post.
 * @param {Iterable<[string, string]>} fields
 */
export function hiddenInputs(fields) {
  let html = "";
  for (const [name, value] of fields)
    html += `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`;
  return html;
}
