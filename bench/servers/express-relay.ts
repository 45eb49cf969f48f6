/**
 * The relay as Peaka's OAuth2 guide shows it for Express (option 2.b.2): the
 * query string after the first `?` appended to Peaka's callback, sent with
 * `res.redirect(307, …)`. Run as its own process so it gets a core of its own,
 * like the workerd and nginx servers.
 */
import { createServer } from "node:http";
import express from "express";
import { announce, arg } from "./listen";

const callback = arg("callback", "https://peaka.studio/oauth2/callback");
const path = arg("path", "/oauth2/mycallback");
const app = express();

app.get(path, (req, res) => {
  const query = req.url.indexOf("?");
  res.redirect(307, query < 0 ? callback : callback + req.url.slice(query));
});

announce(createServer(app), Number(arg("port", "0")));
