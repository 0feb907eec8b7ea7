#!/usr/bin/env python3
"""Writes python-zlib.txt.gz: raw DEFLATE streams made by Python's zlib (the C
zlib that IMAP clients link) with a flush after every segment, the way a
COMPRESS=DEFLATE client flushes after every command.

    python3 gen_python_zlib.py | gzip -9 > python-zlib.txt.gz

Format: one line "plain <base64>" per segment of plaintext, then per
stream "stream <flush> <level> <strategy>", one line "seg <base64>" per
segment (the compressed bytes up to and including its flush, "-" for
none), and "end".
"""
import base64, random, zlib

def segments():
    rnd = random.Random(4978)
    out = [b"a001 CAPABILITY\r\n", b"a002 NOOP\r\n", b"", b"a003 SELECT INBOX\r\n"]
    body = b"".join(b"Line %d of a message that repeats itself a lot\r\n" % (i % 7) for i in range(300))
    out.append(b"a004 APPEND INBOX {%d+}\r\n" % len(body) + body + b"\r\n")
    out.append(bytes(rnd.getrandbits(8) for _ in range(1000)))
    for i in range(5, 40):
        out.append(b"a%03d UID FETCH %d:* (FLAGS BODY.PEEK[HEADER])\r\n" % (i, i * 7))
    out.append(b"x" * 70000)
    out.append(b"a040 LOGOUT\r\n")
    return out

FLUSHES = [("sync", zlib.Z_SYNC_FLUSH), ("partial", zlib.Z_PARTIAL_FLUSH), ("full", zlib.Z_FULL_FLUSH)]
STRATEGIES = [("default", zlib.Z_DEFAULT_STRATEGY), ("fixed", zlib.Z_FIXED), ("huffman", zlib.Z_HUFFMAN_ONLY), ("filtered", zlib.Z_FILTERED)]

print("# made by gen_python_zlib.py with zlib", zlib.ZLIB_RUNTIME_VERSION)
for seg in segments():
    print("plain", base64.b64encode(seg).decode() or "-")
for fname, flush in FLUSHES:
    for level in (1, 9):
        for sname, strategy in STRATEGIES:
            c = zlib.compressobj(level, zlib.DEFLATED, -15, 8, strategy)
            print("stream", fname, level, sname)
            for seg in segments():
                comp = c.compress(seg) + c.flush(flush)
                print("seg", base64.b64encode(comp).decode() or "-")
            print("end")
