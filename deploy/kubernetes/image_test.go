package kubernetes_test

// The container image: deploy/docker/Dockerfile builds hearth with one go
// build command. Docker does not run here, so the tests run that very
// command (read from the Dockerfile) and check what it makes, and check the
// rest of the Dockerfile by reading it. The binary is then the one the
// manifests' flags are checked against and the one the loopback install
// runs.

import (
	"bytes"
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// dockerBuild is the build command of deploy/docker/Dockerfile, word for
// word.
const dockerBuild = `CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /hearth ./cmd/hearth`

var (
	hearthOnce sync.Once
	hearthBin  string
	hearthErr  error
	hearthDir  string // removed by TestMain
)

func TestMain(m *testing.M) {
	code := m.Run()
	if hearthDir != "" {
		os.RemoveAll(hearthDir)
	}
	os.Exit(code)
}

// repoRoot is the module's root, two levels up from this package.
func repoRoot(t testing.TB) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("no go.mod at %s: %v", root, err)
	}
	return root
}

// dockerfile is an instruction of a Dockerfile: its keyword (upper case)
// and its arguments, continuation lines joined.
type dockerfile struct {
	keyword, args string
	line          int
}

func parseDockerfile(t testing.TB, path string) []dockerfile {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []dockerfile
	var cur strings.Builder
	start := 0
	for i, line := range strings.Split(string(data), "\n") {
		trimmed := strings.TrimSpace(line)
		if cur.Len() == 0 && (trimmed == "" || strings.HasPrefix(trimmed, "#")) {
			continue
		}
		if cur.Len() == 0 {
			start = i + 1
		}
		if strings.HasSuffix(trimmed, `\`) {
			cur.WriteString(strings.TrimSuffix(trimmed, `\`) + " ")
			continue
		}
		cur.WriteString(trimmed)
		keyword, args, _ := strings.Cut(cur.String(), " ")
		out = append(out, dockerfile{strings.ToUpper(keyword), strings.Join(strings.Fields(args), " "), start})
		cur.Reset()
	}
	return out
}

// shellWords splits a command line as sh would for these commands: words
// separated by blanks, double quotes grouping (and removed).
func shellWords(s string) ([]string, error) {
	var words []string
	var w strings.Builder
	inWord, quoted := false, false
	for _, r := range s {
		switch {
		case r == '"':
			quoted, inWord = !quoted, true
		case (r == ' ' || r == '\t') && !quoted:
			if inWord {
				words = append(words, w.String())
				w.Reset()
				inWord = false
			}
		case strings.ContainsRune(`'\$;&|<>`+"`", r):
			return nil, fmt.Errorf("%q: %c is not handled here", s, r)
		default:
			w.WriteRune(r)
			inWord = true
		}
	}
	if quoted {
		return nil, fmt.Errorf("%q: unterminated quote", s)
	}
	if inWord {
		words = append(words, w.String())
	}
	return words, nil
}

// dockerfileBuild returns the Dockerfile's go build command: its
// environment assignments and the go command's words.
func dockerfileBuild(t testing.TB) (env, argv []string) {
	t.Helper()
	var runs []string
	for _, ins := range parseDockerfile(t, filepath.Join(repoRoot(t), "deploy/docker/Dockerfile")) {
		if ins.keyword == "RUN" && strings.Contains(ins.args, "go build") {
			runs = append(runs, ins.args)
		}
	}
	if len(runs) != 1 {
		t.Fatalf("the Dockerfile has %d RUN lines with go build, want 1: %q", len(runs), runs)
	}
	if runs[0] != dockerBuild {
		t.Fatalf("the Dockerfile builds with\n\t%s\nwant\n\t%s", runs[0], dockerBuild)
	}
	words, err := shellWords(runs[0])
	if err != nil {
		t.Fatal(err)
	}
	for len(words) > 0 && regexp.MustCompile(`^[A-Z_]+=`).MatchString(words[0]) {
		env, words = append(env, words[0]), words[1:]
	}
	return env, words
}

// hearth builds hearth once per test binary with the Dockerfile's command,
// -o pointing into a temporary directory instead of /hearth.
func hearth(t testing.TB) string {
	t.Helper()
	hearthOnce.Do(func() {
		env, argv := dockerfileBuild(t)
		i := slices.Index(argv, "-o")
		if i < 0 || i+1 >= len(argv) || argv[i+1] != "/hearth" {
			hearthErr = fmt.Errorf("no -o /hearth in %q", argv)
			return
		}
		if hearthDir, hearthErr = os.MkdirTemp("", "hearth-image-"); hearthErr != nil {
			return
		}
		argv = slices.Clone(argv)
		argv[i+1] = filepath.Join(hearthDir, "hearth")
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Dir = repoRoot(t)
		cmd.Env = append(os.Environ(), env...)
		if out, err := cmd.CombinedOutput(); err != nil {
			hearthErr = fmt.Errorf("%s %s: %v\n%s", strings.Join(env, " "), strings.Join(argv, " "), err, out)
			return
		}
		hearthBin = argv[i+1]
	})
	if hearthErr != nil {
		t.Fatal(hearthErr)
	}
	return hearthBin
}

