// SPDX-License-Identifier: Apache-2.0
// The conformance vectors of docs/vectors/ checked by a second implementation: the npm noise-protocol package for the handshake, and digests, IBLT tables and canonical records written here from docs/PROTOCOL.md alone.
//
// Usage: node vectors.js PATH/TO/docs/vectors
// Exits 0 when every check passed, 1 otherwise, with the reasons on stderr.
'use strict'

const fs = require('fs')
const path = require('path')
const sodium = require('sodium-native')
// noise-protocol draws ephemeral keys itself: its handshake is built here on
// a DH whose key generation hands out the vectors' fixed ephemerals in turn.
const fixedEphemerals = []
const baseDh = require('noise-protocol/dh')()
const dh = Object.assign({}, baseDh, {
  generateKeypair: (pk, sk) => {
    const e = fixedEphemerals.shift()
    pk.set(e.publicKey)
    sk.set(e.secretKey)
  }
})
const hash = require('noise-protocol/hash')({ dh })
const cipher = require('noise-protocol/cipher')()
const cipherState = require('noise-protocol/cipher-state')({ cipher })
const symmetricState = require('noise-protocol/symmetric-state')({ hash, cipherState })
const noise = require('noise-protocol/handshake-state')({ dh, hash, cipher, cipherState, symmetricState })

const dir = process.argv[2]
const failures = []
let checks = 0
function check (ok, what, got, want) {
  checks++
  if (ok) return
  failures.push(got === undefined ? what : `${what}\n  got:  ${got}\n  want: ${want}`)
}
const hex = (b) => Buffer.from(b).toString('hex')
const unhex = (s) => Buffer.from(s, 'hex')
const load = (name) => JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8'))

// ---- noise.json (PROTOCOL 3.1) ----

// A party's keys from its Ed25519 seed, as 3.1 says, and its fixed ephemeral.
function party (k) {
  const edPk = Buffer.alloc(32)
  const edSk = Buffer.alloc(64)
  sodium.crypto_sign_seed_keypair(edPk, edSk, unhex(k.ed25519_seed))
  check(hex(edPk) === k.ed25519_public, 'Ed25519 public key from the seed', hex(edPk), k.ed25519_public)
  const s = { publicKey: Buffer.alloc(32), secretKey: Buffer.alloc(32) }
  sodium.crypto_sign_ed25519_pk_to_curve25519(s.publicKey, edPk)
  sodium.crypto_sign_ed25519_sk_to_curve25519(s.secretKey, edSk)
  check(hex(s.secretKey) === k.static_private, 'static private key', hex(s.secretKey), k.static_private)
  check(hex(s.publicKey) === k.static_public, 'static public key', hex(s.publicKey), k.static_public)
  const e = { publicKey: Buffer.alloc(32), secretKey: unhex(k.ephemeral_private) }
  sodium.crypto_scalarmult_base(e.publicKey, e.secretKey)
  check(hex(e.publicKey) === k.ephemeral_public, 'ephemeral public key', hex(e.publicKey), k.ephemeral_public)
  return { s, e }
}

