#!/usr/bin/python3
"""Runs the declarative command test cases of tests/cases (see README.md there).

    run.py fixtures DIR          make the shared fixtures (keys, cards, a real
                                 study, plain and sealed packages) in DIR
    run.py case FILE.txt FIXDIR WORKDIR
                                 run one case in WORKDIR, a fresh copy of FIXDIR

IEP_BIN (the build folder holding the iep-* commands) and IEP_SRC (the source
folder) must be set. Exit status 0 when the case passes (or, for a pending
case, fails as expected), 1 otherwise, 77 when it must be skipped.
"""

import json
import os
import re
import shlex
import shutil
import subprocess
import sys

CORPUS = "/usr/lib/python3/dist-packages/pydicom/data/test_files"
SKIP = 77


def die(msg):
    print(msg, file=sys.stderr)
    sys.exit(1)


def sh(cmd, cwd, env):
    r = subprocess.run(["bash", "-c", "set -euo pipefail\n" + cmd], cwd=cwd, env=env)
    if r.returncode != 0:
        die(f"fixture step failed (exit {r.returncode}): {cmd}")


def base_env(work):
    """A clean environment: nothing from the machine's or the user's iep setup."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("IEP_") and k not in ("XDG_CONFIG_HOME", "XDG_STATE_HOME")}
    env["PATH"] = os.environ["IEP_BIN"] + os.pathsep + env.get("PATH", "/usr/bin:/bin")
    env["IEP_BIN"] = os.environ["IEP_BIN"]
    env["IEP_SRC"] = os.environ["IEP_SRC"]
    env["CORPUS"] = CORPUS
    env["LC_ALL"] = "C"
    env["HOME"] = os.path.join(work, "home")
    env["TMPDIR"] = os.path.join(work, "tmp")
    env["IEP_SITES"] = os.path.join(work, "sites")
    env["WORK"] = work
    return env


FIXTURE_SCRIPT = r"""
mkdir -p keys sites home tmp
for s in a b c; do
  iep-keygen --site trust-$s -o keys/$s.id -c sites/trust-$s.card >/dev/null
  # The identity's signing key as a minisign secret key file (minisign -S -s).
  { echo "untrusted comment: trust-$s"; sed -n 's/^# iep-minisign-secret-key: //p' keys/$s.id; } > keys/$s.key
  chmod 600 keys/$s.key
