package sqldb

import "strings"

// escaper returns the driver's escaping of a %-variable's value.
func escaper(driver string) func(string) string {
	if driver == "mysql" {
		return mysqlEscape
	}
	return quoteEscape
}

// quoteEscape doubles single quotes: PostgreSQL with
// standard_conforming_strings on (PQescapeStringConn) and SQLite (%q).
func quoteEscape(s string) string { return strings.ReplaceAll(s, "'", "''") }

// mysqlEscape is mysql_real_escape_string with backslash escapes.
func mysqlEscape(s string) string {
	if !strings.ContainsAny(s, "\x00\n\r\\'\"\x1a") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case 0:
			b.WriteString(`\0`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\x1a':
			b.WriteString(`\Z`)
		case '\\', '\'', '"':
			b.WriteByte('\\')
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
