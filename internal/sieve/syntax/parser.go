package syntax

// Parse parses a whole script. On errors it returns the partial AST and
// every error found, in order.
func Parse(src []byte) (*Script, ErrorList) {
	var errs ErrorList
	p := &parser{lx: lexer{src: string(src), line: 1, col: 1, errs: &errs}}
	p.errs = &errs
	p.advance()
	s := &Script{}
	s.Commands = p.commands(0, true)
	if len(errs) > 0 {
		return s, errs
	}
	return s, nil
}

type parser struct {
	lx   lexer
	tok  token
	errs *ErrorList
}

func (p *parser) advance() {
	for {
		p.tok = p.lx.next()
		if p.tok.kind != tokError {
			return
		}
	}
}

func (p *parser) errorf(pos Pos, format string, args ...any) {
	p.lx.errorf(pos, format, args...)
}

func (p *parser) tooMany() bool { return len(*p.errs) >= MaxErrors }

// commands parses commands until '}' (not at top level) or EOF.
func (p *parser) commands(depth int, top bool) []*Command {
	var out []*Command
	for !p.tooMany() {
		switch p.tok.kind {
		case tokEOF:
			return out
		case tokRBrace:
			if !top {
				return out
			}
			p.errorf(p.tok.pos, "unexpected '}' found at top level")
			p.advance()
			continue
		case tokIdent:
			if c := p.command(depth); c != nil {
				out = append(out, c)
			}
		default:
			p.errorf(p.tok.pos, "expected identifier but found %s", p.tok.describe())
			p.recover(!top)
		}
	}
	return out
}

// recover skips to the end of the broken command: after ';', after a
// balanced block, or before a '}' that closes the enclosing block.
func (p *parser) recover(nested bool) {
	for {
		switch p.tok.kind {
		case tokEOF:
			return
		case tokRBrace:
			if !nested {
				p.advance()
			}
			return
		case tokSemicolon:
			p.advance()
			return
		case tokLBrace:
			p.skipBlock()
			return
		}
		p.advance()
	}
}

func (p *parser) skipBlock() {
	level := 0
	for p.tok.kind != tokEOF {
		switch p.tok.kind {
		case tokLBrace:
			level++
		case tokRBrace:
			level--
			if level == 0 {
				p.advance()
				return
			}
		}
		p.advance()
	}
}

func (p *parser) command(depth int) *Command {
	c := p.commandHead(0)
	if c == nil {
		p.recover(depth > 0)
		return nil
	}
	switch p.tok.kind {
	case tokSemicolon:
		p.advance()
		return c
	case tokLBrace:
		if depth+1 > MaxBlockNesting {
			p.errorf(p.tok.pos, "cannot nest command blocks deeper than %d levels", MaxBlockNesting)
			p.skipBlock()
			return nil
		}
		p.advance()
		c.HasBlock = true
		c.Block = p.commands(depth+1, false)
		if p.tok.kind != tokRBrace {
			p.errorf(p.tok.pos, "expected end of compound block '}', but found %s", p.tok.describe())
			return c
		}
		p.advance()
		return c
	default:
		p.errorf(p.tok.pos, "expected end of command ';' or the beginning of a compound block '{', but found %s", p.tok.describe())
		p.recover(depth > 0)
		return nil
	}
}

// commandHead parses identifier, arguments and tests.
func (p *parser) commandHead(testDepth int) *Command {
	c := &Command{Pos: p.tok.pos, Name: p.tok.text}
	p.advance()
	if !p.arguments(c) {
		return nil
	}
	switch p.tok.kind {
	case tokIdent:
		if testDepth+1 > MaxTestNesting {
			p.errorf(c.Pos, "cannot nest tests deeper than %d levels", MaxTestNesting)
			return nil
		}
		t := p.commandHead(testDepth + 1)
		if t == nil {
			return nil
		}
		c.Tests = []*Command{t}
	case tokLParen:
		if testDepth+1 > MaxTestNesting {
			p.errorf(p.tok.pos, "cannot nest tests deeper than %d levels", MaxTestNesting)
			return nil
		}
		if !p.testList(c, testDepth+1) {
			return nil
		}
	}
	return c
}

func (p *parser) testList(c *Command, depth int) bool {
	c.TestList = true
	p.advance()
	after := "'('"
	for {
		if p.tok.kind != tokIdent {
			p.errorf(p.tok.pos, "expecting test identifier after %s in test list, but found %s", after, p.tok.describe())
			return false
		}
		after = "','"
		t := p.commandHead(depth)
		if t == nil {
			return false
		}
		c.Tests = append(c.Tests, t)
		switch p.tok.kind {
		case tokComma:
			p.advance()
		case tokRParen:
			p.advance()
			return true
		default:
			p.errorf(p.tok.pos, "expected ',' or end of test list ')', but found %s", p.tok.describe())
			return false
		}
	}
}

func (p *parser) arguments(c *Command) bool {
	for {
		var a *Arg
		switch p.tok.kind {
		case tokTag:
			a = &Arg{Pos: p.tok.pos, Kind: ArgTag, Tag: p.tok.text}
			p.advance()
		case tokNumber:
			a = &Arg{Pos: p.tok.pos, Kind: ArgNumber, Number: p.tok.num}
			p.advance()
		case tokString:
			a = &Arg{Pos: p.tok.pos, Kind: ArgString, Strings: []string{p.tok.text}}
			p.advance()
		case tokLBracket:
			a = p.stringList()
			if a == nil {
				return false
			}
		case tokGarbage:
			// As Pigeonhole: reported here, then by the caller that
			// expected something else ("... but found unknown characters").
			p.errorf(p.tok.pos, "unexpected character(s) starting with '%s'", p.tok.text)
			return true
		default:
			return true
		}
		if len(c.Args) >= MaxArguments {
			p.errorf(p.tok.pos, "too many arguments for command '%s'", c.Name) // at the next token, as Pigeonhole
			return false
		}
		c.Args = append(c.Args, a)
	}
}

func (p *parser) stringList() *Arg {
	a := &Arg{Pos: p.tok.pos, Kind: ArgStringList}
	p.advance()
	for {
		if p.tok.kind != tokString {
			p.errorf(p.tok.pos, "expected string after '[' or ',' in string list, but found %s", p.tok.describe())
			return nil
		}
		a.Strings = append(a.Strings, p.tok.text)
		p.advance()
		switch p.tok.kind {
		case tokComma:
			p.advance()
		case tokRBracket:
			p.advance()
			return a
		default:
			p.errorf(p.tok.pos, "expected ',' or end of string list ']', but found %s", p.tok.describe())
			return nil
		}
	}
}
