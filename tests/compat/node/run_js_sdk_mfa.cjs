// Runs authing-js-sdk MfaAuthenticationClient calls (authenticationClient.mfa.<method>), or with
// "on": "client" AuthenticationClient calls, in order on one client, and prints every result as JSON.
//
// stdin: {"options": <AuthenticationClientOptions>, "calls": [{"method": "verifyTotpMfa", "args": {...}},
//         {"on": "client", "method": "sendSmsCode", "args": ["13800138000", "+86", "mfa-verify"]}, ...]}
// stdout: [{"ok": true, "result": <what the SDK returned>} | {"ok": false, "error": <the SDK's thrown message>}, ...]
//
// The SDK is resolved from NODE_PATH (the test cache), never from the repository.
"use strict";

const { AuthenticationClient } = require("authing-js-sdk");

async function main() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  const { options, calls } = JSON.parse(Buffer.concat(chunks).toString("utf8"));
  const client = new AuthenticationClient({ ...options, onError: () => {} });
  const results = [];
  for (const call of calls) {
    try {
      // "on": "client" calls the AuthenticationClient itself (setToken, sendSmsCode); default: client.mfa.
      // An array of args is spread (positional parameters); anything else is the one options argument.
      const target = call.on === "client" ? client : client.mfa;
      const args = Array.isArray(call.args) ? call.args : [call.args];
      results.push({ ok: true, result: (await target[call.method](...args)) ?? null });
    } catch (error) {
      let parsed = String(error && error.message);
      try { parsed = JSON.parse(parsed); } catch (_) { /* not the SDK's JSON message */ }
      results.push({ ok: false, error: parsed });
    }
  }
  process.stdout.write(JSON.stringify(results));
}

main().catch((error) => { process.stderr.write(String(error && error.stack)); process.exit(1); });