done
/usr/bin/python3 "$IEP_SRC/tests/bench/make-study.py" study --slices 3 --size 64 >/dev/null
iep-pack -i keys/a.id -o plain.tar.zst study
iep-pack -i keys/a.id --no-compress -o plain.tar study
iep-send -i keys/a.id --to trust-b -o sealed.iep study
"""


def make_fixtures(dest):
    tmp = dest + ".new"
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.rmtree(dest, ignore_errors=True)
    os.makedirs(tmp)
    sh(FIXTURE_SCRIPT, tmp, base_env(tmp))
    shutil.rmtree(os.path.join(tmp, "tmp"))
    os.rename(tmp, dest)


# ---------------------------------------------------------------- parsing

class Case:
    def __init__(self, path):
        self.path = path
        self.name = os.path.basename(path)[:-4]
        self.steps = []      # (lineno, verb, negate, args)
        self.files = {}      # name -> text
        self.pending = None
        self.see = False
        with open(path, encoding="utf-8") as f:
            text = f.read()
        parts = re.split(r"^-- (\S+) --\n", text, flags=re.M)
        script = parts[0]
        for i in range(1, len(parts), 2):
            self.files[parts[i]] = parts[i + 1]
        for n, line in enumerate(script.splitlines(), 1):
            s = line.strip()
            if not s:
                continue
            if s.startswith("#"):
                if re.search(r"\b(iep[-a-z]*\(\d\)|README)", s):
                    self.see = True
                continue
            negate = False
            if s.startswith("! "):
                negate, s = True, s[2:].lstrip()
            verb, _, rest = s.partition(" ")
            rest = rest.strip()
            if verb == "pending":
                self.pending = rest or "pending"
                continue
            if verb not in VERBS:
                die(f"{path}:{n}: unknown verb '{verb}'")
            if negate and verb not in ("stdout", "stderr", "json"):
                die(f"{path}:{n}: '!' only negates stdout, stderr and json")
            self.steps.append((n, verb, negate, rest))
        if not self.see:
            die(f"{path}: no comment cites the documentation (a man page such as iep-verify(1), or README)")


def pattern(arg):
    """/regex/ or 'literal' (or a bare literal) -> (description, predicate)."""
    if len(arg) >= 2 and arg[0] == "/" and arg[-1] == "/":
        rx = re.compile(arg[1:-1], re.M)
        return arg, lambda t: rx.search(t) is not None
    if len(arg) >= 2 and arg[0] == arg[-1] and arg[0] in "'\"":
        arg = arg[1:-1]
    return repr(arg), lambda t: arg in t


def json_path(doc, path):
    """.a.b[0][-1] -> the value, or KeyError."""
    for key, idx in re.findall(r"\.([A-Za-z_][A-Za-z0-9_]*)|\[(-?\d+)\]", path):
        doc = doc[key] if key else doc[int(idx)]
    return doc


# ---------------------------------------------------------------- running

class Failed(Exception):
    pass


class Runner:
    def __init__(self, case, work):
        self.case = case
        self.work = work
        self.env = base_env(work)
        self.etc = None
        self.last = None     # (cmd, code, stdout bytes, stderr bytes)

    def text(self, which):
        b = self.last[2] if which == "stdout" else self.last[3]
        return b.decode("utf-8", "replace")

    def shell(self, cmd):
        argv = ["bash", "-c", "set -o pipefail\n" + cmd]
        if self.etc is not None:
            # A private mount namespace in which /etc is the real /etc with
            # an iep folder laid over it: the machine's /etc is never touched.
            up, wk = os.path.join(self.work, ".etc-up"), os.path.join(self.work, ".etc-wk")
            if not os.path.isdir(up):
                os.makedirs(wk)
                os.makedirs(up)
                os.symlink(self.etc, os.path.join(up, "iep"))
            mount = (f"mount -t overlay iep-case -o lowerdir=/etc,upperdir={shlex.quote(up)},"
                     f"workdir={shlex.quote(wk)} /etc || exit 125\n")
            argv = ["unshare", "--mount", "bash", "-c", mount + "set -o pipefail\n" + cmd]
        r = subprocess.run(argv, cwd=self.work, env=self.env, capture_output=True, timeout=300)
        return r.returncode, r.stdout, r.stderr

    def step(self, n, verb, negate, arg):
        where = f"{self.case.path}:{n}"
        if verb in ("ok", "fail"):
            want = 0
            if verb == "fail":
                code, _, arg = arg.partition(" ")
                if not code.isdigit() or int(code) == 0:
                    die(f"{where}: 'fail' needs an exit status, 1 to 255")
                want = int(code)
            code, out, err = self.shell(arg)
            self.last = (arg, code, out, err)
            print(f"> {arg}\n  exit {code}")
            for line in err.decode("utf-8", "replace").splitlines()[:5]:
                print(f"  stderr: {line}")
            if code == 125 and self.etc is not None:
                print(f"SKIP: cannot lay a private /etc/iep over /etc (needs root and overlayfs)")
                sys.exit(SKIP)
            if code != want:
                raise Failed(f"{where}: expected exit {want}, got {code}")
        elif verb in ("stdout", "stderr"):
            if self.last is None:
                die(f"{where}: {verb} before any command")
            desc, pred = pattern(arg)
            if pred(self.text(verb)) == negate:
                raise Failed(f"{where}: {verb} {'matches' if negate else 'does not match'} {desc}")
        elif verb == "json":
            m = re.fullmatch(r"(\.\S*)(?:\s*==\s*(.+))?", arg)
            if not m:
                die(f"{where}: json PATH [== VALUE]")
            try:
                doc = json.loads(self.last[2])
            except ValueError as e:
                raise Failed(f"{where}: stdout is not JSON: {e}")
            try:
                got = json_path(doc, m.group(1))
            except (KeyError, IndexError, TypeError):
                got = KeyError
            shown = "absent" if got is KeyError else json.dumps(got)
            if m.group(2) is None:
                if (got is not KeyError) == negate:
                    raise Failed(f"{where}: json {m.group(1)} is {shown}, "
                                 f"expected {'absent' if negate else 'present'}")
            else:
                want = json.loads(m.group(2))
                if (got is not KeyError and got == want) == negate:
                    raise Failed(f"{where}: json {m.group(1)} is {shown}, expected "
                                 f"{'not ' if negate else ''}{json.dumps(want)}")
        elif verb == "env":
            if arg.startswith("-u "):
                self.env.pop(arg[3:].strip(), None)
            else:
                name, eq, value = arg.partition("=")
                if not eq:
                    die(f"{where}: env NAME=VALUE or env -u NAME")
                self.env[name] = re.sub(r"\$(\w+)", lambda m: self.env.get(m.group(1), ""), value)
        elif verb == "etc-iep":
            self.etc = os.path.join(self.work, arg)
            os.makedirs(self.etc, exist_ok=True)

    def run(self):
        for name, text in self.case.files.items():
            p = os.path.join(self.work, name)
            os.makedirs(os.path.dirname(p), exist_ok=True)
            with open(p, "w", encoding="utf-8") as f:
                f.write(text)
        for n, verb, negate, arg in self.case.steps:
            self.step(n, verb, negate, arg)

    def show_last(self):
        if self.last is None:
            return
        for which in ("stdout", "stderr"):
            t = self.text(which)
            if t:
                print(f"[{which}]")
                print(t[:2000].rstrip("\n"))


def run_case(path, fixdir, work):
    case = Case(path)
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(fixdir, work, symlinks=True)
    os.makedirs(os.path.join(work, "tmp"), exist_ok=True)
    os.makedirs(os.path.join(work, "home"), exist_ok=True)
    r = Runner(case, work)
    try:
        r.run()
    except Failed as e:
        r.show_last()
        if case.pending:
            print(f"XFAIL {case.name}: {e}\n  expected to fail until {case.pending}")
            return 0
        print(f"FAIL {case.name}: {e}\n  (the case folder is kept: {work})")
        return 1
    except subprocess.TimeoutExpired as e:
        print(f"FAIL {case.name}: timed out: {e.cmd}")
        return 1
    if case.pending:
        print(f"XPASS {case.name}: passes although marked 'pending {case.pending}': "
              "remove the pending line")
        return 1
    shutil.rmtree(work, ignore_errors=True)
    print(f"PASS {case.name}")
    return 0


def main():
    for v in ("IEP_BIN", "IEP_SRC"):
        if v not in os.environ:
            die(f"{v} must be set")
    if len(sys.argv) == 3 and sys.argv[1] == "fixtures":
        make_fixtures(os.path.abspath(sys.argv[2]))
        return 0
    if len(sys.argv) == 5 and sys.argv[1] == "case":
        return run_case(os.path.abspath(sys.argv[2]), os.path.abspath(sys.argv[3]),
                        os.path.abspath(sys.argv[4]))
    die(__doc__)


VERBS = {"ok", "fail", "stdout", "stderr", "json", "env", "etc-iep"}

if __name__ == "__main__":
    sys.exit(main())
