import type { Env } from "../config/env";
import type { Config } from "../config/types";
import type { RequestLog } from "./log";

export interface AppVariables {
  requestId: string;
  log: RequestLog;
  config: Config;
}

/** Hono's environment type for this app: bindings plus per-request variables. */
export interface AppEnv {
  Bindings: Env;
  Variables: AppVariables;
}
