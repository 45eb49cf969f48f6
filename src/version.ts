/** Kept equal to package.json's version by test/version.test.ts. */
export const VERSION = "0.1.0";

/** The product's name, as the popup page's message says where it comes from (`source`). */
export const PRODUCT = "peaka-connect-edge";
