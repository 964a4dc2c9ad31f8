package config

import (
	"bytes"
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

const indentUnit = "    "

// header is the comment Marshal writes at the top of every file.
const header = "# sipstreams configuration\n"

// Marshal writes d in the configuration file format (see the package
// documentation). Every setting is written, defaults included, in a fixed
// order, so the output of equal documents is identical. A nil d is
// written as [NewDocument].
//
// Marshal does not validate: a document whose account IDs are not valid
// (see [Account.Validate]) may not read back.
func Marshal(d *Document) []byte {
	if d == nil {
		d = NewDocument()
	}
	var b bytes.Buffer
	b.WriteString(header)
	writeGroup(&b, reflect.ValueOf(&d.Settings).Elem(), 0)
	if len(d.Accounts) > 0 {
		b.WriteString("accounts:\n")
		for i := range d.Accounts {
			a := &d.Accounts[i]
			b.WriteString(indentUnit + a.ID + ":\n")
			writeGroup(&b, reflect.ValueOf(a).Elem(), 2)
		}
	}
	return b.Bytes()
}

func writeGroup(b *bytes.Buffer, v reflect.Value, depth int) {
	indent := strings.Repeat(indentUnit, depth)
	for _, f := range fields(v.Type()) {
		b.WriteString(indent)
		b.WriteString(f.name)
		if f.group {
			b.WriteString(":\n")
			writeGroup(b, v.Field(f.index), depth+1)
			continue
		}
		if s := formatValue(v.Field(f.index), true); s != "" {
			b.WriteString(" = ")
			b.WriteString(s)
			b.WriteByte('\n')
		} else {
			b.WriteString(" =\n")
		}
	}
}

// Unmarshal reads a configuration file. filename is used only in errors.
// Settings that the text does not mention keep their defaults ([Default],
// and [NewAccount] for each account). Errors are *SyntaxError.
//
// Unmarshal checks the form of the text and that every value parses as its
// setting's type; it does not check whether values are allowed (a port
// range of 60000-50000 reads fine). Call [Document.Validate] for that.
func Unmarshal(data []byte, filename string) (*Document, error) {
	p := parser{file: filename}
	return p.parse(data)
}

type parser struct {
	file string
	line int
}

func (p *parser) errorf(format string, args ...any) error {
	return &SyntaxError{File: p.file, Line: p.line, Msg: fmt.Sprintf(format, args...)}
}

// node is a group being read.
type node struct {
	v        reflect.Value // the group's struct (addressable); unset for accounts
	root     bool          // the top level: also holds "accounts"
	accounts bool          // the accounts group: holds one group per account
	account  string        // the account the group belongs to, for messages
	path     string        // the group's dotted name within its account, for messages
	seen     map[string]int
}

// frame is a node on the indentation stack.
type frame struct {
	n      *node
	header int // the indentation of the group's "name:" line; -1 for the top level
	indent int // the indentation of the group's lines; -1 until its first line
}

func (p *parser) parse(data []byte) (*Document, error) {
	doc := NewDocument()
	var accounts []*Account
	root := &node{v: reflect.ValueOf(&doc.Settings).Elem(), root: true, seen: map[string]int{}}
	stack := []frame{{n: root, header: -1, indent: 0}}

	data = bytes.TrimPrefix(data, []byte("\uFEFF"))
	for len(data) > 0 {
		p.line++
		var line []byte
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			line, data = data, nil
		}
		line = bytes.TrimSuffix(line, []byte("\r"))

		n := 0
		for n < len(line) && line[n] == ' ' {
			n++
		}
		content := strings.TrimRight(string(line[n:]), " \t")
		if c := strings.TrimLeft(content, " \t"); c == "" || c[0] == '#' {
			continue // blank line or comment
		}
		if content[0] == '\t' {
			return nil, p.errorf("tab in indentation; indent with spaces")
		}

		// Find the group this line belongs to.
		top := &stack[len(stack)-1]
		if top.indent < 0 {
			if n > top.header {
				top.indent = n
			} else {
				stack = stack[:len(stack)-1] // an empty group
			}
		}
		dedented := false
		for n < stack[len(stack)-1].indent {
			stack = stack[:len(stack)-1]
			dedented = true
		}
		top = &stack[len(stack)-1]
		if n != top.indent {
			if dedented {
				return nil, p.errorf("indentation does not match any enclosing group")
			}
			return nil, p.errorf("unexpected indentation")
		}

		if key, value, ok := strings.Cut(content, "="); ok {
			key = strings.TrimRight(key, " \t")
			if err := p.assign(top.n, key, trimBlanks(value)); err != nil {
				return nil, err
			}
			continue
		}
		name, ok := strings.CutSuffix(content, ":")
		if !ok {
			return nil, p.errorf("want \"name = value\" or \"group:\", got %q", content)
		}
		name = strings.TrimRight(name, " \t")
		child, acc, err := p.open(top.n, name)
		if err != nil {
			return nil, err
		}
		if acc != nil {
			accounts = append(accounts, acc)
		}
		stack = append(stack, frame{n: child, header: n, indent: -1})
	}

	if len(accounts) > 0 {
		doc.Accounts = make([]Account, len(accounts))
		for i, a := range accounts {
			doc.Accounts[i] = *a
		}
	}
	return doc, nil
}

