# test-rtu-pty.py: Modbus RTU end to end over a serial line made by socat.
#
# RTU is framed by silence and checked by CRC, addressed by unit id on a
# shared line: none of that is exercised over TCP. socat joins two
# pseudo-terminals into a null-modem cable; kankyo-sim serves a thermostat as
# unit 7 on one end and kankyoctl is the master on the other. Proves: reads
# come back Good with the map's values; a write is confirmed by read-back and
# lands in the simulator; a master asking for a unit that is not on the line
# (8) gets a Bad quality and exit 3 within its response timeout instead of
# hanging, and the line is usable for unit 7 right after. Then pymodbus'
# serial client (pyserial) is an independent RTU master on the same line.

import os
import shutil
import struct
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kankyo_interop as iop  # noqa: E402

ALL_TAGS = ['th.temperature', 'th.humidity', 'th.overtemp', 'th.output_state', 'th.run_time',
            'th.energy', 'th.setpoint', 'th.mode', 'th.high_limit', 'th.heater_command',
            'th.heater_running']


def body(tap, tools):
    if shutil.which('socat') is None:
        tap.skip('RTU over a pty pair', 'socat is not installed')
        return
    sim_tty = os.path.join(tools.dir, 'sim')
    hmi_tty = os.path.join(tools.dir, 'hmi')
    socat = iop.Proc('socat', ['socat', '-d', '-d', 'pty,raw,echo=0,link=' + sim_tty,
                               'pty,raw,echo=0,link=' + hmi_tty])
    started = socat.err.wait_for(lambda l: 'starting data transfer loop' in l, 10)
    iop.require(tap, started is not None and os.path.exists(sim_tty) and os.path.exists(hmi_tty),
                'socat joins two ptys into a null-modem line', diag=socat.err.text())

    sim = iop.Sim(tools, 'rtu://%s?baud=115200' % sim_tty, unit=7)
    tap.diag('kankyo-sim serving on %s' % sim.endpoint)
    endpoint = 'rtu://%s?baud=115200' % hmi_tty
    project = tools.project('thermostat.yaml', endpoint=endpoint, unit=7, period='200ms')

    # ---- kankyoctl as the master ----
    r = tools.run(['read', '--project', project] + ALL_TAGS)
    s = iop.parse_read(r.stdout)
    tap.ok(r.returncode == 0 and all(s.get(t) is not None and s[t].good for t in ALL_TAGS),
           'kankyoctl read over RTU: exit 0, all %d tags Good' % len(ALL_TAGS), diag=r.describe())
    tap.ok(iop.close_to(getattr(s.get('th.setpoint'), 'number', None), 22.0, 1e-9)
           and getattr(s.get('th.mode'), 'value', None) == '2'
           and iop.close_to(getattr(s.get('th.high_limit'), 'number', None), 40.0, 1e-6),
           'over RTU: setpoint 22, mode 2, high_limit 40', diag=r.stdout)
    tap.ok(iop.close_to(getattr(s.get('th.temperature'), 'number', None), sim.get('temperature'), 0.5),
           'over RTU: temperature matches the simulator', diag=r.stdout)
    tap.check_stderr('kankyoctl read (RTU)', r.stderr)

    w = tools.run(['write', '--project', project, '--reason', 'RTU interop', 'th.setpoint', '25.5'])
    tap.ok(w.returncode == 0 and '(confirmed by read-back)' in w.stdout,
           'kankyoctl write th.setpoint 25.5 over RTU is confirmed by read-back', diag=w.describe())
    tap.ok(sim.get('setpoint') == 25.5, 'kankyo-sim holds setpoint 25.5 after the RTU write')

    # ---- a unit that is not on the line ----
    wrong = tools.project('thermostat.yaml', name='unit8.yaml', endpoint=endpoint, unit=8,
                          period='200ms')
    r = tools.run(['read', '--project', wrong, 'th.temperature', 'th.setpoint'], timeout=20)
    s = iop.parse_read(r.stdout)
    tap.diag('unit 8 (absent): exit %s after %.3f s' % (r.returncode, r.elapsed))
    tap.ok(r.returncode == 3, 'unit id mismatch (project 8, device 7): kankyoctl read exits 3',
           diag=r.describe())
    tap.ok(all(s.get(t) is not None and s[t].quality.startswith('Bad')
               for t in ('th.temperature', 'th.setpoint')),
           'unit id mismatch: the tags are Bad', diag=r.stdout)
    # 500 ms is the default response timeout; kankyoctl's own 5 s wait must
    # not be what ends the read.
    tap.ok(r.elapsed < 2.5, 'unit id mismatch: answered in %.3f s (< 2.5 s), no hang' % r.elapsed)
    temp = s.get('th.temperature')
    tap.ok(temp is not None and 'last good' not in temp.tail,
           'a tag that never had a value does not claim a "last good" time',
           diag='printed: %s' % r.stdout)
    tap.check_stderr('kankyoctl read (unit 8)', r.stderr)

    r = tools.run(['read', '--project', project, 'th.setpoint'])
    s = iop.parse_read(r.stdout)
    tap.ok(r.returncode == 0 and iop.close_to(getattr(s.get('th.setpoint'), 'number', None), 25.5, 1e-9),
           'right after, unit 7 answers Good on the same line', diag=r.describe())

    # ---- pymodbus as an independent RTU master ----
    try:
        import serial
        from pymodbus.client import ModbusSerialClient
    except ImportError as e:
        tap.skip('pymodbus RTU client against kankyo-sim', 'pyserial or pymodbus missing (%s)' % e)
        return
    tap.diag('pymodbus %s with pyserial %s' % (__import__('pymodbus').__version__, serial.VERSION))
    client = ModbusSerialClient(port=hmi_tty, baudrate=115200, bytesize=8, parity='N',
                                stopbits=1, timeout=1)
    iop.require(tap, client.connect(), 'pymodbus serial client opens %s' % hmi_tty)
    try:
        rr = client.read_holding_registers(0, 4, slave=7)
        regs = None if rr.isError() else rr.registers
        tap.ok(regs == [255, 2, 0, 0x4220],
               'pymodbus RTU: holding 0..3 of unit 7 = 255, 2, 0x0000, 0x4220', diag='got %r' % (rr,))
        rr = client.read_input_registers(0, 2, slave=7)
        temperature = None
        if not rr.isError():
            low, high = rr.registers
            temperature = struct.unpack('>f', struct.pack('>HH', high, low))[0]
        tap.ok(iop.close_to(temperature, sim.get('temperature'), 0.5),
               'pymodbus RTU: input 0..1 (CDAB float) is the temperature (%s)' % temperature,
               diag='got %r' % (rr,))
        rr = client.write_register(1, 1, slave=7)
        tap.ok(not rr.isError() and sim.get('mode') == 1,
               'pymodbus RTU: writing mode 1 lands in kankyo-sim', diag='got %r' % (rr,))
        start = time.monotonic()
        rr = client.read_holding_registers(0, 1, slave=8)
        tap.ok(rr.isError(), 'pymodbus RTU: unit 8 does not answer (%.3f s)' % (time.monotonic() - start),
               diag='got %r' % (rr,))
        rr = client.read_holding_registers(1, 1, slave=7)
        tap.ok(not rr.isError() and rr.registers == [1],
               'pymodbus RTU: unit 7 answers again after the silence of unit 8', diag='got %r' % (rr,))
    finally:
        client.close()

    sim.stop()
    tap.check_stderr('kankyo-sim (RTU)', sim.err.text())
    socat.stop()


iop.main(body)
