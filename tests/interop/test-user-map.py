# test-user-map.py: a device described only by a user's map file.
#
# The plant engineer's path to an old machine without C: a YAML map next to
# the project (register numbers as the manual gives them, 1-based; floats low
# word first; int16 scaled by 0.1), named by "map:" in the project. First an
# independent server (pymodbus) holds the values and kankyoctl must read them
# through the map, and write one back. Then the same map is served by the
# generic plugin's simulation from its simulate: hints (endpoint
# "simulated"), so a map can be tried before the machine is connected: the
# hinted values appear, and the counter with a step keeps rising.

import json
import os
import shutil
import struct
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kankyo_interop as iop  # noqa: E402


def float32_cdab(value):
    high, low = struct.unpack('>HH', struct.pack('>f', value))
    return [low, high]


def body(tap, tools):
    shutil.copy(os.path.join(iop.FIXTURES, 'oven-map.yaml'), tools.dir)

    # ---- an independent server behind the map ----
    try:
        from pymodbus.client import ModbusTcpClient
    except ImportError as e:
        tap.skip('user map against pymodbus', 'pymodbus is not installed (%s)' % e)
        return
    low, high = float32_cdab(231.5)
    tables = {'hr': {0: low, 1: high, 2: 1755}, 'ir': {10: 456, 11: (-123) & 0xFFFF, 12: 0, 13: 4242},
              'co': {3: False}, 'di': {}}
    server = iop.Proc('pymodbus', [sys.executable, os.path.join(os.path.dirname(__file__),
                                                                   'pymodbus_server.py'), json.dumps(tables)])
    i = server.out.wait_for(lambda l: l.startswith('serving '), 20)
    iop.require(tap, i is not None, 'pymodbus server is up', diag=server.out.text() + server.err.text())
    port = int(server.out.snapshot()[i][1].split()[1])
    project = tools.project('oven-project.yaml', endpoint='tcp://127.0.0.1:%d' % port)

    want = {'oven.temp': 231.5, 'oven.setpoint': 175.5, 'oven.rh': 45.6, 'oven.dewpoint': -12.3,
            'oven.runtime': 4242}
    r = tools.run(['read', '--project', project] + list(want) + ['oven.pump'])
    s = iop.parse_read(r.stdout)
    tap.ok(r.returncode == 0, 'kankyoctl read through the user map exits 0', diag=r.describe())
    for tag, value in want.items():
        tap.ok(tag in s and s[tag].good and iop.close_to(s[tag].number, value, 1e-4),
               '%s reads %s [Good] (map: 1-based numbers, CDAB float, x0.1 int16)' % (tag, value),
               diag='got %r' % (s.get(tag),))
    tap.ok('oven.pump' in s and s['oven.pump'].value == 'false', 'oven.pump reads false',
           diag=r.stdout)
    tap.check_stderr('kankyoctl read', r.stderr)

    w = tools.run(['write', '--project', project, '--reason', 'user map test', 'oven.setpoint', '190.5'])
    tap.ok(w.returncode == 0 and 'confirmed by read-back' in w.stdout,
           'kankyoctl write oven.setpoint 190.5 through the map is confirmed', diag=w.describe())
    client = ModbusTcpClient('127.0.0.1', port=port, timeout=3)
    iop.require(tap, client.connect(), 'a pymodbus client connects')
    rr = client.read_holding_registers(2, 1, slave=1)
    tap.ok(not rr.isError() and rr.registers[0] == 1905,
           'register number 3 (address 2) holds 1905 in the pymodbus server', diag=repr(rr))
    client.close()
    server.stop()

    # ---- the generic plugin simulates the same map ----
    simulated = tools.project('oven-project.yaml', name='oven-simulated.yaml', endpoint='simulated')
    r = tools.run(['read', '--project', simulated] + list(want))
    s = iop.parse_read(r.stdout)
    hinted = {'oven.temp': 180, 'oven.setpoint': 175.5, 'oven.rh': 45.6, 'oven.dewpoint': -12.3}
    tap.ok(r.returncode == 0, 'kankyoctl read of the simulated user map exits 0', diag=r.describe())
    for tag, value in hinted.items():
        tap.ok(tag in s and s[tag].good and iop.close_to(s[tag].number, value, 1e-4),
               'simulated %s is its hinted value %s' % (tag, value), diag='got %r' % (s.get(tag),))
    tap.check_stderr('kankyoctl read (simulated)', r.stderr)

    # A writable tag with a plain hint takes writes like a register: the
    # simulation does not put its hint back.
    w = tools.run(['write', '--project', simulated, '--reason', 'user map test', 'oven.setpoint', '160'])
    tap.ok(w.returncode == 0 and 'oven.setpoint = 160 ' in w.stdout,
           'a write to the simulated setpoint is confirmed by read-back', diag=w.describe())

    r = tools.run(['run', '--project', simulated, '--duration', '2.5'])
    runtimes = [smp.number for smp in map(iop.parse_line, r.stdout.splitlines())
                if smp is not None and smp.tag == 'oven.runtime']
    tap.ok(len(runtimes) >= 3 and all(b > a for a, b in zip(runtimes, runtimes[1:]))
           and runtimes[0] >= 1000,
           'the simulated counter rises from 1000 at 10 per second', diag=repr(runtimes))
    tap.check_stderr('kankyoctl run (simulated)', r.stderr)


iop.main(body)
