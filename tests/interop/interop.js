// SPDX-License-Identifier: Apache-2.0
// Interop test: the npm noise-protocol package talks XX over TCP to noise_peer (lcf's C module) and compares notes.
//
// Usage: node interop.js PATH/TO/noise_peer initiator|responder
// The second argument is the C side's role; this side takes the other one.
// The exchange is described at the top of noise_peer.c. Exits 0 when every
// check passed, 1 otherwise, with the reasons on stderr.
'use strict'

const net = require('net')
const { spawn } = require('child_process')
const sodium = require('sodium-native')
const noise = require('noise-protocol')
const cipherState = require('noise-protocol/cipher-state')({
  cipher: require('noise-protocol/cipher')()
})

const PROLOGUE = Buffer.from('lcf-interop/1')
const IMPL = 'JS'
const PEER_IMPL = 'C'
const MAX_MSG = 65535
const TAG = 16
const LENGTHS = [0, 1, 15, 16, 17, 1000, 4096, MAX_MSG - TAG]
const DEADLINE_MS = 30000

const failures = []
function check (ok, what, got, want) {
  if (ok) return
  failures.push(got === undefined ? what : `${what}\n  got:  ${got}\n  want: ${want}`)
}

function digest (buf) {
  const out = Buffer.alloc(32)
  sodium.crypto_generichash(out, buf)
  return out.toString('hex')
}

// Reads 2-byte big-endian length-prefixed frames from a socket.
function framer (sock) {
  let pending = Buffer.alloc(0)
  const frames = []
  const waiters = []
  let error = null
  function pump () {
    while (pending.length >= 2) {
      const len = pending.readUInt16BE(0)
      if (pending.length < 2 + len) break
      frames.push(pending.subarray(2, 2 + len))
      pending = pending.subarray(2 + len)
    }
    while (waiters.length > 0 && (frames.length > 0 || error)) {
      const w = waiters.shift()
      if (frames.length > 0) w.resolve(frames.shift())
      else w.reject(error)
    }
  }
  sock.on('data', (chunk) => { pending = Buffer.concat([pending, chunk]); pump() })
  sock.on('end', () => { error = new Error('peer closed the connection'); pump() })
  sock.on('error', (err) => { error = err; pump() })
  return {
    next: () => new Promise((resolve, reject) => { waiters.push({ resolve, reject }); pump() }),
    send: (buf) => {
      if (buf.length > MAX_MSG) throw new Error(`frame of ${buf.length} bytes`)
      const hdr = Buffer.alloc(2)
      hdr.writeUInt16BE(buf.length)
      sock.write(Buffer.concat([hdr, buf]))
    }
  }
}

// The node's identity: Ed25519, converted to X25519 for Noise.
function identity () {
  const edPk = Buffer.alloc(sodium.crypto_sign_PUBLICKEYBYTES)
  const edSk = Buffer.alloc(sodium.crypto_sign_SECRETKEYBYTES)
  sodium.crypto_sign_keypair(edPk, edSk)
  const publicKey = Buffer.alloc(32)
  const secretKey = Buffer.alloc(32)
  sodium.crypto_sign_ed25519_pk_to_curve25519(publicKey, edPk)
  sodium.crypto_sign_ed25519_sk_to_curve25519(secretKey, edSk)
  sodium.sodium_memzero(edSk)
  return { edPk, publicKey, secretKey }
}

function makePayload (n, edPk) {
  const text = Buffer.from(`lcf-interop msg${n} from ${IMPL}`)
  return n > 1 ? Buffer.concat([edPk, text]) : text
}

function checkPayload (n, payload, hs) {
  const off = n > 1 ? 32 : 0
  const want = `lcf-interop msg${n} from ${PEER_IMPL}`
  check(payload.subarray(off).toString() === want, `handshake payload ${n}`,
    payload.subarray(off).toString(), want)
  if (n === 1) return
  check(payload.length >= 32, `handshake payload ${n} too short`)
  const xPub = Buffer.alloc(32)
  sodium.crypto_sign_ed25519_pk_to_curve25519(xPub, payload.subarray(0, 32))
  check(hs.rs != null && xPub.equals(hs.rs),
    `peer's Ed25519 key in payload ${n} converts to its Noise static key`,
    hs.rs && hs.rs.toString('hex'), xPub.toString('hex'))
}

// Runs fn, naming the step in any error it throws.
function attempt (step, fn) {
  try {
    return fn()
  } catch (err) {
    throw new Error(`${step}: ${err.message}`)
  }
}

