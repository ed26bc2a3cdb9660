#!/usr/bin/env python3
"""Runs xeus-cling notebooks (kernelspec xcpp11/14/17) cell by cell through clang-repl-19.

    python3 tools/run_notebooks.py [--build-dir build] [--out DIR] [NOTEBOOK.ipynb ...]

One clang-repl process per notebook, started in the notebook's folder as a Jupyter kernel would
be. Each code cell is written to a file and fed as one `#include "cell_N.cpp"` input, because
clang-repl reads stdin line by line. The `#pragma cling` lines, which clang-repl ignores, are
carried out by the runner, in cells and in the headers that cells include:
  add_include_path("d")   pre-scanned: clang-repl cannot add include dirs at run time, so every
                          path becomes a -I flag at start-up;
  add_library_path("d")   remembered, in cell order;
  load("libX")            resolved as cling does (the library dirs, then the system ones) and
                          dlopen'ed RTLD_NOW|RTLD_GLOBAL in an input of its own before the cell.
libtapeflow is looked up in --build-dir first, so a notebook loads the library just built.

A cell fails on a compile or JIT error (detected from clang-repl's stderr, since its exit code is
0 in stdin mode), when the interpreter dies, or on timeout. A notebook stops at its first failing
cell: after an error clang-repl's session can be poisoned (llvm/llvm-project#106833), so later
cells would fail for no reason of their own. The executed notebook (stream outputs and execution
counts) is validated with nbformat through /usr/bin/python3 and written to --out if given.

The last line is `N passed, N failed`, counting cells; `failed` also counts notebook-level
failures (interpreter missing, crash at exit, invalid notebook), so it is non-zero whenever the
exit code is. Stdlib only.
"""

import argparse
import glob
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SYSTEM_LIB_DIRS = ["/usr/local/lib/x86_64-linux-gnu", "/usr/local/lib", "/lib/x86_64-linux-gnu",
                   "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64", "/lib", "/usr/lib"]
NBFORMAT_PYTHON = "/usr/bin/python3"

PRAGMA_RX = re.compile(r'^\s*#\s*pragma\s+cling\s+(\w+)\s*\(\s*"([^"]*)"\s*\)')
INCLUDE_RX = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')
# A clang diagnostic (`file:L:C: error:`, `error: Parsing failed.`) or an ORC JIT failure.
ERROR_RX = re.compile(r'^(?:\S+:\d+:\d+: )?(?:fatal )?error: |JIT session error', re.M)
# The caret lines clang prints under a diagnostic: "    1 | code" and "      |  ^".
SNIPPET_RX = r'(?:[ \t]*\d*[ \t]*\|[^\n]*\n)*'
# The include chain through which every cell reaches clang: noise in a report.
FEED_RX = re.compile(r'^In file included from (?:<<< inputs >>>|input_line_\d+):\d+:\n', re.M)

# Defined in the session before the first cell: a dlopen wrapper and the end-of-cell marker.
PRELUDE = r"""#include <cstdio>
#include <dlfcn.h>
#include <iostream>
int nbrun_load(const char* path) {
  if (dlopen(path, RTLD_NOW | RTLD_GLOBAL) != nullptr) return 0;
  std::fprintf(stderr, "error: cannot load %s: %s\n", path, dlerror());
  return 1;
}
void nbrun_mark(const char* marker) {
  std::cout.flush();
  std::cerr.flush();
  std::fflush(stdout);
  std::fputs(marker, stdout);
  std::fflush(stdout);
  std::fputs(marker, stderr);
}
// Line-buffered, so that what a cell printed before a crash still reaches the notebook.
std::setvbuf(stdout, nullptr, _IOLBF, BUFSIZ);
"""


def expand_env(text):
    """Replaces $NAME (up to the next '/') with the environment's value, as cling's pragmas do."""
    def repl(m):
        return os.environ.get(m.group(1), "")
    return re.sub(r'\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?', repl, text)


class Stream:
    """Collects one pipe of the interpreter in a background thread."""

    def __init__(self, pipe, cond):
        self.data = b""
        self.closed = False
        self._pipe = pipe
        self._cond = cond
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self):
        fd = self._pipe.fileno()
        while True:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                chunk = b""
            with self._cond:
                if chunk:
                    self.data += chunk
                else:
                    self.closed = True
                self._cond.notify_all()
            if not chunk:
                return

    def join(self, timeout):
        self._thread.join(timeout)


