// Calls one method of the real particle-api-js against a SIM Console and prints the outcome as JSON.
// Usage: node call.js <11|12> <base URL> <token> <method> '<JSON options>'
// Prints {"ok": true, "statusCode": N, "body": ...} or {"ok": false, "statusCode": N, "body": ..., "error": "..."}.
'use strict';

const [version, baseUrl, token, method, options = '{}'] = process.argv.slice(2);
const Particle = require(version === '11' ? 'particle11' : 'particle12');
const particle = new Particle({ baseUrl, auth: token });

if (typeof particle[method] !== 'function') {
	console.log(JSON.stringify({ ok: false, statusCode: null, body: null, error: `particle-api-js ${version} has no ${method}` }));
	process.exit(0);
}

particle[method](JSON.parse(options)).then(
	(response) => console.log(JSON.stringify({ ok: true, statusCode: response.statusCode, body: response.body })),
	(error) => console.log(JSON.stringify({
		ok: false, statusCode: error.statusCode ?? null, body: error.body ?? null, error: String(error.message || error),
	})),
);
