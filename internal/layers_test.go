package internal_test

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// layers assigns every package under internal/ to a layer of DESIGN.md
// section 3. A package may import only packages of a strictly lower layer,
// except that L0 leaves may import other leaves. Only the composition root
// (server) may import concrete storage and authdb drivers.
var layers = map[string]int{
	// L0 leaves
	"config": 0, "varexpand": 0, "logging": 0, "vfs": 0, "message": 0, "sasl": 0,
	"pwscheme": 0, "shareddir": 0, "imap": 0, "imapwire": 0, "smtp": 0, "sieve/syntax": 0, "authproto": 0,
	"deflate": 0, "connset": 0, "dovecottest": 0, "conntest": 0,
	// L1 core
	"settings": 1, "mailindex": 1, "storage": 1, "auth": 1, "sieve": 1,
	// L2 domain: drivers and client twins
	"maildir": 2, "mbox": 2, "memstore": 2, "passwdfile": 2, "staticdb": 2, "sqldb": 2,
	"ldapdb": 2, "oauth2db": 2, "quota": 2, "acl": 2, "sievestore": 2, "imapclient": 2, "pop3client": 2,
	"smtpclient": 2, "authclient": 2, "storagetest": 2,
	// L3 flows
	"login": 3, "delivery": 3, "authserver": 3, "proxy": 3,
	// L4 protocols
	"imapserver": 4, "pop3server": 4, "lmtp": 4, "managesieve": 4,
	// L5 wiring, ordered inside the layer: service (listeners) is used by
	// server (the composition root), which admin (the command table that
	// also starts the daemon) uses.
	"service": 5, "server": 6, "admin": 7,
	// Tools beside the server: the benchmark load generator.
	"loadgen": 7,
}

// drivers may be imported only by the composition root (and by tests).
var drivers = map[string]bool{
	"maildir": true, "mbox": true, "memstore": true, "passwdfile": true, "staticdb": true,
	"sqldb": true, "ldapdb": true, "oauth2db": true,
}

const module = "roost/internal/"

func TestLayering(t *testing.T) {
	err := filepath.WalkDir(".", func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		pkg := filepath.ToSlash(filepath.Dir(path))
		if pkg == "." {
			return nil
		}
		if strings.Contains(pkg, "testdata") {
			return nil
		}
		from, ok := layerOf(pkg)
		if !ok {
			t.Errorf("%s: package %q has no layer; add it to layers_test.go per DESIGN.md section 3", path, pkg)
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if !strings.HasPrefix(p, module) {
				if from == 0 && !leafExternalOK(p) {
					t.Errorf("%s: leaf package %q imports %q; leaves use only the standard library, golang.org/x and other leaves", path, pkg, p)
				}
				continue
			}
			dep := strings.TrimPrefix(p, module)
			to, ok := layerOf(dep)
			if !ok {
				t.Errorf("%s: imports %q which has no layer", path, dep)
				continue
			}
			if to > from || (to == from && from != 0 && !sameFamily(pkg, dep)) {
				t.Errorf("%s: %q (L%d) imports %q (L%d): imports must flow downward", path, pkg, from, dep, to)
			}
			if drivers[topName(dep)] && topName(pkg) != "server" && !sameFamily(pkg, dep) {
				t.Errorf("%s: %q imports concrete driver %q; only server may", path, pkg, dep)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func topName(pkg string) string {
	if i := strings.IndexByte(pkg, '/'); i >= 0 {
		return pkg[:i]
	}
	return pkg
}

// sameFamily reports whether a and b are a package and its own
// subpackage (sieve and sieve/syntax are layered separately and so are
// listed explicitly).
func sameFamily(a, b string) bool {
	if _, ok := layers[a]; ok {
		if _, ok := layers[b]; ok && a != b {
			return false
		}
	}
	return topName(a) == topName(b)
}

func layerOf(pkg string) (int, bool) {
	for p := pkg; ; {
		if l, ok := layers[p]; ok {
			return l, true
		}
		i := strings.LastIndexByte(p, '/')
		if i < 0 {
			return 0, false
		}
		p = p[:i]
	}
}

func leafExternalOK(p string) bool {
	if strings.HasPrefix(p, "golang.org/x/") {
		return true
	}
	first := p
	if i := strings.IndexByte(p, '/'); i >= 0 {
		first = p[:i]
	}
	return !strings.Contains(first, ".")
}