// where prefixes messages about an account's settings.
func (p *parser) where(n *node) string {
	if n.account != "" {
		return "account " + n.account + ": "
	}
	return ""
}

func (p *parser) dotted(n *node, name string) string {
	if n.path == "" {
		return name
	}
	return n.path + "." + name
}

// claim records name as used in group n, refusing duplicates.
func (p *parser) claim(n *node, name string) error {
	if first, dup := n.seen[name]; dup {
		return p.errorf("%s%s set twice (first on line %d)", p.where(n), strconv.Quote(p.dotted(n, name)), first)
	}
	n.seen[name] = p.line
	return nil
}

// lookup finds the field called name in group n.
func (p *parser) lookup(n *node, name string) (fieldInfo, error) {
	fs := fields(n.v.Type())
	for _, f := range fs {
		if f.name == name {
			return f, nil
		}
	}
	known := make([]string, 0, len(fs)+1)
	for _, f := range fs {
		known = append(known, f.name)
	}
	if n.root {
		known = append(known, "accounts")
	}
	in := "at the top level"
	if n.path != "" {
		in = "in " + n.path
	}
	return fieldInfo{}, p.errorf("%sunknown setting %q %s (known: %s)", p.where(n), name, in, strings.Join(known, ", "))
}

func (p *parser) assign(n *node, key, raw string) error {
	if n.accounts {
		return p.errorf("accounts holds one group per account (\"user@domain:\"), not settings")
	}
	if key == "" {
		return p.errorf("missing name before '='")
	}
	if n.root && key == "accounts" {
		return p.errorf("accounts is a group: write \"accounts:\"")
	}
	f, err := p.lookup(n, key)
	if err != nil {
		return err
	}
	dotted := p.dotted(n, key)
	if f.group {
		return p.errorf("%s%s is a group: write \"%s:\"", p.where(n), dotted, key)
	}
	if err := p.claim(n, key); err != nil {
		return err
	}
	if err := parseValue(n.v.Field(f.index), raw); err != nil {
		shown := strconv.Quote(raw)
		if f.secret {
			shown = "(value hidden)"
		}
		return p.errorf("%sinvalid %s %s: %v", p.where(n), dotted, shown, err)
	}
	return nil
}

// open opens the group called name inside n. For an account group it also
// returns the new account.
func (p *parser) open(n *node, name string) (*node, *Account, error) {
	if name == "" {
		return nil, nil, p.errorf("missing group name before ':'")
	}
	if n.accounts {
		if err := checkAccountID(name); err != nil {
			return nil, nil, p.errorf("invalid account ID %q: %v", name, err)
		}
		if first, dup := n.seen[name]; dup {
			return nil, nil, p.errorf("account %s listed twice (first on line %d)", name, first)
		}
		n.seen[name] = p.line
		a := NewAccount(name)
		return &node{v: reflect.ValueOf(&a).Elem(), account: name, seen: map[string]int{}}, &a, nil
	}
	if n.root && name == "accounts" {
		if err := p.claim(n, name); err != nil {
			return nil, nil, err
		}
		return &node{accounts: true, path: "accounts", seen: map[string]int{}}, nil, nil
	}
	f, err := p.lookup(n, name)
	if err != nil {
		return nil, nil, err
	}
	dotted := p.dotted(n, name)
	if !f.group {
		return nil, nil, p.errorf("%s%s is a setting, not a group: write \"%s = value\"", p.where(n), dotted, name)
	}
	if err := p.claim(n, name); err != nil {
		return nil, nil, err
	}
	return &node{v: n.v.Field(f.index), account: n.account, path: dotted, seen: map[string]int{}}, nil, nil
}
