# kankyo_interop.py: shared plumbing of the interop tests.
#
# The interop tests put kankyoctl and kankyo-sim on a real wire against
# independent peers (pymodbus, mbpoll, socat, hand-made servers). What they
# all need lives here: TAP output that meson understands, child processes that
# are always stopped (process groups, even when a test fails or meson times it
# out), line logs read live with the time each line arrived, bounded waits,
# project files made from the fixtures, and a parser for the
# "device.tag = VALUE UNIT [Quality]" lines kankyoctl prints.
#
# Every test script is run as: /usr/bin/python3 test-NAME.py KANKYOCTL KANKYO_SIM
# with the environment meson's test_env sets (KANKYO_DRIVER_PATH, ...).

import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback

SOURCE_DIR = os.environ.get('KANKYO_SOURCE_DIR',
                            os.path.normpath(os.path.join(os.path.dirname(__file__), '..', '..')))
FIXTURES = os.path.join(SOURCE_DIR, 'tests', 'fixtures', 'interop')

# What a sanitizer, GLib or the kernel prints when a process goes wrong.
# kankyoctl and kankyo-sim print nothing of the kind in normal operation, so
# any of these in their stderr is a finding.
PROBLEM_RE = re.compile(r'AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|'
                        r'runtime error:|-CRITICAL \*\*|-WARNING \*\*|-ERROR \*\*|'
                        r'Segmentation fault|Aborted')


# ---- TAP ----

class Tap:
    """TAP 13 on stdout; meson runs the scripts with protocol: 'tap'."""

    def __init__(self):
        self.count = 0
        self.failed = 0
        print('TAP version 13', flush=True)

    def ok(self, cond, name, diag=None):
        self.count += 1
        line = '%s %d - %s' % ('ok' if cond else 'not ok', self.count, name.replace('#', 'no.'))
        print(line, flush=True)
        if not cond and diag:
            self.diag(diag)
        if not cond:
            self.failed += 1
        return bool(cond)

    def skip(self, name, reason):
        self.count += 1
        print('ok %d - %s # SKIP %s' % (self.count, name, reason), flush=True)

    def diag(self, message):
        for line in str(message).splitlines() or ['']:
            print('# ' + line, flush=True)

    def check_stderr(self, who, text):
        """One check: @who printed no sanitizer report, critical or warning."""
        bad = [l for l in text.splitlines() if PROBLEM_RE.search(l)]
        return self.ok(not bad, '%s: no sanitizer report, crash or GLib warning on stderr' % who,
                       diag='\n'.join(text.splitlines()[:80]))

    def finish(self):
        print('1..%d' % self.count, flush=True)
        return 1 if self.failed else 0


class Failed(Exception):
    """A precondition of the rest of a test failed; already reported."""


