"""Python imaplib against roost after ENABLE UTF8=ACCEPT (RFC 6855/9755).

Usage: utf8accept_imaplib.py HOST PORT USER PASSWORD. Prints "imaplib utf8: ok".
"""
import imaplib
import sys


def check(cond, what):
    if not cond:
        raise SystemExit("FAIL: " + what)


def ok(res, what):
    typ, data = res
    check(typ == "OK", "%s: %s %r" % (what, typ, data))
    return data


host, port, user, password = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
m = imaplib.IMAP4(host, port)
ok(m.login(user, password), "login")
check("IMAP4REV2" in m.capabilities, "IMAP4rev2 advertised: %r" % (m.capabilities,))
caps = ok(m.capability(), "capability")[0].decode().upper().split()
check("UTF8=ACCEPT" in caps and "IMAP4REV2" in caps, "post-login CAPABILITY %r" % caps)

ok(m.enable("UTF8=ACCEPT"), "enable")
check(m.utf8_enabled, "imaplib switched to UTF-8")
check(m.untagged_responses.get("ENABLED") == [b"UTF8=ACCEPT"], "ENABLED %r" % m.untagged_responses.get("ENABLED"))

# Mailbox names travel as UTF-8, not modified UTF-7 (RFC 6855 section 3).
ok(m.create('"Entwürfe"'), "create")
ok(m.create('"Fußball/Ergebnisse"'), "create child")
lines = ok(m.list('""', '"*"'), "list")
names = sorted(l.decode("utf-8").split(' "/" ', 1)[1] for l in lines)
check(names == ['"Entwürfe"', '"Fußball"', '"Fußball/Ergebnisse"', "INBOX"], "LIST %r" % names)
data = ok(m.status('"Entwürfe"', "(MESSAGES UIDNEXT)"), "status")
check(data == ['"Entwürfe" (MESSAGES 0 UIDNEXT 1)'.encode("utf-8")], "STATUS %r" % data)

# APPEND: imaplib puts "UTF8 (" ... ")" inside the literal; the message
# must arrive without it.
msg = "From: Jörg <joerg@example.com>\r\nSubject: Grüße aus Köln\r\n\r\nHallo Welt\r\n".encode("utf-8")
data = ok(m.append('"Entwürfe"', r"(\Seen)", None, msg), "append")
check(b"APPENDUID" in data[0], "APPENDUID in %r" % data)
ok(m.select('"Entwürfe"'), "select")
typ, data = m.fetch("1", "(RFC822.SIZE BODY.PEEK[])")
check(typ == "OK", "fetch %s %r" % (typ, data))
check(data[0][1] == msg, "stored message %r" % (data[0][1],))
check(b"RFC822.SIZE %d" % len(msg) in data[0][0], "size in %r" % (data[0][0],))

# SEARCH: no CHARSET in UTF-8 mode; UTF-8 strings match decoded headers.
data = ok(m.search(None, "SUBJECT", '"grüße"'), "search")
check(data == [b"1"], "SEARCH %r" % data)
try:
    m._simple_command("SEARCH", "CHARSET", "ISO-8859-1", "ALL")
    check(False, "SEARCH CHARSET ISO-8859-1 was accepted")
except imaplib.IMAP4.error as e:
    check("BAD" in str(e), "SEARCH CHARSET ISO-8859-1: %s" % e)

ok(m.close(), "close")
ok(m.rename('"Entwürfe"', '"Brouillons-été"'), "rename")
lines = ok(m.list('""', '"Brouillons*"'), "list renamed")
check(lines == ['(\\HasNoChildren) "/" "Brouillons-été"'.encode("utf-8")], "LIST %r" % lines)
ok(m.delete('"Brouillons-été"'), "delete")
m.logout()
print("imaplib utf8: ok")
