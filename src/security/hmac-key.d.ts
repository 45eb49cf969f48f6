// Hand-written: lets security/seal.ts (TypeScript) share hmac-key.js's
// base64url instead of bundling a second copy. Keep in step with hmac-key.js.
export declare const encoder: TextEncoder;
export declare function hmacKey(key: string): ReturnType<typeof crypto.subtle.importKey>;
export declare function assertKey(key: unknown, minLength: number, what: string): void;
export declare function fromBase64url(text: string): Uint8Array<ArrayBuffer>;
export declare function base64url(bytes: Uint8Array): string;
