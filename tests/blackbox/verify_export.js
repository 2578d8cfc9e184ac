// SPDX-License-Identifier: Apache-2.0
// Verifies `lcctl export --signed` output with Node.js's own Ed25519 (OpenSSL):
// an implementation independent of libsodium and of lcf. Ids are checked by the
// calling test with coreutils' b2sum.
'use strict';
const crypto = require('crypto');
const fs = require('fs');

// Ed25519 public keys in SPKI DER: a fixed 12-byte prefix, then the 32 bytes.
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

const lines = fs.readFileSync(process.argv[2], 'utf8').split('\n').filter(Boolean);
let bad = 0;
for (const [i, line] of lines.entries()) {
  const r = JSON.parse(line);
  const content = Buffer.from(r.content, 'base64');
  const sig = Buffer.from(r.signature, 'base64');
  const key = crypto.createPublicKey({
    key: Buffer.concat([SPKI_PREFIX, Buffer.from(r.author, 'hex')]),
    format: 'der', type: 'spki' });
  // The content must start with field 1 (author, 32 bytes): 0x0a 0x20.
  const authorOk = content[0] === 0x0a && content[1] === 0x20 &&
    content.subarray(2, 34).toString('hex') === r.author;
  if (!crypto.verify(null, content, key, sig) || !authorOk) {
    console.log(`line ${i + 1}: record ${r.id} failed (signature or author)`);
    bad++;
  }
}
console.log(`verified ${lines.length - bad} of ${lines.length} records`);
// An empty export proves nothing: it is a failure here.
process.exit(bad || lines.length === 0 ? 1 : 0);