async function exchange (sock, initiator, id) {
  const io = framer(sock)
  const hs = noise.initialize('XX', initiator, PROLOGUE,
    { publicKey: id.publicKey, secretKey: id.secretKey })
  const report = { sent: [], received: [], peerEdPk: null }
  const buf = Buffer.alloc(MAX_MSG)
  let split = null
  // XX has three messages; the initiator writes the odd (1-based) ones.
  for (let n = 1; n <= 3; n++) {
    if ((n % 2 === 1) === initiator) {
      const payload = makePayload(n, id.edPk)
      split = attempt(`writing handshake message ${n}`, () => noise.writeMessage(hs, payload, buf))
      io.send(Buffer.from(buf.subarray(0, noise.writeMessage.bytes)))
      report.sent.push(digest(payload))
    } else {
      const msg = await io.next()
      split = attempt(`reading handshake message ${n}`, () => noise.readMessage(hs, msg, buf))
      const payload = Buffer.from(buf.subarray(0, noise.readMessage.bytes))
      checkPayload(n, payload, hs)
      if (n > 1) report.peerEdPk = payload.subarray(0, 32).toString('hex')
      report.received.push(digest(payload))
    }
  }
  check(split != null, 'handshake produced a split after message 3')
  // The handshake hash lives in the symmetric state: ck (64) | h (64) | cipher (40).
  check(hs.symmetricState.byteLength === 64 + 64 + 40, 'noise-protocol symmetric state layout')
  report.hash = Buffer.from(hs.symmetricState.subarray(64, 128)).toString('hex')
  report.remoteStatic = Buffer.from(hs.rs).toString('hex')
  noise.destroy(hs)

  const empty = Buffer.alloc(0)
  const out = Buffer.alloc(MAX_MSG)
  function encrypt (plain) {
    cipherState.encryptWithAd(split.tx, out, empty, plain)
    return Buffer.from(out.subarray(0, cipherState.encryptWithAd.bytesWritten))
  }
  function decrypt (msg) {
    attempt(`decrypting a ${msg.length}-byte transport message`,
      () => cipherState.decryptWithAd(split.rx, out, empty, msg))
    return Buffer.from(out.subarray(0, cipherState.decryptWithAd.bytesWritten))
  }
  for (const len of LENGTHS) {
    if (initiator) {
      const sent = Buffer.alloc(len)
      sodium.randombytes_buf(sent)
      io.send(encrypt(sent))
      report.sent.push(digest(sent))
      const reply = decrypt(await io.next())
      report.received.push(digest(reply))
      check(reply.equals(Buffer.from(sent).reverse()), `reply to ${len} bytes is the reverse`,
        `${reply.length} bytes`, `${len} bytes`)
    } else {
      const got = decrypt(await io.next())
      report.received.push(digest(got))
      check(got.length === len, `message length ${len}`, got.length, len)
      const reply = Buffer.from(got).reverse()
      io.send(encrypt(reply))
      report.sent.push(digest(reply))
    }
  }
  sock.end()
  return report
}

function runPeer (bin, role, port) {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, [role, String(port)], { stdio: ['ignore', 'pipe', 'inherit'] })
    let stdout = ''
    child.stdout.on('data', (d) => { stdout += d })
    child.on('error', reject)
    child.on('close', (code, signal) => {
      if (code !== 0) reject(new Error(`noise_peer exited with ${signal || code}`))
      else resolve(stdout)
    })
  })
}

async function main () {
  const [bin, cRole] = process.argv.slice(2)
  if (!bin || !['initiator', 'responder'].includes(cRole)) {
    console.error('Usage: node interop.js PATH/TO/noise_peer initiator|responder')
    process.exit(2)
  }
  const jsInitiator = cRole === 'responder'
  const id = identity()

  const server = net.createServer()
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const conn = new Promise((resolve) => server.once('connection', resolve))
  const peer = runPeer(bin, cRole, server.address().port)
  const early = peer.then(() => { throw new Error('noise_peer ended without connecting') })
  early.catch(() => {}) // Only the race below looks at it.
  const sock = await Promise.race([conn, early])
  server.close()
  const [mine, stdout] = await Promise.all([exchange(sock, jsInitiator, id), peer])

  let theirs
  try {
    theirs = JSON.parse(stdout.trim())
  } catch (err) {
    throw new Error(`cannot parse noise_peer's report: ${JSON.stringify(stdout)}`)
  }
  check(theirs.role === cRole, 'C role', theirs.role, cRole)
  check(theirs.hash === mine.hash, 'handshake hash (C vs JS)', theirs.hash, mine.hash)
  check(theirs.remote_static === id.publicKey.toString('hex'),
    'static key C learned is the JS one', theirs.remote_static, id.publicKey.toString('hex'))
  check(mine.remoteStatic === theirs.static,
    'static key JS learned is the C one', mine.remoteStatic, theirs.static)
  check(mine.peerEdPk === theirs.ed_pk, 'Ed25519 key JS received is the C one', mine.peerEdPk, theirs.ed_pk)
  const xPub = Buffer.alloc(32)
  sodium.crypto_sign_ed25519_pk_to_curve25519(xPub, Buffer.from(theirs.ed_pk, 'hex'))
  check(xPub.toString('hex') === theirs.static,
    'C static key is its Ed25519 key converted by libsodium (JS side)', theirs.static, xPub.toString('hex'))
  check(JSON.stringify(theirs.received) === JSON.stringify(mine.sent),
    'plaintexts C received are those JS sent (BLAKE2b-256 digests)',
    JSON.stringify(theirs.received), JSON.stringify(mine.sent))
  check(mine.received.length === 2 - (jsInitiator ? 1 : 0) + LENGTHS.length,
    'count of messages JS received', mine.received.length)
  sodium.sodium_memzero(id.secretKey)
}

const timer = setTimeout(() => {
  console.error(`interop: no result after ${DEADLINE_MS} ms`)
  process.exit(1)
}, DEADLINE_MS)

main().then(() => {
  clearTimeout(timer)
  for (const f of failures) console.error(`interop: FAILED ${f}`)
  process.exit(failures.length === 0 ? 0 : 1)
}, (err) => {
  clearTimeout(timer)
  for (const f of failures) console.error(`interop: FAILED ${f}`)
  console.error(`interop: ${err.message}`)
  process.exit(1)
})
