// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT

// Command doccheck lists the exported names of a Go package's files (not
// its tests) that have no doc comment: functions, methods, types, struct
// fields, constants and variables.  A name in a group (a const or var
// block, a list of fields) is documented by the group's comment or its
// own.  It exits 1 if it listed any.  scripts/static-checks runs it on
// the package, which documents every exported name.
//
// Usage:
//
//	go run ./internal/doccheck DIR...
package main

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"strings"
)

func main() {
	missing := 0
	for _, dir := range os.Args[1:] {
		n, err := check(dir)
		if err != nil {
			fmt.Fprintln(os.Stderr, "doccheck:", err)
			os.Exit(2)
		}
		missing += n
	}
	if missing > 0 {
		os.Exit(1)
	}
}

func check(dir string) (int, error) {
	fset := token.NewFileSet()
	notTest := func(fi fs.FileInfo) bool { return !strings.HasSuffix(fi.Name(), "_test.go") }
	pkgs, err := parser.ParseDir(fset, dir, notTest, parser.ParseComments)
	if err != nil {
		return 0, err
	}
	missing := 0
	say := func(pos token.Pos, what string) {
		fmt.Printf("%s: %s has no doc comment\n", fset.Position(pos), what)
		missing++
	}
	for _, pkg := range pkgs {
		for _, f := range pkg.Files {
			for _, decl := range f.Decls {
				switch d := decl.(type) {
				case *ast.FuncDecl:
					if d.Name.IsExported() && d.Doc == nil && exportedRecv(d) {
						say(d.Pos(), d.Name.Name)
					}
				case *ast.GenDecl:
					for _, spec := range d.Specs {
						checkSpec(spec, d.Doc != nil, say)
					}
				}
			}
		}
	}
	return missing, nil
}

// exportedRecv tells whether a method's receiver type is exported (or d is
// a function): methods of unexported types are not in the godoc.
func exportedRecv(d *ast.FuncDecl) bool {
	if d.Recv == nil || len(d.Recv.List) == 0 {
		return true
	}
	t := d.Recv.List[0].Type
	if s, ok := t.(*ast.StarExpr); ok {
		t = s.X
	}
	id, ok := t.(*ast.Ident)
	return !ok || id.IsExported()
}

func checkSpec(spec ast.Spec, groupDoc bool, say func(token.Pos, string)) {
	switch s := spec.(type) {
	case *ast.TypeSpec:
		if !s.Name.IsExported() {
			return
		}
		if !groupDoc && s.Doc == nil {
			say(s.Pos(), s.Name.Name)
		}
		if st, ok := s.Type.(*ast.StructType); ok {
			for _, fl := range st.Fields.List {
				for _, n := range fl.Names {
					if n.IsExported() && fl.Doc == nil && fl.Comment == nil {
						say(n.Pos(), s.Name.Name+"."+n.Name)
					}
				}
			}
		}
	case *ast.ValueSpec:
		for _, n := range s.Names {
			if n.IsExported() && !groupDoc && s.Doc == nil && s.Comment == nil {
				say(n.Pos(), n.Name)
			}
		}
	}
}