class CellFailure(Exception):
    pass


class Session:
    """One clang-repl process."""

    def __init__(self, args, std, include_dirs, nb_dir, workdir):
        self.workdir = workdir
        self.token = secrets.token_hex(6)
        cmd = [args.clang_repl]
        for flag in ["-std=" + std, "-fno-relaxed-template-template-args",
                     "-Wno-deprecated-no-relaxed-template-template-args", "-O" + args.opt,
                     "-iquote" + nb_dir] + ["-I" + d for d in include_dirs] + args.xcc:
            cmd += ["-Xcc", flag]
        self.cmd = cmd
        self.cond = threading.Condition()
        env = dict(os.environ)
        env.setdefault("OPENBLAS_NUM_THREADS", "1")
        self.proc = subprocess.Popen(cmd, cwd=nb_dir, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env=env)
        self.out = Stream(self.proc.stdout, self.cond)
        self.err = Stream(self.proc.stderr, self.cond)
        self.out_pos = 0
        self.err_pos = 0
        self.inputs = 0

    def send(self, line):
        self.proc.stdin.write((line + "\n").encode())
        self.proc.stdin.flush()

    def send_file(self, name, text):
        path = os.path.join(self.workdir, name)
        with open(path, "w") as f:
            f.write(text)
            if not text.endswith("\n"):
                f.write("\n")
        self.send('#include "%s"' % path)

    def run(self, name, text, loads, timeout):
        """Feeds one cell after its library loads; returns (stdout, stderr); raises CellFailure."""
        self.inputs += 1
        marker = "\x1fnbrun-%s-%d\x1f" % (self.token, self.inputs)
        warn = "NBRUN-%s-%d" % (self.token, self.inputs)
        try:
            for lib in loads:
                self.send('nbrun_load("%s");' % lib.replace("\\", "\\\\").replace('"', '\\"'))
            if text is not None:
                self.send_file(name, text)
            # Clang prints the #warning once the input before it has run, even when the JIT is
            # broken; nbrun_mark then flushes the cell's stdout and closes both slices.
            self.send("#warning " + warn)
            self.send('nbrun_mark("%s");' % marker.replace("\x1f", "\\x1f"))
        except (BrokenPipeError, OSError):
            pass
        warn_rx = re.compile(r'(?:In file included from [^\n]*\n)*[^\n]*warning: ' + warn +
                             r'[^\n]*\n' + SNIPPET_RX)
        deadline = time.monotonic() + timeout
        bmarker = marker.encode()
        failure = None
        with self.cond:
            while True:
                out = self.out.data[self.out_pos:]
                err = self.err.data[self.err_pos:]
                done = bmarker in out and bmarker in err
                if done:
                    break
                text_err = err.decode(errors="replace")
                warned = re.search(warn, text_err)
                if warned and ERROR_RX.search(text_err):
                    # The cell failed; give the rest of the diagnostic a moment to arrive.
                    self.cond.wait(0.3)
                    failure = "error"
                    break
                if self.out.closed and self.err.closed:
                    failure = "died"
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    failure = "timeout"
                    break
                self.cond.wait(min(remaining, 1.0))
            out = self.out.data[self.out_pos:]
            err = self.err.data[self.err_pos:]
        out_text = out.decode(errors="replace")
        err_text = err.decode(errors="replace")
        if marker in out_text:
            out_text = out_text[:out_text.index(marker)]
            self.out_pos += len(out.split(bmarker)[0]) + len(bmarker)
        if marker in err_text:
            self.err_pos += len(err.split(bmarker)[0]) + len(bmarker)
            err_text = err_text[:err_text.index(marker)]
        err_text = warn_rx.sub("", err_text)
        # A leftover slice of the marker warning (a failure that stopped reading early).
        err_text = re.sub(r'(?:In file included from [^\n]*\n)*[^\n]*warning: ' + warn + r'.*', "",
                          err_text, flags=re.S)
        err_text = FEED_RX.sub("", err_text.replace(self.workdir + os.sep, ""))
        if failure is None and ERROR_RX.search(err_text):
            failure = "error"
        if failure == "died":
            rc = self.proc.wait()
            raise CellFailure(describe_exit(rc), out_text, err_text)
        if failure == "timeout":
            raise CellFailure("timed out after %gs" % timeout, out_text, err_text)
        if failure == "error":
            raise CellFailure(error_summary(err_text), out_text, err_text)
        return out_text, err_text

    def close(self, timeout):
        """Ends the session; returns clang-repl's exit code (None if it had to be killed) and
    whatever it printed after the last cell."""
        try:
            self.send("%quit")
            self.proc.stdin.close()
        except (BrokenPipeError, OSError):
            pass
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            rc = None
        self.out.join(5)
        self.err.join(5)
        tail = self.out.data[self.out_pos:] + self.err.data[self.err_pos:]
        return rc, tail.decode(errors="replace").strip()

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def describe_exit(rc):
    if rc is not None and rc < 0:
        try:
            name = signal.Signals(-rc).name
        except ValueError:
            name = "signal %d" % -rc
        return "clang-repl died with %s (exit code %d)" % (name, 128 - rc)
    return "clang-repl exited with code %s" % rc


