// Runs a scenario of authing-node-sdk client calls (ManagementClient, or AuthenticationClient when the
// scenario says "sdkClass": "AuthenticationClient") and prints every result as JSON.
//
// stdin: {"clients": {"<name>": {"host", "accessKeyId", "accessKeySecret", "lang"?}},
//         "calls": [{"client": "<name>", "method": "getUser", "args": {...}}, ...]}
// stdout: [{"ok": true, "result": <the SDK's return value>} | {"ok": false, "error": {...}}, ...]
//
// A string "{{N.path}}" in an argument is replaced by that path of call N's result (the raw value when
// the template is the whole string, else interpolated), so a scenario can use ids it just created.
// The SDK is resolved from NODE_PATH (the test cache), never from the repository.
"use strict";

const sdk = require("authing-node-sdk");

const TEMPLATE = /\{\{(\d+)((?:\.[A-Za-z0-9_]+)*)\}\}/g;

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
    if (whole) return lookup(results, whole[1], whole[2]);
    return value.replace(TEMPLATE, (_, index, path) => String(lookup(results, index, path)));
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

  // The constructor writes the host into axios' global defaults and each client's axios instance
  // snapshots it, so clients are built one after the other, each with its own host.
  const SdkClient = sdk[input.sdkClass || "ManagementClient"];
  const clients = {};
  for (const [name, options] of Object.entries(input.clients)) {
    clients[name] = new SdkClient({ ...options });
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
