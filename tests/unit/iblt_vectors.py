#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# Independent reference for the IBLT definitions of docs/PROTOCOL.md section 4.1.
import hashlib, struct
M = (1 << 64) - 1
def rotl(x, b): return ((x << b) | (x >> (64 - b))) & M
def siphash24(key, msg):
    k0, k1 = struct.unpack('<QQ', key)
    v0, v1, v2, v3 = k0 ^ 0x736f6d6570736575, k1 ^ 0x646f72616e646f6d, k0 ^ 0x6c7967656e657261, k1 ^ 0x7465646279746573
    def rnd():
        nonlocal v0, v1, v2, v3
        v0 = (v0 + v1) & M; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32)
        v2 = (v2 + v3) & M; v3 = rotl(v3, 16); v3 ^= v2
        v0 = (v0 + v3) & M; v3 = rotl(v3, 21); v3 ^= v0
        v2 = (v2 + v1) & M; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32)
    b = len(msg) << 56
    full = len(msg) // 8 * 8
    for i in range(0, full, 8):
        m, = struct.unpack('<Q', msg[i:i + 8])
        v3 ^= m; rnd(); rnd(); v0 ^= m
    tail = msg[full:]
    for i, c in enumerate(tail): b |= c << (8 * i)
    v3 ^= b; rnd(); rnd(); v0 ^= b
    v2 ^= 0xff
    for _ in range(4): rnd()
    return v0 ^ v1 ^ v2 ^ v3
assert siphash24(bytes(range(16)), bytes(range(15))) == 0xa129ca6149be45e5
def key(i): return struct.unpack('<Q', i[:8])[0]
def pos(cls, k):
    m = 64 << cls
    h = siphash24(bytes([cls + 1]) + bytes(15), struct.pack('<Q', k))
    return [i * m + ((h >> (21 * i)) % m) for i in range(3)]
ids = [hashlib.blake2b(b'lcf iblt vector %d' % n, digest_size=32).digest() for n in (1, 2)]
for n, i in enumerate(ids, 1):
    print('id%d' % n, i.hex(), hex(key(i)), hex(siphash24(bytes(16), i[:8]) & 0xffffffff))
    print('  ' + ', '.join('{ %d, %d, %d }' % tuple(pos(c, key(i))) for c in range(9)))