function checkNoise () {
  const v = load('noise.json')
  const prologue = unhex(v.prologue)
  check(prologue.toString() === 'lcf-peer/1', 'the prologue is lcf-peer/1')
  const ik = party(v.initiator)
  const rk = party(v.responder)
  const ih = noise.initialize('XX', true, prologue, ik.s)
  const rh = noise.initialize('XX', false, prologue, rk.s)
  // Message 1 sends the initiator's e, message 2 the responder's.
  fixedEphemerals.push(ik.e, rk.e)
  const buf = Buffer.alloc(65535)
  const out = Buffer.alloc(65535)
  let isplit = null
  let rsplit = null
  v.messages.forEach((m, i) => {
    const [w, r] = i % 2 === 0 ? [ih, rh] : [rh, ih]
    const ws = noise.writeMessage(w, unhex(m.payload), buf)
    const msg = Buffer.from(buf.subarray(0, noise.writeMessage.bytes))
    check(hex(msg) === m.noise, `handshake message ${m.message}`, hex(msg), m.noise)
    const frame = Buffer.concat([Buffer.from([msg.length >> 8, msg.length & 255]), msg])
    check(hex(frame) === m.frame, `handshake message ${m.message}: its frame`)
    if (i === 2) {
      const h = Buffer.alloc(64)
      symmetricState.getHandshakeHash(w.symmetricState, h)
      check(hex(h) === v.handshake_hash, 'the handshake hash', hex(h), v.handshake_hash)
    }
    const rs = noise.readMessage(r, unhex(m.noise), out)
    check(hex(out.subarray(0, noise.readMessage.bytes)) === m.payload,
      `handshake message ${m.message}: its payload read back`)
    if (ws) isplit = i % 2 === 0 ? ws : rs
    if (rs) rsplit = i % 2 === 0 ? rs : ws
  })
  check(isplit != null && rsplit != null, 'the handshake ends after message 3 with a split')
  if (isplit == null || rsplit == null) return
  check(hex(isplit.tx.subarray(0, 32)) === v.initiator_to_responder_key, 'initiator-to-responder key',
    hex(isplit.tx.subarray(0, 32)), v.initiator_to_responder_key)
  check(hex(rsplit.tx.subarray(0, 32)) === v.responder_to_initiator_key, 'responder-to-initiator key',
    hex(rsplit.tx.subarray(0, 32)), v.responder_to_initiator_key)
  v.transport.forEach((t, i) => {
    const tx = i === 0 ? isplit.tx : rsplit.tx
    const plain = unhex(t.plaintext)
    check(plain[0] === 0 && hex(plain.subarray(1)) === t.peermsg, `transport ${i}: flags 0 and the PeerMsg`)
    cipherState.encryptWithAd(tx, out, Buffer.alloc(0), plain)
    const ct = Buffer.from(out.subarray(0, cipherState.encryptWithAd.bytesWritten))
    const frame = Buffer.concat([Buffer.from([ct.length >> 8, ct.length & 255]), ct])
    check(hex(frame) === t.frame, `transport message ${i}`, hex(frame), t.frame)
  })
}

// ---- records.json (PROTOCOL 1.1) ----

function varint (n) {
  const b = []
  do {
    let x = n & 127
    n = Math.floor(n / 128)
    if (n > 0) x |= 128
    b.push(x)
  } while (n > 0)
  return Buffer.from(b)
}

function blake2b256 (buf) {
  const out = Buffer.alloc(32)
  sodium.crypto_generichash(out, buf)
  return out
}

function checkRecords () {
  const v = load('records.json')
  const ids = []
  for (const r of v.records) {
    if (r.content == null) continue
    const content = unhex(r.content)
    const sig = unhex(r.signature)
    const id = blake2b256(content)
    check(hex(id) === r.id, `${r.name}: the id is BLAKE2b-256 of the content`)
    const canonical = Buffer.concat([Buffer.from([0x0a]), varint(content.length), content,
      Buffer.from([0x12, 0x40]), sig])
    const isCanonical = canonical.equals(unhex(r.record))
    const verifies = sig.length === 64 &&
      sodium.crypto_sign_verify_detached(sig, content, unhex(r.author))
    if (r.verdict === 'accept') {
      check(isCanonical, `${r.name}: in canonical form`)
      check(verifies, `${r.name}: its signature verifies`)
      ids.push(id)
    } else if (r.reason === 'bad signature') {
      check(!verifies, `${r.name}: its signature is refused`)
    } else if (r.reason === 'not in canonical form') {
      check(verifies && !isCanonical, `${r.name}: a good signature, not in canonical form`)
    }
  }
  const d = digest(ids)
  check(d.count === v.summaries.whole_set.count && d.digest === v.summaries.whole_set.digest,
    'the valid records\' set digest', JSON.stringify(d), JSON.stringify(v.summaries.whole_set))
}

// ---- sets.json (PROTOCOL 4.1) ----

const MOD256 = 1n << 256n
const leToBig = (b) => b.reduceRight((acc, x) => (acc << 8n) | BigInt(x), 0n)
function bigToLe (n, len) {
  const b = Buffer.alloc(len)
  for (let i = 0; i < len; i++) { b[i] = Number(n & 255n); n >>= 8n }
  return b
}

function digest (ids) {
  let sum = 0n
  for (const id of ids) sum = (sum + leToBig(id)) % MOD256
  const count = BigInt(ids.length)
  const d = blake2b256(Buffer.concat([bigToLe(sum, 32), bigToLe(count, 8)]))
  return { count: ids.length, sum: hex(bigToLe(sum, 32)), digest: hex(d.subarray(0, 16)) }
}

function siphash (key, msg) {
  const out = Buffer.alloc(8)
  sodium.crypto_shorthash(out, msg, key)
  return leToBig(out)
}
const checkOf = (prefix) => siphash(Buffer.alloc(16), prefix) & 0xffffffffn
function positions (cls, prefix) {
  const m = BigInt(64 << cls)
  const k = Buffer.alloc(16)
  k[0] = cls + 1
  const h = siphash(k, prefix)
  return [0, 1, 2].map((i) => Number(BigInt(i) * m + ((h >> BigInt(21 * i)) % m)))
}

