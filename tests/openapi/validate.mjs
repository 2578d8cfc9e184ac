// SPDX-License-Identifier: Apache-2.0
// Validates an OpenAPI document (a file, e.g. what lcnode serves) with @readme/openapi-parser.
import { readFileSync } from 'node:fs';
import OpenAPIParser from '@readme/openapi-parser';

const file = process.argv[2];
if (!file) {
	console.error('usage: node validate.mjs FILE.json');
	process.exit(2);
}
let doc;
try {
	doc = JSON.parse(readFileSync(file, 'utf8'));
} catch (e) {
	console.error(`${file}: not JSON: ${e.message}`);
	process.exit(1);
}
try {
	// validate() dereferences the document it is given: give it a copy.
	await OpenAPIParser.validate(structuredClone(doc));
} catch (e) {
	console.error(`${file}: ${e.message}`);
	process.exit(1);
}
console.log(`${file}: a valid OpenAPI ${doc.openapi} document`);