def error_summary(err_text):
    lines = [l for l in err_text.splitlines() if ERROR_RX.search(l)]
    first = lines[0] if lines else err_text.strip().splitlines()[0]
    return first if len(first) <= 300 else first[:300] + " ..."


def clip(text, limit=4000):
    """The error text as reported: JIT symbol lists can run to tens of KB."""
    lines = [l if len(l) <= 600 else l[:600] + " ..." for l in text.splitlines()]
    text = "\n".join(lines)
    return text if len(text) <= limit else text[:limit] + "\n... (%d more characters)" % (
        len(text) - limit)


def kernel_std(nb):
    spec = nb.get("metadata", {}).get("kernelspec", {})
    name = spec.get("name", "")
    m = re.fullmatch(r'(?:xcpp|xeus-cling-cpp)(11|14|17|20|23)', name)
    if m:
        return "c++" + m.group(1), None
    return "c++17", "kernelspec %r is not a xeus-cling C++ kernel; using -std=c++17" % name


def find_library(name, lib_dirs):
    """cling's lookup for load("name"): an absolute path as is, else each dir in order with the
  name, name.so, then name.so.* (highest version first)."""
    if os.path.isabs(name):
        candidates_dirs = [os.path.dirname(name)]
        name = os.path.basename(name)
    else:
        candidates_dirs = lib_dirs + SYSTEM_LIB_DIRS
    for d in candidates_dirs:
        for cand in (name, name + ".so"):
            p = os.path.join(d, cand)
            if os.path.isfile(p):
                return os.path.abspath(p)
        versioned = sorted(glob.glob(os.path.join(glob.escape(d), glob.escape(name) + ".so.*")),
                           key=lambda p: [int(x) if x.isdigit() else 0
                                          for x in p.rsplit(".so.", 1)[1].split(".")], reverse=True)
        if versioned:
            return os.path.abspath(versioned[0])
    return None


def resolve_header(name, quoted, nb_dir, include_dirs):
    for d in ([nb_dir] if quoted else []) + include_dirs:
        p = os.path.join(d, name)
        if os.path.isfile(p):
            return p
    return None


def header_pragmas(path, cache):
    """The `#pragma cling` commands in a header a cell includes (one level, as written)."""
    if path not in cache:
        found = []
        try:
            with open(path, errors="replace") as f:
                for line in f:
                    m = PRAGMA_RX.match(line)
                    if m:
                        found.append((m.group(1), expand_env(m.group(2))))
        except OSError:
            pass
        cache[path] = found
    return cache[path]


def cell_source(cell):
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def split_lines(text):
    """Text as nbformat stores it: a list of lines, each ending in its newline."""
    return text.splitlines(keepends=True)


class NotebookResult:
    def __init__(self, path):
        self.path = path
        self.passed = 0
        self.failed = 0
        self.not_run = 0
        self.messages = []
        self.seconds = 0.0


