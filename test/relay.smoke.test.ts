import { describe, expect, it } from "vitest";
import { call } from "./helpers/worker";

describe("smoke", () => {
  it("relays", async () => {
    const res = await call("https://connect.example.com/oauth2/mycallback?code=a&state=b");
    expect(res.status).toBe(307);
    expect(res.headers.get("location")).toBe("https://peaka.studio/oauth2/callback?code=a&state=b");
  });
});
