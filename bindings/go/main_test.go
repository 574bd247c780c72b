// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT

package snapmap_test

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"snapmap.dev/snapmap"
)

// How the tests run:
//
//   - go test, or the test binary with arguments: as any Go test.  Without
//     /dev/snapmap (no module loaded, as on a build machine) only the Test
//     functions run, and those that need the module skip: the examples,
//     which cannot skip, need it.
//   - the test binary with no argument, as the QEMU rig runs every test
//     program: it runs itself with -test.v and reports in KTAP, as the
//     kselftest harness does, one result per top-level test or example,
//     so that scripts/check-results holds every case to
//     selftests/expectations.
func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) != "" {
		os.Exit(runHelper())
	}
	if len(os.Args) == 1 {
		os.Exit(runKTAP())
	}
	if _, err := os.Stat(snapmap.DevicePath); err != nil {
		flag.Set("test.run", "^Test")
	}
	os.Exit(m.Run())
}

// childEnv marks the test binary run by runKTAP.
const childEnv = "SNAPMAP_GO_TEST_CHILD"

// childTimeout is what the tests may take in all: a hang is reported, with
// every goroutine's stack, well within the rig's 600 s.
const childTimeout = "540s"

var (
	resultLine = regexp.MustCompile(`^--- (PASS|FAIL|SKIP): (\S+) \(`)
	logLine    = regexp.MustCompile(`^    \S+\.go:\d+: (.*)$`)
)

// runKTAP runs the tests in a child and reports them in KTAP: the plan
// (from -test.list), one result per top-level test as it ends, a "not ok"
// for each that never reported (the child crashed or timed out), and the
// harness's "# Totals:" line.  The child's own output goes along as
// comments.
func runKTAP() int {
	names, err := listTests()
	fmt.Println("TAP version 13")
	if err != nil {
		fmt.Printf("# listing the tests: %v\n", err)
		fmt.Println("1..0 # SKIP cannot list the tests")
		return 1
	}
	fmt.Printf("1..%d\n", len(names))
	planned := make(map[string]bool, len(names))
	for _, n := range names {
		planned[n] = true
	}

	cmd := exec.Command(os.Args[0], "-test.v", "-test.timeout", childTimeout)
	cmd.Env = append(os.Environ(), childEnv+"=1")
	// A child left behind by the rig's timeout would hold maps, and the
	// module could not be unloaded.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := cmd.StdoutPipe()
	if err != nil {
		fmt.Printf("# %v\n", err)
		return 1
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		fmt.Printf("# starting the tests: %v\n", err)
		return 1
	}

	n, pass, fail, skip := 0, 0, 0, 0
	reported := map[string]bool{}
	lastLog := ""
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		m := resultLine.FindStringSubmatch(line)
		if m == nil || !planned[m[2]] || reported[m[2]] {
			fmt.Printf("# %s\n", line)
			if l := logLine.FindStringSubmatch(line); l != nil {
				lastLog = l[1]
			}
			continue
		}
		name := m[2]
		reported[name] = true
		n++
		switch m[1] {
		case "PASS":
			pass++
			fmt.Printf("ok %d %s\n", n, name)
		case "SKIP":
			skip++
			fmt.Printf("ok %d %s # SKIP %s\n", n, name, lastLog)
		default:
			fail++
			fmt.Printf("not ok %d %s\n", n, name)
		}
		lastLog = ""
	}
	io.Copy(io.Discard, out)
	werr := cmd.Wait()
	if werr != nil {
		fmt.Printf("# the tests exited: %v\n", werr)
	}
	for _, name := range names {
		if !reported[name] {
			n++
			fail++
			fmt.Printf("not ok %d %s # did not report\n", n, name)
		}
	}
	fmt.Printf("# Totals: pass:%d fail:%d xfail:0 xpass:0 skip:%d error:0\n",
		pass, fail, skip)
	if fail > 0 || werr != nil {
		return 1
	}
	return 0
}

// listTests lists the top-level tests and examples, in the order they
// run.
func listTests() ([]string, error) {
	cmd := exec.Command(os.Args[0], "-test.list", ".")
	cmd.Env = append(os.Environ(), childEnv+"=1")
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, err
	}
	var names []string
	for _, l := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(l, "Test") || strings.HasPrefix(l, "Example") {
			names = append(names, l)
		}
	}
	return names, nil
}
