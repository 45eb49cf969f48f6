// The published OpenAPI document (public/api/v1/openapi.json, written by
// `npm run openapi`) checked with an independent OpenAPI 3.1 validator, in
// plain Node: the validator's JSON Schema engine does not run in workerd.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { describe, it } from "node:test";
import { Validator } from "@seriousme/openapi-schema-validator";

const DOCUMENT = JSON.parse(await readFile(new URL("../public/api/v1/openapi.json", import.meta.url), "utf8"));

async function validate(document) {
  const validator = new Validator();
  return validator.validate(structuredClone(document));
}

describe("the OpenAPI document", () => {
  it("is valid OpenAPI 3.1", async () => {
    const result = await validate(DOCUMENT);
    assert.deepEqual(result.errors, undefined);
    assert.equal(result.valid, true);
    assert.match(DOCUMENT.openapi, /^3\.1\./);
  });

  it("the validator catches a broken document (the check above can fail)", async () => {
    const broken = structuredClone(DOCUMENT);
    delete broken.paths["/api/v1/connections"].post.responses["201"].description;
    const result = await validate(broken);
    assert.equal(result.valid, false);
  });

  it("every $ref resolves inside the document", () => {
    const refs = JSON.stringify(DOCUMENT).match(/"\$ref":"[^"]*"/g) ?? [];
    assert.ok(refs.length > 5);
    for (const ref of refs) {
      const path = ref.slice(8, -1);
      assert.match(path, /^#\//);
      let node = DOCUMENT;
      for (const part of path.slice(2).split("/")) node = node?.[part];
      assert.ok(node, `${path} resolves`);
    }
  });

  it("the API is bearer-guarded, the document itself is public", () => {
    assert.deepEqual(DOCUMENT.security, [{ bearer: [] }]);
    assert.deepEqual(DOCUMENT.components.securitySchemes.bearer, {
      ...DOCUMENT.components.securitySchemes.bearer,
      type: "http",
      scheme: "bearer",
    });
    assert.deepEqual(DOCUMENT.paths["/api/v1/openapi.json"].get.security, []);
    assert.equal(DOCUMENT.paths["/api/v1/connections"].post.security, undefined);
  });
});
