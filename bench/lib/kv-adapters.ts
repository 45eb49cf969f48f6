import type { RunningWorker } from "./workerd";

// Records are written through src/store's own Store class (keys hashed,
// values versioned, TTL set) over one of these, so the benchmark seeds KV
// exactly as the worker would and never restates the schema.

type TextKv = Pick<KVNamespace, "get" | "put" | "delete">;

/** The bench workerd's KV service, over the same HTTP protocol workerd's binding uses. */
export function kvOverHttp(worker: Pick<RunningWorker, "kvUrl">): KVNamespace {
  const target = (key: string, ttl?: number) => {
    const url = new URL(`/${encodeURIComponent(key)}`, worker.kvUrl);
    url.searchParams.set("urlencoded", "true");
    if (ttl !== undefined) url.searchParams.set("expiration_ttl", String(ttl));
    return url;
  };
  const kv: TextKv = {
    async get(key: string) {
      const response = await fetch(target(key));
      return response.status === 404 ? null : await response.text();
    },
    async put(key: string, value: unknown, options?: KVNamespacePutOptions) {
      const response = await fetch(target(key, options?.expirationTtl), { method: "PUT", body: String(value) });
      if (!response.ok) throw new Error(`KV put failed: ${response.status}`);
    },
    async delete(key: string) {
      await fetch(target(key), { method: "DELETE" });
    },
  } as TextKv;
  return kv as KVNamespace;
}

/**
 * A Map behind the KV interface, for the in-process measurement in Node
 * (which has no KV): it makes KV free, so those figures are the worker's own
 * CPU time only.
 */
export function memoryKv(): { kv: KVNamespace; map: Map<string, string> } {
  const map = new Map<string, string>();
  const kv: TextKv = {
    async get(key: string) {
      return map.get(key) ?? null;
    },
    async put(key: string, value: unknown) {
      map.set(key, String(value));
    },
    async delete(key: string) {
      map.delete(key);
    },
  } as TextKv;
  return { kv: kv as KVNamespace, map };
}