def main(body):
    """Runs body(tap, tools) and exits with the TAP verdict. Child processes
    are stopped on every way out, including SIGTERM from meson's timeout."""
    tap = Tap()

    def on_signal(signum, frame):
        raise SystemExit('killed by signal %d' % signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        if len(sys.argv) < 3:
            raise SystemExit('usage: %s KANKYOCTL KANKYO_SIM' % sys.argv[0])
        body(tap, Tools(sys.argv[1], sys.argv[2]))
    except Failed:
        pass
    except BaseException as e:  # also SystemExit from a signal: report, clean up
        tap.ok(False, 'test ran to the end without an unexpected error',
               diag=''.join(traceback.format_exception(type(e), e, e.__traceback__)))
    finally:
        stop_all()
    sys.exit(tap.finish())


def require(tap, cond, name, diag=None):
    """A check the rest of the test depends on: stops the test when it fails."""
    if not tap.ok(cond, name, diag=diag):
        raise Failed()


# ---- child processes ----

_procs = []


def stop_all():
    for p in reversed(_procs[:]):
        p.stop()


class LineLog:
    """Lines of a stream as they arrive, each with its time.monotonic()."""

    def __init__(self):
        self.lines = []              # (time, text)
        self.cond = threading.Condition()
        self.closed = False

    def feed(self, stream):
        for raw in stream:
            with self.cond:
                self.lines.append((time.monotonic(), raw.rstrip('\n')))
                self.cond.notify_all()
        with self.cond:
            self.closed = True
            self.cond.notify_all()

    def wait_for(self, predicate, timeout, start=0):
        """Index of the first line at or after @start for which
        predicate(text) is true, or None when @timeout seconds pass or the
        stream ends first."""
        deadline = time.monotonic() + timeout
        i = start
        with self.cond:
            while True:
                while i < len(self.lines):
                    if predicate(self.lines[i][1]):
                        return i
                    i += 1
                left = deadline - time.monotonic()
                if self.closed or left <= 0:
                    return None
                self.cond.wait(left)

    def snapshot(self):
        with self.cond:
            return list(self.lines)

    def text(self):
        return '\n'.join(l for _, l in self.snapshot())


class Proc:
    """A child in its own process group, stdout and stderr read live."""

    def __init__(self, name, argv, env=None, stdin=True):
        self.name = name
        self.argv = argv
        self.out = LineLog()
        self.err = LineLog()
        self.returncode = None
        self.p = subprocess.Popen(argv, stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                                  text=True, bufsize=1, start_new_session=True)
        self.pid = self.p.pid
        _procs.append(self)
        self._threads = [threading.Thread(target=self.out.feed, args=(self.p.stdout,), daemon=True),
                         threading.Thread(target=self.err.feed, args=(self.p.stderr,), daemon=True)]
        for t in self._threads:
            t.start()

    def send(self, line):
        self.p.stdin.write(line + '\n')
        self.p.stdin.flush()

    def wait(self, timeout):
        """Exit status, or None if still running after @timeout seconds."""
        try:
            self.returncode = self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            return None
        for t in self._threads:
            t.join(2)
        return self.returncode

    def kill_group(self, signum):
        try:
            os.killpg(self.pid, signum)
        except ProcessLookupError:
            pass

    def stop(self, signum=signal.SIGTERM, timeout=5):
        """Stops the whole process group; SIGKILL when it does not go."""
        if self in _procs:
            _procs.remove(self)
        if self.p.poll() is None:
            self.kill_group(signum)
            if self.wait(timeout) is None:
                self.kill_group(signal.SIGKILL)
                self.wait(5)
        else:
            self.wait(5)
            self.kill_group(signal.SIGKILL)   # leftovers of the group, if any
        for f in (self.p.stdin, self.p.stdout, self.p.stderr):
            try:
                if f:
                    f.close()
            except OSError:
                pass
        return self.returncode


class Sim(Proc):
    """kankyo-sim serving one device of a type; commands on stdin."""

    def __init__(self, tools, listen, unit=1, type_id='test.thermostat', extra=()):
        super().__init__('kankyo-sim', [tools.kankyo_sim, '--type', type_id, '--listen', listen,
                                        '--unit', str(unit)] + list(extra), env=tools.env)
        self.type_id = type_id
        i = self.out.wait_for(lambda l: l == 'ready', 15)
        if i is None:
            self.stop()
            raise RuntimeError('kankyo-sim did not get ready:\n%s\n%s' % (self.out.text(), self.err.text()))
        self.endpoint = None
        for _, l in self.out.snapshot():
            m = re.match(r'serving \S+ on (\S+)$', l)
            if m:
                self.endpoint = m.group(1)
        m = re.match(r'tcp://[^:]+:(\d+)$', self.endpoint or '')
        self.port = int(m.group(1)) if m else None
        self._next = i + 1

    def command(self, line, timeout=10):
        """Sends a command and returns its one-line answer."""
        self.send(line)
        i = self.out.wait_for(lambda l: True, timeout, self._next)
        if i is None:
            raise RuntimeError('kankyo-sim did not answer %r' % line)
        self._next = i + 1
        return self.out.snapshot()[i][1]

    def get(self, tag):
        return float(self.command('get %s %s' % (self.type_id, tag)))


# ---- kankyoctl ----

class Result:
    def __init__(self, argv, returncode, stdout, stderr, elapsed):
        self.argv = argv
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        self.elapsed = elapsed

    def describe(self):
        return '$ %s\nexit %s after %.3f s\n--- stdout\n%s--- stderr\n%s' % (
            ' '.join(self.argv), self.returncode, self.elapsed, self.stdout, self.stderr)


class Tools:
    def __init__(self, kankyoctl, kankyo_sim):
        self.kankyoctl = kankyoctl
        self.kankyo_sim = kankyo_sim
        self.tmp = tempfile.TemporaryDirectory(prefix='kankyo-iop-')
        self.dir = self.tmp.name
        self.data_dir = os.path.join(self.dir, 'data')
        os.mkdir(self.data_dir)
        self.env = dict(os.environ)
        self.env['KANKYO_DATA_DIR'] = self.data_dir
        self.env['LC_ALL'] = 'C.UTF-8'
        # Our processes must say so when a sanitizer finds something, and
        # not hide it behind a different exit status only.
        self.env.setdefault('UBSAN_OPTIONS', 'print_stacktrace=1:halt_on_error=1')

    def run(self, args, timeout=30):
        """Runs kankyoctl to the end; kills its group if it outlives @timeout."""
        argv = [self.kankyoctl] + list(args)
        start = time.monotonic()
        p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=self.env,
                             text=True, start_new_session=True)
        try:
            out, err = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            out, err = p.communicate()
            err += '\n[killed by the test after %s s: it hung]\n' % timeout
        return Result(argv, p.returncode, out, err, time.monotonic() - start)

    def project(self, fixture, name=None, **subst):
        """Writes a fixture project with @KEY@ replaced; returns its path."""
        with open(os.path.join(FIXTURES, fixture), encoding='utf-8') as f:
            text = f.read()
        for key, value in subst.items():
            text = text.replace('@%s@' % key.upper(), str(value))
        leftover = re.search(r'@[A-Z_]+@', text)
        if leftover:
            raise RuntimeError('%s: nothing given for %s' % (fixture, leftover.group(0)))
        path = os.path.join(self.dir, name or fixture)
        with open(path, 'w', encoding='utf-8') as f:
            f.write(text)
        return path


