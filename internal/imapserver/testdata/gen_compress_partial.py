#!/usr/bin/env python3
"""Writes compress-partial.txt: the commands of TestCompressPartialFlush, each
compressed by Python's zlib (the C zlib IMAP clients link) and ended with
Z_PARTIAL_FLUSH, the flush that makes a blocking inflater wait for the next
command before returning this one.

    python3 gen_compress_partial.py > compress-partial.txt

One line per command: "<base64 of the compressed bytes> <the command>".
"""
import base64, zlib

COMMANDS = [b"a2 NOOP", b"a3 SELECT INBOX", b"a4 FETCH 1 (FLAGS RFC822.SIZE)",
            b"a5 STORE 1 +FLAGS (\\Seen)", b"a6 LOGOUT"]
c = zlib.compressobj(6, zlib.DEFLATED, -15)
for cmd in COMMANDS:
    comp = c.compress(cmd + b"\r\n") + c.flush(zlib.Z_PARTIAL_FLUSH)
    print(base64.b64encode(comp).decode(), cmd.decode())
