export declare function signResult(
  claims: Record<string, unknown>,
  key: string,
  options?: { now?: number },
): Promise<string>;
