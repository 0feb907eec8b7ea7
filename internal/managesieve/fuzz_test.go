package managesieve

import (
	"bufio"
	"strings"
	"testing"
)

// FuzzParser feeds arbitrary input to the command parser: it must never
// panic, and every argument it returns came from the input.
func FuzzParser(f *testing.F) {
	for _, s := range []string{
		"NOOP\r\n", "NOOP \"tag\"\r\n", "PUTSCRIPT \"a\" {6+}\r\nkeep;\n\r\n", "PUTSCRIPT \"a\" {6}\r\nkeep;\n\r\n",
		"HAVESPACE \"x\" 100\r\n", "AUTHENTICATE \"PLAIN\" \"AGEAYg==\"\r\n", "\"\\\"q\\\\\"\r\n", "{99999999999999999999}\r\n",
		"X {3+}\r\nab", "RENAMESCRIPT \"a\" \"b\" \"c\" \"d\"\r\n", "\r\n", "GETSCRIPT \"unterminated\r\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		p := &parser{br: bufio.NewReader(strings.NewReader(in)), maxLine: 1024}
		for i := 0; i < 20; i++ {
			c, err := p.readCommand()
			if err != nil && c == nil {
				if _, ok := err.(*errSyntax); !ok {
					return
				}
				continue
			}
			if c != nil && len(c.args) > maxArgs {
				t.Fatalf("%d arguments", len(c.args))
			}
		}
	})
}