def run_notebook(path, args, base_includes, base_lib_dirs, report):
    res = NotebookResult(path)
    t0 = time.monotonic()
    try:
        with open(path) as f:
            nb = json.load(f)
    except (OSError, ValueError) as e:
        res.failed += 1
        res.messages.append("cannot read notebook: %s" % e)
        return res, None
    nb_dir = os.path.dirname(os.path.abspath(path))
    std, warning = kernel_std(nb)
    if warning:
        report("  warning: " + warning)

    cells = nb.get("cells", [])
    code_cells = [(i, c) for i, c in enumerate(cells)
                  if c.get("cell_type") == "code" and cell_source(c).strip()]

    # add_include_path is pre-scanned over every cell: clang-repl takes include dirs only at start.
    include_dirs = list(base_includes)
    for _, c in code_cells:
        for line in cell_source(c).splitlines():
            m = PRAGMA_RX.match(line)
            if m and m.group(1) == "add_include_path":
                d = os.path.normpath(os.path.join(nb_dir, expand_env(m.group(2))))
                if d not in include_dirs:
                    include_dirs.append(d)

    for c in cells:
        if c.get("cell_type") == "code":
            c["outputs"] = []
            c["execution_count"] = None

    workdir = tempfile.mkdtemp(prefix="nbrun-")
    session = None
    try:
        try:
            session = Session(args, std, include_dirs, nb_dir, workdir)
            session.send_file("nbrun_prelude.cpp", PRELUDE)
            session.run("", None, [], args.timeout)
        except (OSError, CellFailure) as e:
            res.failed += 1
            msg = e.args[0] if isinstance(e, CellFailure) else str(e)
            detail = e.args[2] if isinstance(e, CellFailure) else ""
            res.messages.append("cannot start clang-repl (%s): %s\n%s" % (args.clang_repl, msg,
                                                                           clip(detail)))
            res.not_run = len(code_cells)
            return res, nb

        lib_dirs = list(base_lib_dirs)
        header_cache = {}
        loaded = set()
        execution_count = 0
        for pos, (index, cell) in enumerate(code_cells):
            number = index + 1  # cells are numbered as Jupyter shows them, markdown included
            src = cell_source(cell)
            loads = []
            body = []
            problem = None

            def do_pragma(cmd, arg, where):
                if cmd == "add_library_path":
                    d = os.path.normpath(os.path.join(nb_dir, arg))
                    if d not in lib_dirs:
                        lib_dirs.append(d)
                elif cmd == "load":
                    lib = find_library(arg, lib_dirs)
                    if lib is None:
                        return "%s: #pragma cling load(\"%s\"): library not found in %s" % (
                            where, arg, ", ".join(lib_dirs + SYSTEM_LIB_DIRS))
                    if lib not in loaded:
                        loaded.add(lib)
                        loads.append(lib)
                elif cmd != "add_include_path":
                    return "%s: unsupported #pragma cling %s" % (where, cmd)
                return None

            for lineno, line in enumerate(src.splitlines(), 1):
                m = PRAGMA_RX.match(line)
                if m:
                    problem = problem or do_pragma(m.group(1), expand_env(m.group(2)),
                                                   "cell %d line %d" % (number, lineno))
                    body.append("// " + line.strip() + "  (done by run_notebooks.py)")
                    continue
                if re.match(r'^\s*#\s*pragma\s+cling\b', line):
                    problem = problem or "cell %d line %d: malformed #pragma cling" % (number,
                                                                                    lineno)
                if re.match(r'^\s*[%?!]', line):
                    problem = problem or ("cell %d line %d: `%s` is a xeus-cling magic, which "
                                          "clang-repl does not have" % (number, lineno,
                                                                        line.strip()))
                inc = INCLUDE_RX.match(line)
                if inc:
                    if inc.group(2).startswith("xtensor-blas/"):
                        # What xtensor-blas's cling config header would load.
                        for lib in ("libblas", "liblapack"):
                            problem = problem or do_pragma("load", lib, "cell %d" % number)
                    header = resolve_header(inc.group(2), inc.group(1) == '"', nb_dir, include_dirs)
                    if header:
                        for cmd, arg in header_pragmas(header, header_cache):
                            if cmd == "add_include_path":
                                continue  # the header was found: its include dirs are in place
                            where = os.path.relpath(header, nb_dir)
                            problem = problem or do_pragma(cmd, arg, where)
                body.append(line)
            last = [re.sub(r'\s*//.*$', "", l) for l in src.splitlines()]
            last = [l for l in last if l.strip() and not l.strip().startswith("#")]
            if last and not last[-1].rstrip().endswith((";", "}", "{")):
                report("  note: cell %d ends in an expression without `;`: clang-repl does not "
                       "display values (print with std::cout)" % number)

            t_cell = time.monotonic()
            if problem:
                res.failed += 1
                res.not_run = len(code_cells) - pos - 1
                res.messages.append("cell %d FAILED: %s" % (number, problem))
                cell["outputs"] = [stream("stderr", problem + "\n")]
                break
            execution_count += 1
            cell["execution_count"] = execution_count
            failed = False
            # With --rerun the cell runs again at once, as a user re-running it would: a cell that
            # defines something unguarded, or trips clang-repl on a re-run, fails here.
            for attempt in range(1 + args.rerun):
                try:
                    out, err = session.run("cell_%d.cpp" % number, "\n".join(body),
                                           loads if attempt == 0 else [], args.timeout)
                except CellFailure as e:
                    what, out, err = e.args
                    res.failed += 1
                    res.not_run = len(code_cells) - pos - 1
                    again = " on re-run %d" % attempt if attempt else ""
                    res.messages.append("cell %d FAILED%s (%.1fs): %s%s" % (
                        number, again, time.monotonic() - t_cell, what,
                        ("\n" + indent(clip(err.strip()))) if err.strip() else ""))
                    outputs = []
                    if out:
                        outputs.append(stream("stdout", out))
                    text = clip(err.strip(), 20000) if err.strip() else what
                    outputs.append(stream("stderr", text + again + "\n"))
                    cell["outputs"] = outputs
                    session.kill()
                    failed = True
                    break
                if attempt == 0:
                    outputs = []
                    if out:
                        outputs.append(stream("stdout", out))
                    if err:
                        outputs.append(stream("stderr", err))
                    cell["outputs"] = outputs
            if failed:
                break
            res.passed += 1
            if args.verbose:
                report("  cell %d ok (%.2fs)" % (number, time.monotonic() - t_cell))
        if session.proc.poll() is None or res.failed == 0:
            rc, tail = session.close(args.timeout)
            if res.failed == 0 and rc != 0:
                res.failed += 1
                res.messages.append("%s after the last cell%s" % (
                    describe_exit(rc) if rc is not None else "clang-repl did not exit",
                    (":\n" + indent(clip(tail))) if tail else ""))
    finally:
        if session:
            session.kill()
        if not args.keep_temp:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            report("  cell files kept in " + workdir)
        res.seconds = time.monotonic() - t0
    return res, nb