function table (cells, ids) {
  const count = new Int32Array(cells)
  const keysum = new Array(cells).fill(0n)
  const hashsum = new Array(cells).fill(0n)
  const cls = Math.log2(cells / 192)
  for (const id of ids) {
    const prefix = id.subarray(0, 8)
    const key = leToBig(prefix)
    for (const p of positions(cls, prefix)) {
      count[p] += 1
      keysum[p] ^= key
      hashsum[p] ^= checkOf(prefix)
    }
  }
  return { count, keysum, hashsum }
}

function serialize (t) {
  const b = Buffer.alloc(t.count.length * 16)
  for (let i = 0; i < t.count.length; i++) {
    b.writeInt32LE(t.count[i], 16 * i)
    b.writeBigUInt64LE(t.keysum[i], 16 * i + 4)
    b.writeUInt32LE(Number(t.hashsum[i]), 16 * i + 12)
  }
  return b
}

function checkSets () {
  const v = load('sets.json')
  const a = v.ids_a.map(unhex)
  const b = v.ids_b.map(unhex)
  for (const [name, ids, want] of [['A', a, v.digest_a], ['B', b, v.digest_b], ['the empty set', [], v.digest_empty]]) {
    const d = digest(ids)
    check(d.count === want.count && d.sum === want.sum && d.digest === want.digest,
      `digest of ${name}`, JSON.stringify(d), JSON.stringify(want))
  }
  const fk = v.first_id_key
  check(hex(a[0].subarray(0, 8)) === fk.prefix, 'the first id\'s prefix')
  check(Number(checkOf(a[0].subarray(0, 8))) === fk.check, 'check(key)', checkOf(a[0].subarray(0, 8)), fk.check)
  fk.cells_by_class.forEach((want, cls) => {
    const got = positions(cls, a[0].subarray(0, 8))
    check(JSON.stringify(got) === JSON.stringify(want), `cells of class ${cls}`, got, want)
  })
  const ta = table(v.cells, a)
  const tb = table(v.cells, b)
  check(hex(serialize(ta)) === v.table_a, 'table of A')
  check(hex(serialize(tb)) === v.table_b, 'table of B')
  const diff = {
    count: ta.count.map((c, i) => c - tb.count[i]),
    keysum: ta.keysum.map((k, i) => k ^ tb.keysum[i]),
    hashsum: ta.hashsum.map((h, i) => h ^ tb.hashsum[i])
  }
  check(hex(serialize(diff)) === v.table_a_minus_b, 'table of A less B')
  // Peeling, as 4.1 describes it.
  const onlyA = []
  const onlyB = []
  const m = v.cells / 3
  const cls = Math.log2(v.cells / 192)
  let progress = true
  while (progress) {
    progress = false
    for (let i = 0; i < v.cells; i++) {
      const c = diff.count[i]
      if (c !== 1 && c !== -1) continue
      const prefix = bigToLe(diff.keysum[i], 8)
      if (diff.hashsum[i] !== checkOf(prefix)) continue
      const pos = positions(cls, prefix)
      if (!pos.includes(i) || Math.floor(i / m) !== pos.indexOf(i)) continue;
      (c === 1 ? onlyA : onlyB).push(hex(prefix))
      const key = diff.keysum[i]
      const chk = diff.hashsum[i]
      for (const p of pos) {
        diff.count[p] -= c
        diff.keysum[p] ^= key
        diff.hashsum[p] ^= chk
      }
      progress = true
    }
  }
  check(diff.count.every((c) => c === 0) && diff.keysum.every((k) => k === 0n), 'the difference peels completely')
  check(JSON.stringify(onlyA.sort()) === JSON.stringify(v.only_a), 'only in A', onlyA, v.only_a)
  check(JSON.stringify(onlyB.sort()) === JSON.stringify(v.only_b), 'only in B', onlyB, v.only_b)
}

for (const [name, fn] of [['noise', checkNoise], ['records', checkRecords], ['sets', checkSets]]) {
  try {
    fn()
  } catch (err) {
    failures.push(`${name}: ${err.stack}`)
  }
}
for (const f of failures) process.stderr.write(`${f}\n`)
process.stderr.write(`${checks} checks, ${failures.length} failed\n`)
process.exit(failures.length === 0 ? 0 : 1)
