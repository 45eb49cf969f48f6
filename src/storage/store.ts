import type * as z from "zod/mini";
import { type Clock, systemClock } from "../clock";
import { StorageError } from "./errors";
import {
  beginKey,
  connectionKey,
  nonceKey,
  outcomeKey,
  sealedKey,
  sessionKey,
  stateKey,
  stateKeyFromHash,
} from "./keys";
import {
  BeginRecord,
  ConnectionRecord,
  NonceRecord,
  OutcomeRecord,
  SealedRecord,
  SessionRecord,
  StateRecord,
} from "./records";

type WithoutMeta<T> = Omit<T, "v" | "expiresAt">;

/** KV refuses an expirationTtl below 60 seconds. */
const MIN_KV_TTL_SECONDS = 60;

/**
 * KV access for the three record kinds. Every write carries a TTL; every read
 * is schema-checked and expiry-checked, and a malformed or expired value reads
 * as missing. A KV exception becomes a StorageError, which the core maps to
 * `storage_unavailable`, so callers end on a defined outcome instead of a 500
 * with a stack. One Store serves one request.
 */
export class Store {
  constructor(
    private readonly kv: KVNamespace,
    private readonly ttlSeconds: number,
    private readonly clock: Clock = systemClock,
    /** SESSION_TTL_SECONDS; defaults to the flow records' TTL (tests). */
    private readonly sessionTtlSeconds = ttlSeconds,
  ) {}

  getSession(sessionId: string): Promise<SessionRecord | undefined> {
    return this.read(sessionKey(sessionId), SessionRecord);
  }

  /** Each write keeps the session for SESSION_TTL_SECONDS from now. Resolves to its `expiresAt`. */
  putSession(sessionId: string, record: WithoutMeta<SessionRecord>): Promise<number> {
    return this.write(sessionKey(sessionId), record, this.sessionTtlSeconds);
  }

  getSealed(sessionId: string): Promise<SealedRecord | undefined> {
    return this.read(sealedKey(sessionId), SealedRecord);
  }

  /** Kept until `untilMs` (the session's deadline), at least KV's minimum of 60 s. */
  putSealed(sessionId: string, record: WithoutMeta<SealedRecord>, untilMs: number): Promise<number> {
    const ttl = Math.max(MIN_KV_TTL_SECONDS, Math.ceil((untilMs - this.clock.now()) / 1000));
    return this.write(sealedKey(sessionId), record, ttl);
  }

  deleteSealed(sessionId: string): Promise<void> {
    return this.remove(sealedKey(sessionId));
  }

  getConnection(connectionId: string): Promise<ConnectionRecord | undefined> {
    return this.read(connectionKey(connectionId), ConnectionRecord);
  }

  /** Resolves to the record's `expiresAt` (epoch ms). */
  putConnection(connectionId: string, record: WithoutMeta<ConnectionRecord>): Promise<number> {
    return this.write(connectionKey(connectionId), record);
  }

  deleteConnection(connectionId: string): Promise<void> {
    return this.remove(connectionKey(connectionId));
  }

  async getState(state: string): Promise<StateRecord | undefined> {
    return this.read(await stateKey(state), StateRecord);
  }

  async putState(state: string, record: WithoutMeta<StateRecord>): Promise<number> {
    return this.write(await stateKey(state), record);
  }

  getStateByHash(hash: string): Promise<StateRecord | undefined> {
    return this.read(stateKeyFromHash(hash), StateRecord);
  }

  putStateByHash(hash: string, record: WithoutMeta<StateRecord>): Promise<number> {
    return this.write(stateKeyFromHash(hash), record);
  }

  async getBegin(token: string): Promise<BeginRecord | undefined> {
    return this.read(await beginKey(token), BeginRecord);
  }

  async putBegin(token: string, record: WithoutMeta<BeginRecord>): Promise<number> {
    return this.write(await beginKey(token), record);
  }

  async deleteBegin(token: string): Promise<void> {
    return this.remove(await beginKey(token));
  }

  async getOutcome(code: string): Promise<OutcomeRecord | undefined> {
    return this.read(await outcomeKey(code), OutcomeRecord);
  }

  async putOutcome(code: string, record: WithoutMeta<OutcomeRecord>): Promise<number> {
    return this.write(await outcomeKey(code), record);
  }

  async getNonce(nonce: string): Promise<NonceRecord | undefined> {
    return this.read(await nonceKey(nonce), NonceRecord);
  }

  /** Kept for `ttlSeconds` (the rest of the link's life, at least KV's minimum of 60), not RECORD_TTL_SECONDS. */
  async putNonce(nonce: string, record: WithoutMeta<NonceRecord>, ttlSeconds: number): Promise<number> {
    return this.write(await nonceKey(nonce), record, Math.max(MIN_KV_TTL_SECONDS, Math.ceil(ttlSeconds)));
  }

  private async read<T extends { expiresAt: number }>(key: string, schema: z.ZodMiniType<T>): Promise<T | undefined> {
    let text: string | null;
    try {
      text = await this.kv.get(key);
    } catch (cause) {
      throw new StorageError("get", cause);
    }
    if (text === null) return undefined;
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return undefined;
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success || parsed.data.expiresAt <= this.clock.now()) return undefined;
    return parsed.data;
  }

  private async write(key: string, record: object, ttlSeconds = this.ttlSeconds): Promise<number> {
    const expiresAt = this.clock.now() + ttlSeconds * 1000;
    const value = JSON.stringify({ v: 1, ...record, expiresAt });
    try {
      await this.kv.put(key, value, { expirationTtl: ttlSeconds });
    } catch (cause) {
      throw new StorageError("put", cause);
    }
    return expiresAt;
  }

  private async remove(key: string): Promise<void> {
    try {
      await this.kv.delete(key);
    } catch (cause) {
      throw new StorageError("delete", cause);
    }
  }
}
