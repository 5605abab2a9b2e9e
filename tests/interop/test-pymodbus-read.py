# test-pymodbus-read.py: Kankyo reads and writes an independent Modbus server.
#
# Proves that kankyoctl decodes what a third-party server (pymodbus) holds the
# way the Modbus conventions say, not merely the way kankyo-sim encodes it:
# a float32 sent low word first (CDAB), the Vaisala order-check value
# -123.45, int16 scaled by 0.1 including a negative one (two's complement), a
# uint32 whose tag overrides the device word order with ABCD, a coil pattern
# and a discrete input. Then it proves the write path: kankyoctl write of a
# coil (both ways) and of a scaled int16 (positive and negative) lands in
# pymodbus' data store, as a separate pymodbus client sees it, is confirmed
# by read-back, and is in an intact audit trail.

import json
import os
import re
import struct
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kankyo_interop as iop  # noqa: E402


def float32_cdab(value):
    high, low = struct.unpack('>HH', struct.pack('>f', value))
    return [low, high]


def u16(value):
    return value & 0xFFFF


COILS = [True, False, True, False, True]   # coil 3 (pump) starts off

# tag: (expected value, tolerance) as kankyoctl should print it
EXPECTED = {
    'peer.temp': (21.75, 1e-6),
    'peer.probe': (-123.45, 1e-4),
    'peer.setpoint': (21.5, 1e-9),
    'peer.rh': (45.6, 1e-9),
    'peer.dewpoint': (-12.3, 1e-9),
    'peer.count': (0x12345678, 0),
    'peer.c0': ('true', None),
    'peer.c1': ('false', None),
    'peer.c2': ('true', None),
    'peer.pump': ('false', None),
    'peer.c4': ('true', None),
    'peer.door': ('true', None),
}


def tables():
    hr = {}
    for address, value in ((0, 21.75), (4, -123.45)):
        low, high = float32_cdab(value)
        hr[address], hr[address + 1] = low, high
    hr[2] = 215                                  # setpoint 21.5
    ir = {10: 456, 11: u16(-123), 12: 0x1234, 13: 0x5678}
    co = {i: v for i, v in enumerate(COILS)}
    di = {0: True}
    return {'hr': hr, 'ir': ir, 'co': co, 'di': di}


