# test-hostile-server.py: the Modbus TCP client survives servers that lie.
#
# A field device, a gateway with a bug or anything else on port 502 can send
# frames that are wrong in every way. The client must never crash, never
# take a wrong frame's data for a value, and never stop polling. Two
# hand-made servers (raw sockets, no Modbus library on this side) answer
# kankyoctl run's polls from a script that puts one broken reply between
# valid ones:
#   registers (function 3, 2 registers): wrong byte count, wrong transaction
#   id, protocol id 0x0101 and 1, a truncated frame then silence, an MBAP length
#   longer and shorter than the frame, exception 2, exception 0x7f (not a
#   Modbus code), a reply with another function code, a byte count of 250 for
#   2 registers (with the 250 bytes), bursts of random garbage, a reply from
#   another unit id, and a close without reply;
#   coils (function 1, 10 coils, CVE-2023-26793 style): byte counts of 250,
#   255 (past the largest Modbus TCP frame), 3 and 0 where 2 is right, another
#   function code and a wrong transaction id.
# Every broken reply carries "poison" data (0xDEAD, 0xBEEF; all coils on)
# that no valid reply has. Asserted: every broken reply is followed by a Bad
# quality, every valid reply shows Good with exactly its data, no poison is
# ever shown Good, kankyoctl exits 0 and nothing (ASan, UBSan, GLib) complains
# on stderr. Each broken reply's _last_error text is printed.

import os
import random
import signal
import socket
import struct
import sys
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kankyo_interop as iop  # noqa: E402

POISON_REGS = (0xDEAD, 0xBEEF)
N_COILS = 10


# ---- frames ----

def mbap(tid, pdu, unit=1, protocol=0, length=None):
    return struct.pack('>HHHB', tid, protocol, len(pdu) + 1 if length is None else length, unit) + pdu


def regs_pdu(fc, values):
    return bytes([fc, 2 * len(values)]) + struct.pack('>%dH' % len(values), *values)