// TestImageBinaryIsStatic builds hearth as the image does and checks that
// the result needs nothing of the image: no dynamic loader, no shared
// libraries, no symbol or DWARF tables (-s -w), no paths of this machine
// (-trimpath), and that it runs.
func TestImageBinaryIsStatic(t *testing.T) {
	bin := hearth(t)
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("program header %v: the binary is not static", p.Type)
		}
	}
	if libs, err := f.ImportedLibraries(); err != nil {
		t.Error(err)
	} else if len(libs) > 0 {
		t.Errorf("DT_NEEDED %q: the binary needs shared libraries", libs)
	}
	for _, s := range f.Sections {
		if s.Name == ".symtab" || s.Name == ".interp" || s.Name == ".dynamic" || strings.HasPrefix(s.Name, ".debug_") || strings.HasPrefix(s.Name, ".zdebug_") {
			t.Errorf("section %s: want a stripped static binary (-s -w)", s.Name)
		}
	}
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	if root := repoRoot(t); bytes.Contains(data, []byte(root+"/")) {
		t.Errorf("the binary holds the path %s: built without -trimpath?", root)
	}

	out, err := exec.Command(bin, "--help").CombinedOutput()
	if err != nil {
		t.Fatalf("hearth --help: %v\n%s", err, out)
	}
	// The two roles the manifests run are commands of the binary.
	for _, role := range []string{"gateway", "runner"} {
		if !regexp.MustCompile(`(?m)^\s+` + role + `\s`).Match(out) {
			t.Errorf("hearth --help lists no %q command:\n%s", role, out)
		}
	}
}

// imageUser is the uid and gid the image's final stage runs as.
func imageUser(t testing.TB) (uid, gid int64) {
	t.Helper()
	var stages [][]dockerfile
	for _, ins := range parseDockerfile(t, filepath.Join(repoRoot(t), "deploy/docker/Dockerfile")) {
		if ins.keyword == "FROM" {
			stages = append(stages, nil)
		}
		if len(stages) == 0 {
			if ins.keyword != "ARG" {
				t.Fatalf("line %d: %s before the first FROM", ins.line, ins.keyword)
			}
			continue
		}
		stages[len(stages)-1] = append(stages[len(stages)-1], ins)
	}
	if len(stages) == 0 {
		t.Fatal("no FROM in the Dockerfile")
	}
	user := ""
	for _, ins := range stages[len(stages)-1] {
		if ins.keyword == "USER" {
			user = ins.args
		}
	}
	u, g, _ := strings.Cut(user, ":")
	uid, err := strconv.ParseInt(u, 10, 64)
	if err != nil {
		t.Fatalf("the final stage's USER %q is not numeric: Kubernetes' runAsNonRoot can only check a numeric user", user)
	}
	gid = uid
	if g != "" {
		if gid, err = strconv.ParseInt(g, 10, 64); err != nil {
			t.Fatalf("USER %q: group is not numeric", user)
		}
	}
	return uid, gid
}

// TestDockerfile reads deploy/docker/Dockerfile: a golang:1.26 build stage
// running dockerBuild (checked by dockerfileBuild), then a distroless
// static nonroot stage that copies only the binary, runs as a numeric
// non-root user and starts /hearth.
func TestDockerfile(t *testing.T) {
	dockerfileBuild(t)
	ins := parseDockerfile(t, filepath.Join(repoRoot(t), "deploy/docker/Dockerfile"))
	var froms []string
	last := 0
	for i, in := range ins {
		if in.keyword == "FROM" {
			froms = append(froms, in.args)
			last = i
		}
	}
	if len(froms) != 2 {
		t.Fatalf("stages %q: want a build stage and a final stage", froms)
	}
	if froms[0] != "golang:1.26 AS build" {
		t.Errorf("build stage %q, want golang:1.26 AS build", froms[0])
	}
	if froms[1] != "gcr.io/distroless/static-debian12:nonroot" {
		t.Errorf("final stage %q, want gcr.io/distroless/static-debian12:nonroot", froms[1])
	}
	var final []string
	for _, in := range ins[last+1:] {
		final = append(final, in.keyword+" "+in.args)
	}
	want := []string{"COPY --from=build /hearth /hearth", "USER 65532:65532", `ENTRYPOINT ["/hearth"]`}
	if !slices.Equal(final, want) {
		t.Errorf("final stage:\n\t%s\nwant\n\t%s", strings.Join(final, "\n\t"), strings.Join(want, "\n\t"))
	}
	if uid, gid := imageUser(t); uid == 0 || gid == 0 {
		t.Errorf("the image runs as %d:%d, want a non-root user and group", uid, gid)
	}
}

// helpFlags runs `hearth ROLE -h` and returns its flags, each with whether
// it takes a value, and the text, in which the environment variables the
// role reads are named.
func helpFlags(t testing.TB, role string) (flags map[string]bool, text string) {
	t.Helper()
	out, err := exec.Command(hearth(t), role, "-h").CombinedOutput()
	if err != nil {
		t.Fatalf("hearth %s -h: %v\n%s", role, err, out)
	}
	flags = map[string]bool{}
	re := regexp.MustCompile(`(?m)^ +(?:-[A-Za-z0-9], )?--([A-Za-z0-9][A-Za-z0-9-]*)(?: (\S+))?`)
	for _, m := range re.FindAllStringSubmatch(string(out), -1) {
		flags[m[1]] = m[2] != ""
	}
	if len(flags) < 5 {
		t.Fatalf("hearth %s -h: found only %d flags in:\n%s", role, len(flags), out)
	}
	return flags, string(out)
}