def body(tap, tools):
    try:
        from pymodbus.client import ModbusTcpClient
    except ImportError as e:
        tap.skip('Kankyo against a pymodbus server', 'pymodbus is not installed (%s)' % e)
        return
    server = iop.Proc('pymodbus', [sys.executable, os.path.join(os.path.dirname(__file__),
                                                                   'pymodbus_server.py'),
                                   json.dumps(tables())])
    i = server.out.wait_for(lambda l: l.startswith('serving '), 20)
    iop.require(tap, i is not None, 'pymodbus server is up',
                diag=server.out.text() + server.err.text())
    port = int(server.out.snapshot()[i][1].split()[1])
    tap.diag('pymodbus serving on 127.0.0.1:%d' % port)
    project = tools.project('pymodbus-peer.yaml', endpoint='tcp://127.0.0.1:%d' % port)
    base = ['--project', project]

    client = ModbusTcpClient('127.0.0.1', port=port, timeout=3)
    iop.require(tap, client.connect(), 'a pymodbus client connects to the server')

    # ---- read ----
    r = tools.run(['read'] + base + list(EXPECTED))
    tap.ok(r.returncode == 0, 'kankyoctl read exits 0 when every tag is Good', diag=r.describe())
    samples = iop.parse_read(r.stdout)
    for tag, (want, tol) in EXPECTED.items():
        s = samples.get(tag)
        if tol is None:
            good = s is not None and s.good and s.value == want
        else:
            good = s is not None and s.good and iop.close_to(s.number, want, tol)
        tap.ok(good, '%s reads %s [Good]' % (tag, want), diag='got: %r' % (s,))
    tap.check_stderr('kankyoctl read', r.stderr)

    # ---- write ----
    def write(tag, value, want, separator=False):
        w = tools.run(['write'] + base + ['--reason', 'interop test %s' % tag, '--user', 'iop']
                      + (['--'] if separator else []) + [tag, value])
        confirmed = re.search(r'^%s = (\S+).*\(confirmed by read-back\)$' % re.escape(tag),
                              w.stdout, re.M)
        text = confirmed.group(1) if confirmed else None
        if isinstance(want, float):
            same = text is not None and iop.close_to(float(text), want, 1e-9)
        else:
            same = text == want
        tap.ok(w.returncode == 0 and same,
               'kankyoctl write %s%s %s exits 0, confirmed by read-back as %s'
               % ('-- ' if separator else '', tag, value, want),
               diag=w.describe())
        tap.check_stderr('kankyoctl write %s %s' % (tag, value), w.stderr)
        return w, text

    def coil(address):
        rr = client.read_coils(address, 1, slave=1)
        return None if rr.isError() else rr.bits[0]

    def holding(address):
        rr = client.read_holding_registers(address, 1, slave=1)
        return None if rr.isError() else rr.registers[0]

    write('peer.pump', 'true', 'true')
    tap.ok(coil(3) is True, 'pymodbus data store: coil 3 is on after writing pump true',
           diag='coil 3 = %r' % coil(3))
    tap.ok([coil(a) for a in (0, 1, 2, 4)] == [COILS[a] for a in (0, 1, 2, 4)],
           'pymodbus data store: the neighbouring coils are untouched')
    write('peer.pump', 'false', 'false')
    tap.ok(coil(3) is False, 'pymodbus data store: coil 3 is off after writing pump false',
           diag='coil 3 = %r' % coil(3))

    w, text = write('peer.setpoint', '23.4', 23.4)
    # 234 x 0.1 is 23.400000000000002 in binary; a value entered as 23.4 and
    # kept in the audit trail must not come back as that.
    tap.ok(text == '23.4', 'the read-back of setpoint 23.4 is printed as 23.4',
           diag='printed: %r' % text)
    tap.ok(holding(2) == 234, 'pymodbus data store: holding 2 = 234 after writing setpoint 23.4',
           diag='holding 2 = %r' % holding(2))
    # A negative value looks like an option; "--" is how a command line says
    # it is not (mbpoll documents the same).
    write('peer.setpoint', '-5.5', -5.5, separator=True)
    # And without "--": kankyoctl takes a negative number as the value.
    write('peer.setpoint', '-5.5', -5.5)
    tap.ok(holding(2) == u16(-55),
           'pymodbus data store: holding 2 = 0xFFC9 (-55) after writing setpoint -5.5',
           diag='holding 2 = %r' % holding(2))
    tap.ok([holding(a) for a in (0, 1, 3)] == [float32_cdab(21.75)[0], float32_cdab(21.75)[1], 0],
           'pymodbus data store: the registers around the setpoint are untouched')

    r = tools.run(['read'] + base + ['peer.setpoint'])
    s = iop.parse_read(r.stdout).get('peer.setpoint')
    tap.ok(r.returncode == 0 and s is not None and s.good and iop.close_to(s.number, -5.5, 1e-9),
           'a new kankyoctl read sees setpoint -5.5 [Good]', diag=r.describe())
    client.close()

    # ---- audit ----
    v = tools.run(['audit', 'verify', '--data-dir', tools.data_dir])
    tap.ok(v.returncode == 0, 'kankyoctl audit verify: the trail is intact', diag=v.describe())
    a = tools.run(['audit', 'list', '--data-dir', tools.data_dir])
    writes = [l for l in a.stdout.splitlines()
              if 'write.result' in l and '[ok]' in l and ' iop ' in l and 'interop test peer.' in l]
    tap.ok(a.returncode == 0 and len(writes) >= 4,
           'kankyoctl audit list shows the 4 confirmed writes with user and reason', diag=a.describe())
    tap.diag('audit list:\n' + '\n'.join(writes))

    server.stop()
    # pymodbus 3.0.0 logs every client that disconnects as an ERROR; the rest
    # is worth seeing.
    noise = [l for _, l in server.err.snapshot() if 'has been canceled' not in l]
    if noise:
        tap.diag('pymodbus stderr:\n' + '\n'.join(noise))


iop.main(body)