# ---- kankyoctl output ----

LINE_RE = re.compile(r'^(?:(?P<stamp>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3})  )?'
                     r'(?P<tag>[^\s=]+) = (?P<body>.*?) ?'
                     r'\[(?P<quality>Good|Uncertain\w*|Bad\w*)\](?P<tail>.*)$')


class Sample:
    """One 'device.tag = VALUE UNIT [Quality]' line."""

    def __init__(self, m):
        self.tag = m.group('tag')
        self.body = m.group('body')
        self.quality = m.group('quality')
        self.tail = m.group('tail')
        self.stamp = m.group('stamp')
        self.value = self.body.split(' ')[0] if self.body else ''

    @property
    def good(self):
        return self.quality == 'Good'

    @property
    def number(self):
        try:
            return float(self.value)
        except ValueError:
            return None

    def __repr__(self):
        return '%s = %s [%s]' % (self.tag, self.body, self.quality)


def parse_line(line):
    m = LINE_RE.match(line)
    return Sample(m) if m else None


def parse_read(stdout):
    """{tag: Sample} of the lines kankyoctl read printed."""
    samples = {}
    for line in stdout.splitlines():
        s = parse_line(line)
        if s:
            samples[s.tag] = s
    return samples


def close_to(a, b, tol):
    return a is not None and b is not None and abs(a - b) <= tol
