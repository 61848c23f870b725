// Runs a scenario of authing-node-sdk AuthenticationClient calls and prints every result as JSON.
//
// stdin: {"clients": {"<name>": <AuthenticationClientInitOptions>},
//         "calls": [{"client": "<name>", "method": "signInByEmailPassword", "args": {...}}, ...]}
// stdout: [{"ok": true, "result": ...} | {"ok": false, "error": {...}}, ...]
//
// A whole-string argument "{{N.path}}" is replaced by that path of call N's result, so a scenario can
// pass on the token it just got (e.g. setAccessToken with "{{0.data.access_token}}").
// The SDK is resolved from NODE_PATH (the test cache), never from the repository.
"use strict";

const { AuthenticationClient } = require("authing-node-sdk");

function lookup(results, index, path) {
  let value = results[Number(index)];
  if (!value || !value.ok) throw new Error(`call ${index} has no result to reference`);
  value = value.result;
  for (const part of path.split(".").filter(Boolean)) {
    if (value === undefined || value === null) break;
    value = value[part];
  }
  if (value === undefined) throw new Error(`{{${index}${path}}} is undefined`);
  return value;
}

function resolve(value, results) {
  if (typeof value === "string") {
    const whole = /^\{\{(\d+)((?:\.[A-Za-z0-9_]+)*)\}\}$/.exec(value);
    return whole ? lookup(results, whole[1], whole[2]) : value;
  }
  if (Array.isArray(value)) return value.map((item) => resolve(item, results));
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolve(v, results)]));
  }
  return value;
}

function describe(error) {
  const response = error && error.response;
  return {
    name: error && error.name,
    message: String((error && error.message) || error),
    httpStatus: response ? response.status : null,
    data: response ? response.data : null,
  };
}

async function main() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  const input = JSON.parse(Buffer.concat(chunks).toString("utf8"));
  const clients = {};
  for (const [name, options] of Object.entries(input.clients)) {
    clients[name] = new AuthenticationClient({ ...options });
  }
  const results = [];
  for (const call of input.calls) {
    try {
      const client = clients[call.client || "main"];
      if (typeof client[call.method] !== "function") throw new Error(`no SDK method ${call.method}`);
      const args = resolve(call.args === undefined ? {} : call.args, results);
      const result = await client[call.method](args);
      results.push({ ok: true, result: result === undefined ? null : result });
    } catch (error) {
      results.push({ ok: false, error: describe(error) });
    }
  }
  process.stdout.write(JSON.stringify(results), () => process.exit(0));
}

main().catch((error) => {
  process.stderr.write(String((error && error.stack) || error) + "\n");
  process.exit(2);
});
