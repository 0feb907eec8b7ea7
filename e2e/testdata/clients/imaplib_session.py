#!/usr/bin/env python3
"""A full IMAP session with Python's imaplib; every step is checked with assert.

usage: imaplib_session.py HOST PORT USER PASSWORD
Exits 0 and prints "imaplib: ok" when every step behaved as an IMAP4rev1 server must.
"""
import email
import imaplib
import sys

host, port, user, password = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]


def ok(result, what):
    typ, data = result
    assert typ == "OK", f"{what}: {typ} {data!r}"
    return data


def step(name):
    print(f"-- {name}", flush=True)


MSG1 = (b"From: Alice <alice@example.org>\r\nTo: Bob <bob@example.org>\r\n"
        b"Subject: imaplib one\r\nDate: Wed, 01 Jul 2020 12:00:00 +0000\r\n"
        b"Message-ID: <imaplib.1@example.org>\r\n\r\nfirst body line\r\nsecond line\r\n")
MSG2 = (b"From: Carol <carol@example.org>\r\nTo: Alice <alice@example.org>\r\n"
        b"Subject: =?UTF-8?Q?Caf=C3=A9?= plans\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: multipart/mixed; boundary=b1\r\n\r\n--b1\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n\r\nlunch at noon\r\n--b1\r\n"
        b"Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        b"AAECAw==\r\n--b1--\r\n")

step("connect")
M = imaplib.IMAP4(host, port)
assert "IMAP4REV1" in M.capabilities, M.capabilities

step("login")
ok(M.login(user, password), "login")
caps = ok(M.capability(), "capability")[0].decode().upper().split()
for c in ("IMAP4REV1", "IDLE", "NAMESPACE", "UIDPLUS", "MOVE", "UNSELECT", "CHILDREN"):
    assert c in caps, f"{c} missing from {caps}"

step("namespace")
ns = ok(M.namespace(), "namespace")[0].decode()
assert ns.startswith('(("" "/"))'), ns

step("list")
names = ok(M.list(), "list")
assert any(n.endswith(b" INBOX") for n in names), names

step("create hierarchy")
ok(M.create("imaplib/sub"), "create")
ok(M.create('"&AMk-t&AOk-"'), "create mutf7")
names = [n.decode() for n in ok(M.list('""', "imaplib/*"), "list sub")]
assert any(n.rstrip('"').endswith("imaplib/sub") for n in names), names

step("append")
data = ok(M.append("INBOX", r"(\Seen $Label1)", imaplib.Time2Internaldate(1593604800), MSG1), "append 1")
assert b"APPENDUID" in data[0], data
ok(M.append("INBOX", None, None, MSG2), "append 2")
ok(M.append('"&AMk-t&AOk-"', r"(\Flagged)", None, MSG1), "append mutf7")

step("status")
st = ok(M.status("INBOX", "(MESSAGES UNSEEN UIDNEXT)"), "status")[0].decode()
assert "MESSAGES 2" in st and "UNSEEN 1" in st and "UIDNEXT 3" in st, st

step("select")
typ, data = M.select("INBOX")
assert typ == "OK" and data[0] == b"2", (typ, data)

step("search")
assert ok(M.search(None, "ALL"), "search")[0] == b"1 2"
assert ok(M.search(None, "SEEN"), "search seen")[0] == b"1"
assert ok(M.search(None, "UNSEEN"), "search unseen")[0] == b"2"
assert ok(M.search(None, "KEYWORD", "$Label1"), "search keyword")[0] == b"1"
assert ok(M.search(None, "SUBJECT", '"imaplib one"'), "search subject")[0] == b"1"
assert ok(M.search(None, "BODY", "lunch"), "search body")[0] == b"2"
M.literal = "Café".encode()  # sent as a literal after the last argument
assert ok(M.search("UTF-8", "SUBJECT"), "search utf8")[0] == b"2"
assert ok(M.uid("SEARCH", "ALL"), "uid search")[0] == b"1 2"

step("fetch")
data = ok(M.fetch("1", "(FLAGS INTERNALDATE RFC822.SIZE)"), "fetch flags")[0].decode()
assert "\\Seen" in data and "$Label1" in data, data
assert 'INTERNALDATE "01-Jul-2020 12:00:00 +0000"' in data, data
assert f"RFC822.SIZE {len(MSG1)}" in data, data
data = ok(M.fetch("2", "(BODY.PEEK[])"), "fetch body")
assert data[0][1] == MSG2, data
msg = email.message_from_bytes(data[0][1])
assert msg.is_multipart()
data = ok(M.fetch("2", "(BODYSTRUCTURE)"), "fetch bodystructure")[0].decode()
assert '"mixed"' in data.lower() and '"application" "octet-stream"' in data.lower(), data
data = ok(M.fetch("2", "(BODY.PEEK[1] BODY.PEEK[HEADER.FIELDS (SUBJECT)])"), "fetch sections")
assert data[0][1] == b"lunch at noon", data
data = ok(M.fetch("1", "(BODY.PEEK[TEXT]<6.4>)"), "fetch partial")
assert data[0][1] == b"body", data
data = ok(M.fetch("1", "(ENVELOPE)"), "fetch envelope")[0].decode()
assert '"imaplib one"' in data and "<imaplib.1@example.org>" in data, data
assert ok(M.search(None, "UNSEEN"), "still unseen")[0] == b"2", "BODY.PEEK must not set \\Seen"
ok(M.fetch("2", "(BODY[TEXT])"), "fetch sets seen")
assert ok(M.search(None, "UNSEEN"), "now seen")[0] == b"", "BODY[] must set \\Seen"

step("store")
data = ok(M.store("1:2", "+FLAGS", r"(\Flagged Custom)"), "store +flags")
assert len(data) == 2, data
ok(M.store("1", "-FLAGS", r"(\Seen)"), "store -flags")
data = ok(M.store("2", "+FLAGS.SILENT", r"(\Answered)"), "store silent")
assert data == [None], data
flags = ok(M.fetch("1:2", "(FLAGS)"), "fetch after store")
assert b"\\Seen" not in flags[0] and b"\\Answered" in flags[1], flags
assert ok(M.search(None, "FLAGGED", "KEYWORD", "Custom"), "search custom")[0] == b"1 2"

step("copy and move")
data = ok(M.copy("1", "imaplib/sub"), "copy")
assert b"COPYUID" in data[0], data
typ, data = M.uid("MOVE", "2", "imaplib/sub")
assert typ == "OK", (typ, data)
typ, data = M.select("INBOX")
assert data[0] == b"1", data
st = ok(M.status("imaplib/sub", "(MESSAGES)"), "status sub")[0].decode()
assert "MESSAGES 2" in st, st

step("expunge")
ok(M.select("imaplib/sub"), "select sub")
ok(M.store("1", "+FLAGS", r"(\Deleted)"), "mark deleted")
data = ok(M.expunge(), "expunge")
assert data == [b"1"], data
ok(M.append("imaplib/sub", r"(\Deleted)", None, MSG1), "append deleted")
ok(M.uid("EXPUNGE", "3"), "uid expunge")  # the message appended just now has UID 3
assert ok(M.search(None, "ALL"), "after expunge")[0] == b"1"

step("rename and delete")
ok(M.close(), "close")
ok(M.rename("imaplib/sub", "imaplib/renamed"), "rename")
st = ok(M.status("imaplib/renamed", "(MESSAGES)"), "status renamed")[0].decode()
assert "MESSAGES 1" in st, st
typ, _ = M.status("imaplib/sub", "(MESSAGES)")
assert typ == "NO", "old name must be gone"
ok(M.delete("imaplib/renamed"), "delete")
ok(M.delete('"&AMk-t&AOk-"'), "delete mutf7")
ok(M.subscribe("INBOX"), "subscribe")
subs = ok(M.lsub(), "lsub")
assert any(s.endswith(b" INBOX") for s in subs), subs
ok(M.unsubscribe("INBOX"), "unsubscribe")

step("errors")
ok(M.select("INBOX"), "select")
try:
    M.fetch("1", "(NOSUCHITEM)")
    raise AssertionError("FETCH NOSUCHITEM must fail")
except imaplib.IMAP4.error:
    pass
typ, _ = M.select("NoSuchMailbox")
assert typ == "NO", typ

step("noop and logout")
ok(M.select("INBOX"), "select")
ok(M.noop(), "noop")
typ, _ = M.logout()
assert typ == "BYE", typ
print("imaplib: ok")