def stream(name, text):
    return {"name": name, "output_type": "stream", "text": split_lines(text)}


def indent(text):
    return "\n".join("    " + l for l in text.splitlines())


def validate(paths):
    """Validates written notebooks with nbformat (Debian's python3-nbformat, for /usr/bin/python3);
  returns {path: error} for the invalid ones, or raises RuntimeError when nbformat is missing."""
    code = ("import json, sys\n"
            "try:\n"
            "    import nbformat\n"
            "except ImportError:\n"
            "    print('NO-NBFORMAT'); sys.exit(3)\n"
            "bad = {}\n"
            "for p in sys.argv[1:]:\n"
            "    try:\n"
            "        nbformat.validate(nbformat.read(p, as_version=nbformat.NO_CONVERT))\n"
            "    except Exception as e:\n"
            "        bad[p] = str(e).splitlines()[0] if str(e) else type(e).__name__\n"
            "print(json.dumps(bad))\n")
    if not os.access(NBFORMAT_PYTHON, os.X_OK):
        raise RuntimeError("%s not found" % NBFORMAT_PYTHON)
    p = subprocess.run([NBFORMAT_PYTHON, "-c", code] + paths, capture_output=True, text=True)
    if p.returncode == 3:
        raise RuntimeError("nbformat is not importable by %s (apt-get install python3-nbformat)"
                           % NBFORMAT_PYTHON)
    if p.returncode != 0:
        raise RuntimeError("nbformat validation crashed: " + (p.stderr.strip() or p.stdout.strip()))
    return json.loads(p.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("notebooks", nargs="*",
                    help="notebooks to run (default: examples/notebooks/*.ipynb)")
    ap.add_argument("--build-dir", default="build",
                    help="meson build dir holding libtapeflow.so (default: build)")
    ap.add_argument("--include", action="append", default=[], metavar="DIR",
                    help="extra include dir (repeatable); the repo's include/ is always first")
    ap.add_argument("--lib-dir", action="append", default=[], metavar="DIR",
                    help="extra library dir for load() (repeatable), searched after --build-dir")
    ap.add_argument("--out", metavar="DIR", help="write each executed notebook to DIR")
    ap.add_argument("--timeout", type=float, default=600, help="seconds per cell (default 600)")
    ap.add_argument("--rerun", type=int, default=0, metavar="N",
                    help="run each cell N more times right after it passes (checks that cells "
                         "can be re-run)")
    ap.add_argument("--clang-repl", default=None, help="interpreter (default: clang-repl-19)")
    ap.add_argument("--xcc", action="append", default=[], metavar="FLAG",
                    help="extra compiler flag for clang-repl (repeatable)")
    ap.add_argument("-O", dest="opt", default="2", help="JIT optimisation level (default 2)")
    ap.add_argument("--no-validate", action="store_true", help="skip nbformat validation")
    ap.add_argument("--summary-json", metavar="FILE", help='write {"passed": N, "failed": N}')
    ap.add_argument("--no-count-line", action="store_true",
                    help="do not print the closing `N passed, N failed` line")
    ap.add_argument("--keep-temp", action="store_true", help="keep the cell files")
    ap.add_argument("-v", "--verbose", action="store_true", help="print each cell's time")
    args = ap.parse_args()

    report = lambda s: print(s, flush=True)
    if args.clang_repl is None:
        args.clang_repl = shutil.which("clang-repl-19") or "/usr/bin/clang-repl-19"

    notebooks = args.notebooks or [os.path.relpath(p) for p in sorted(glob.glob(
        os.path.join(ROOT, "examples", "notebooks", "*.ipynb")))]
    build_dir = os.path.abspath(args.build_dir)
    base_includes = [os.path.join(ROOT, "include")] + [os.path.abspath(d) for d in args.include]
    base_lib_dirs = [build_dir] + [os.path.abspath(d) for d in args.lib_dir]

    passed = failed = 0
    fatal = []
    if not notebooks:
        fatal.append("no notebooks given and none in examples/notebooks")
    if not os.path.isfile(os.path.join(build_dir, "libtapeflow.so")):
        fatal.append("%s has no libtapeflow.so (build it: meson setup %s && ninja -C %s)" % (
            build_dir, args.build_dir, args.build_dir))
    if not (os.path.isfile(args.clang_repl) and os.access(args.clang_repl, os.X_OK)):
        fatal.append("%s not found (apt-get install clang-tools-19)" % args.clang_repl)
    if not args.no_validate:
        try:
            validate([])
        except RuntimeError as e:
            fatal.append("%s; pass --no-validate to run without it" % e)

    results = []
    if fatal:
        for f in fatal:
            report("error: " + f)
        failed = max(1, len(notebooks))
    else:
        if args.out:
            os.makedirs(args.out, exist_ok=True)
        for path in notebooks:
            name = os.path.basename(path)
            report("%s:" % path)
            res, nb = run_notebook(path, args, base_includes, base_lib_dirs, report)
            if nb is not None and (args.out or not args.no_validate):
                if args.out:
                    out_path = os.path.join(args.out, name)
                else:
                    fd, out_path = tempfile.mkstemp(suffix=".ipynb", prefix="nbrun-")
                    os.close(fd)
                with open(out_path, "w") as f:
                    json.dump(nb, f, indent=1, ensure_ascii=False)
                    f.write("\n")
                if not args.no_validate:
                    try:
                        bad = validate([out_path])
                    except RuntimeError as e:
                        bad = {out_path: str(e)}
                    if bad:
                        res.failed += 1
                        res.messages.append("the executed notebook is not valid nbformat: %s" %
                                            bad[out_path])
                if not args.out:
                    os.unlink(out_path)
                elif args.verbose:
                    report("  wrote " + out_path)
            for m in res.messages:
                report("  %s: %s" % (name, m))
            status = "ok" if res.failed == 0 else "FAILED"
            extra = ", %d not run" % res.not_run if res.not_run else ""
            report("  %s: %d cells passed, %d failed%s (%.1fs)" % (status, res.passed, res.failed,
                                                                   extra, res.seconds))
            passed += res.passed
            failed += res.failed
            results.append(res)

    if results:
        ok = sum(1 for r in results if r.failed == 0)
        report("notebooks: %d of %d ok" % (ok, len(results)))
    if args.summary_json:
        os.makedirs(os.path.dirname(os.path.abspath(args.summary_json)), exist_ok=True)
        with open(args.summary_json, "w") as f:
            json.dump({"passed": passed, "failed": failed,
                       "notebooks": {r.path: {"passed": r.passed, "failed": r.failed,
                                              "not_run": r.not_run, "seconds": round(r.seconds, 2)}
                                     for r in results}}, f, indent=1)
            f.write("\n")
    if not args.no_count_line:
        print("%d passed, %d failed" % (passed, failed), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
