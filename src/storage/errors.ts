/**
 * KV failures, apart from the HTTP failures: storage says what broke, and
 * core/errors.ts alone decides which wire code (`storage_unavailable`) the
 * user and the log see. The message never quotes a key: keys are hashes of
 * secrets or connection ids, and the class name is what gets logged.
 */
export type StorageOperation = "get" | "put" | "delete";

export class StorageError extends Error {
  override readonly name = "StorageError";
  // `declare`: the constructor sets it; a field declaration would only add bytes to the bundle.
  declare readonly operation: StorageOperation;
  constructor(operation: StorageOperation, cause: unknown) {
    super(`KV ${operation} failed`, { cause });
    this.operation = operation;
  }
}
