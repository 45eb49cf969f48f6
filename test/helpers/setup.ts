import { afterAll, afterEach, beforeAll } from "vitest";
import { peaka } from "./peaka";

beforeAll(() => peaka.listen({ onUnhandledRequest: "error" }));
afterEach(() => peaka.resetHandlers());
afterAll(() => peaka.close());