def bits_pdu(fc, bits):
    data = bytearray((len(bits) + 7) // 8)
    for i, bit in enumerate(bits):
        if bit:
            data[i // 8] |= 1 << (i % 8)
    return bytes([fc, len(data)]) + bytes(data)


class Request:
    def __init__(self, header, pdu):
        self.tid, self.protocol, self.length, self.unit = struct.unpack('>HHHB', header)
        self.fc = pdu[0]
        self.address, self.count = struct.unpack('>HH', pdu[1:5]) if len(pdu) >= 5 else (0, 0)


# ---- the server ----

class HostileServer:
    """Answers each request with the next step of a script, across
    connections; after the script, valid replies only."""

    def __init__(self, name, valid, steps):
        self.name = name
        self.valid = valid                  # valid(req, k) -> (reply bytes, data)
        self.steps = steps                  # [(name, step(conn, req) -> keep open?)]
        self.index = 0
        self.k = 0                          # valid replies sent so far
        self.log = []                       # per reply: (time, 'valid', 'valid', {tag: value})
                                            # or (time, 'hostile', step name, None)
        self.lock = threading.Lock()
        self.done = threading.Event()
        self.stopping = False
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(('127.0.0.1', 0))
        self.sock.listen(4)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.error = None
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def stop(self):
        self.stopping = True
        self.thread.join(5)
        self.sock.close()

    def serve(self):
        try:
            while not self.stopping:
                try:
                    conn, _ = self.sock.accept()
                except socket.timeout:
                    continue
                with conn:
                    conn.settimeout(0.2)
                    while not self.stopping and self.handle(conn):
                        pass
        except Exception as e:  # reported by the test
            self.error = e

    def recv_exact(self, conn, n):
        data = b''
        while len(data) < n and not self.stopping:
            try:
                chunk = conn.recv(n - len(data))
            except socket.timeout:
                continue
            except OSError:
                return None
            if not chunk:
                return None
            data += chunk
        return data if len(data) == n else None

    def handle(self, conn):
        """Serves one request; False when the connection is done."""
        header = self.recv_exact(conn, 7)
        if header is None:
            return False
        length = struct.unpack('>H', header[4:6])[0]
        pdu = self.recv_exact(conn, length - 1) if length > 1 else b''
        if pdu is None or len(pdu) < 1:
            return False
        req = Request(header, pdu)
        with self.lock:
            step = self.steps[self.index] if self.index < len(self.steps) else None
            self.index += 1
        try:
            if step is None or step[0] == 'valid':
                reply, data = self.valid(req, self.k)
                with self.lock:
                    self.log.append((time.monotonic(), 'valid', 'valid', data))
                    self.k += 1
                conn.sendall(reply)
                keep = True
            else:
                with self.lock:
                    self.log.append((time.monotonic(), 'hostile', step[0], None))
                keep = step[1](conn, req)
        except OSError:
            keep = False
        if step is not None and self.index >= len(self.steps):
            self.done.set()
        return keep

    def entries(self):
        with self.lock:
            return list(self.log)


def send(frame):
    def step(conn, req):
        conn.sendall(frame(req))
        return True
    return step


def close_at_once(conn, req):
    return False


def truncated_then_silence(conn, req):
    conn.sendall(mbap(req.tid, regs_pdu(req.fc, POISON_REGS))[:9])
    return True                     # the client must give up on its own


def garbage(seed):
    def step(conn, req):
        rnd = random.Random(seed)
        for _ in range(3):
            conn.sendall(bytes(rnd.randrange(256) for _ in range(37)))
            time.sleep(0.01)
        return True
    return step


def interleave(hostile):
    """valid, hostile 1, valid, hostile 2, ..., valid."""
    steps = [('valid', None)]
    for h in hostile:
        steps += [h, ('valid', None)]
    return steps


def regs_valid(req, k):
    values = [1000 + k, 2000 + k][:max(req.count, 0)]
    return mbap(req.tid, regs_pdu(req.fc, values), req.unit), {'regs.a': str(1000 + k),
                                                                 'regs.b': str(2000 + k)}


REGS_STEPS = interleave([
    ('wrong byte count', send(lambda r: mbap(r.tid, regs_pdu(3, POISON_REGS[:1])))),
    ('wrong transaction id', send(lambda r: mbap((r.tid + 1) & 0xFFFF, regs_pdu(3, POISON_REGS)))),
    ('protocol id 0x0101', send(lambda r: mbap(r.tid, regs_pdu(3, POISON_REGS), protocol=0x0101))),
    ('protocol id 1', send(lambda r: mbap(r.tid, regs_pdu(3, POISON_REGS), protocol=1))),
    ('truncated frame, then silence', truncated_then_silence),
    ('MBAP length longer than the frame', send(lambda r: mbap(r.tid, regs_pdu(3, POISON_REGS),
                                                              length=6 + 10))),
    ('MBAP length shorter than the frame', send(lambda r: mbap(r.tid, regs_pdu(3, POISON_REGS),
                                                               length=3))),
    ('exception 2', send(lambda r: mbap(r.tid, bytes([0x83, 0x02])))),
    ('exception 0x7f', send(lambda r: mbap(r.tid, bytes([0x83, 0x7F])))),
    ('function code 4 for a function 3 request', send(lambda r: mbap(r.tid, regs_pdu(4, POISON_REGS)))),
    ('byte count 250 for 2 registers', send(lambda r: mbap(r.tid, bytes([3, 250]) + b'\xDE\xAD' * 125))),
    ('random garbage', garbage(26793)),
    ('reply from unit 9', send(lambda r: mbap(r.tid, regs_pdu(3, POISON_REGS), unit=9))),
    ('close without reply', close_at_once),
])


def coils_valid_bits(k):
    # c0 and c9 are always off, so a reply with every coil on is poison.
    return [False] + [((i + k) % 3 == 0) for i in range(1, N_COILS - 1)] + [False]


def bits_valid(req, k):
    bits = coils_valid_bits(k)
    return (mbap(req.tid, bits_pdu(req.fc, bits[:req.count]), req.unit),
            {'bits.c%d' % i: 'true' if b else 'false' for i, b in enumerate(bits)})


def coil_bytes(n):
    return lambda r: mbap(r.tid, bytes([1, n]) + b'\xFF' * n)


BITS_STEPS = interleave([
    ('byte count 250 for 10 coils', send(coil_bytes(250))),
    ('byte count 255, past the largest TCP frame', send(coil_bytes(255))),
    ('byte count 3 for 10 coils', send(coil_bytes(3))),
    ('byte count 0 for 10 coils', send(coil_bytes(0))),
    ('function code 2 for a function 1 request', send(lambda r: mbap(r.tid, bits_pdu(2, [True] * N_COILS)))),
    ('wrong transaction id', send(lambda r: mbap((r.tid + 1) & 0xFFFF, bits_pdu(1, [True] * N_COILS)))),
])


# ---- the checks ----

def check_device(tap, device, server, lines, primary, poison):
    """@lines: [(time, Sample)] of kankyoctl run; @primary: the tag followed
    through the script; poison(sample) is true for a value no valid reply has."""
    log = server.entries()
    ours = [(t, s) for t, s in lines if s.tag.startswith(device + '.')]
    status = (device + '._online', device + '._last_error')
    track = [(t, s) for t, s in ours if s.tag == primary]
    script = log[:len(server.steps)]

    def window(n):
        """From broken reply @n to just after the valid reply that follows,
        and never into the next broken reply."""
        end = script[n + 1][0] + 0.2 if n + 1 < len(script) else float('inf')
        if n + 2 < len(script):
            end = min(end, script[n + 2][0])
        return script[n][0], end

    def show(begin, end):
        return '\n'.join('%+.3f %r' % (ts - begin, s) for ts, s in track
                         if begin - 0.3 <= ts <= end + 0.3)

    # Each broken reply turns the primary tag Bad, and its poison is never
    # shown Good, before the next valid reply shows Good with its own data.
    for n, (t, kind, name, data) in enumerate(script):
        if kind == 'hostile':
            begin, end = window(n)
            bad = [s for ts, s in track if begin <= ts <= end and not s.good]
            tap.ok(bool(bad), '%s: %s -> %s' % (device, name, bad[0].quality if bad else 'no Bad quality'),
                   diag=show(begin, end))
            taken = [s for ts, s in ours if begin <= ts <= end and s.good and poison(s)]
            tap.ok(not taken, '%s: %s: its data is not shown Good' % (device, name),
                   diag='\n'.join(map(repr, taken)))
            why = [s.body for ts, s in ours if s.tag == device + '._last_error'
                   and begin <= ts <= end and s.body]
            tap.diag('    _last_error: %s' % (why[0] if why else '(none)'))
        elif n > 0:
            want = data[primary]
            seen = [s for ts, s in track if ts >= t and s.good and s.value == want]
            tap.ok(bool(seen), '%s: the valid reply after it shows %s = %s [Good]'
                   % (device, primary, want), diag=show(t, t + 1))

    # Every other Good value is one a valid reply sent before it was shown.
    sent = {}
    for t, kind, _, data in log:
        if kind == 'valid':
            for tag, value in data.items():
                sent.setdefault(tag, []).append((t, value))
    wrong = []
    for t, s in ours:
        if s.tag in status or not s.good:
            continue
        if poison(s) or not any(ts <= t and v == s.value for ts, v in sent.get(s.tag, [])):
            wrong.append('%.3f %r' % (t, s))
    tap.ok(not wrong, '%s: every Good value is one a valid reply sent, never poison' % device,
           diag='\n'.join(wrong[:20]))


def body(tap, tools):
    regs = HostileServer('regs', regs_valid, REGS_STEPS)
    bits = HostileServer('bits', bits_valid, BITS_STEPS)
    try:
        project = tools.project('hostile.yaml', regs='tcp://127.0.0.1:%d' % regs.port,
                                bits='tcp://127.0.0.1:%d' % bits.port)
        run = iop.Proc('kankyoctl run', [tools.kankyoctl, 'run', '--project', project,
                                         '--duration', '60'], env=tools.env, stdin=False)
        start = time.monotonic()
        finished = regs.done.wait(45) and bits.done.wait(max(1, 45 - (time.monotonic() - start)))
        took = time.monotonic() - start
        # The last valid reply of each script must still be seen Good.
        time.sleep(0.5)
        alive = run.wait(0) is None
        run.kill_group(signal.SIGTERM)
        rc = run.wait(10)
        run.stop()
    finally:
        regs.stop()
        bits.stop()

    tap.ok(regs.error is None and bits.error is None, 'the hostile servers ran without error',
           diag='%r %r' % (regs.error, bits.error))
    iop.require(tap, finished, 'both scripts were played to the end (%.1f s)' % took,
                diag='regs at step %d of %d, bits at %d of %d\n%s'
                % (regs.index, len(regs.steps), bits.index, len(bits.steps), run.out.text()[-3000:]))
    tap.ok(alive, 'kankyoctl run was still running at the end of the scripts',
           diag=run.err.text()[-3000:])
    tap.ok(rc == 0, 'kankyoctl run exits 0 (SIGTERM after the scripts)',
           diag='exit %s\n%s' % (rc, run.err.text()[-3000:]))
    tap.check_stderr('kankyoctl run', run.err.text())

    lines = [(t, iop.parse_line(l)) for t, l in run.out.snapshot()]
    lines = [(t, s) for t, s in lines if s is not None]
    tap.diag('%d lines printed, %d valid and %d broken replies sent'
             % (len(lines), regs.k + bits.k,
                sum(1 for e in regs.entries() + bits.entries() if e[1] == 'hostile')))
    tap.ok(any(s.good for _, s in lines if s.tag == 'regs.a')
           and any(not s.good for _, s in lines if s.tag == 'regs.a'),
           'regs.a was seen both Good and Bad')
    check_device(tap, 'regs', regs, lines, 'regs.a',
                 lambda s: s.number is not None and int(s.number) in POISON_REGS + (0xDEDE, 0xADDE))
    tap.ok(any(s.good for _, s in lines if s.tag == 'bits.c1')
           and any(not s.good for _, s in lines if s.tag == 'bits.c1'),
           'bits.c1 was seen both Good and Bad')
    check_device(tap, 'bits', bits, lines, 'bits.c1',
                 lambda s: s.tag in ('bits.c0', 'bits.c%d' % (N_COILS - 1)) and s.value == 'true')

    # All ten coils Good and on at once is the poison reply, whatever the order
    # the lines of one poll came in.
    state = {}
    all_on = []
    for t, s in lines:
        if s.tag.startswith('bits.c'):
            state[s.tag] = s
            if len(state) == N_COILS and all(x.good and x.value == 'true' for x in state.values()):
                all_on.append('%.3f' % t)
    tap.ok(not all_on, 'bits: the coils never all show Good and on (the poison reply)',
           diag=' '.join(all_on))


iop.main(body)
