// The popup page's script (src/edge/popup-page.ts), served from static assets: its data comes from the JSON element #d.
var d=JSON.parse(document.getElementById("d").textContent),o=window.opener;if(o&&!o.closed){o.postMessage(d.m,d.t);close()}else location.replace(d.l)
