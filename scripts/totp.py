"""RFC 6238 TOTP (SHA-1, 6 digits, 30 s) from a base32 seed, for the demo and the benchmark.

Usage: totp.py SEED [UNIX_TIME]
"""
import base64
import hashlib
import hmac
import struct
import sys
import time


def totp(seed: str, t: int) -> str:
    key = base64.b32decode(seed.upper() + "=" * (-len(seed) % 8))
    digest = hmac.new(key, struct.pack(">Q", t // 30), hashlib.sha1).digest()
    offset = digest[-1] & 15
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return "%06d" % (value % 1_000_000)


if __name__ == "__main__":
    now = int(sys.argv[2]) if len(sys.argv) > 2 else int(time.time())
    print(totp(sys.argv[1], now))
