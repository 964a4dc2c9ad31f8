package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"testing"

	"github.com/sipstreams/sipstreams/framework/session"
)

// TestListenerNames: every notification name listener.handle and
// console.observe switch on is among listenerNames, the names their
// subscription takes (a name left out would never reach them).
func TestListenerNames(t *testing.T) {
	values := map[string]string{ // the session package's names, by identifier
		"SIPSessionNewIncoming": session.SIPSessionNewIncoming, "SIPSessionNewProposal": session.SIPSessionNewProposal,
		"SIPSessionDidStart": session.SIPSessionDidStart, "SIPSessionNewOutgoing": session.SIPSessionNewOutgoing,
		"SIPSessionTransferNewIncoming": session.SIPSessionTransferNewIncoming, "SIPSessionTransferDidEnd": session.SIPSessionTransferDidEnd,
		"SIPSessionTransferDidFail": session.SIPSessionTransferDidFail, "SIPSessionDidEnd": session.SIPSessionDidEnd,
		"SIPSessionDidFail": session.SIPSessionDidFail,
	}
	found := 0
	fset := token.NewFileSet()
	for file, fn := range map[string]string{"listen.go": "handle", "sessions.go": "observe"} {
		f, err := parser.ParseFile(fset, file, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Name.Name != fn || fd.Recv == nil {
				continue
			}
			ast.Inspect(fd.Body, func(n ast.Node) bool {
				sw, ok := n.(*ast.SwitchStmt)
				if !ok {
					return true
				}
				if sel, ok := sw.Tag.(*ast.SelectorExpr); !ok || sel.Sel.Name != "Name" {
					return true
				}
				for _, st := range sw.Body.List {
					for _, e := range st.(*ast.CaseClause).List {
						sel, ok := e.(*ast.SelectorExpr)
						if !ok {
							t.Errorf("%s: case %T is not a session.Name", fn, e)
							continue
						}
						found++
						v, known := values[sel.Sel.Name]
						if !known || !listenerNames[v] {
							t.Errorf("%s switches on %s, which listenerNames lacks", fn, sel.Sel.Name)
						}
					}
				}
				return true
			})
		}
	}
	if found < len(values) {
		t.Errorf("found %d cases, want at least %d: the switches moved?", found, len(values))
	}
}
