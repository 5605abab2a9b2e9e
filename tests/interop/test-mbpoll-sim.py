# test-mbpoll-sim.py: an independent master (mbpoll) reads and writes kankyo-sim.
#
# kankyo-sim is what every other Kankyo test talks to; if it served the
# thermostat's map at the wrong addresses, in the wrong word order or with
# the wrong scaling, Kankyo's own client would agree with it and nothing
# would notice. mbpoll (libmodbus-free, its own codec) reads the registers
# the map in plugins/testdev/thermostat.yaml promises: setpoint 220 (22.0 x
# 0.1) and mode 2 in holding 0..1, high_limit 40.0 as a float32 low word
# first (and a different number when read high word first, so the order is
# really checked), the input float and int16, the coil and the discrete
# input. It writes the setpoint, the float limit and the coil, and
# kankyo-sim's "get" and kankyoctl see the new values. A read outside the
# map gets "Illegal data address", not data.

import os
import re
import shutil
import subprocess
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kankyo_interop as iop  # noqa: E402


def body(tap, tools):
    if shutil.which('mbpoll') is None:
        tap.skip('mbpoll against kankyo-sim', 'mbpoll is not installed')
        return
    sim = iop.Sim(tools, 'tcp://127.0.0.1:0')
    tap.diag('kankyo-sim serving on %s' % sim.endpoint)
    iop.require(tap, sim.port is not None, 'kankyo-sim reports the TCP port it bound')

    def mbpoll(*args):
        """mbpoll once against the sim; (exit status, {reference: text}, output)."""
        argv = ['mbpoll', '-m', 'tcp', '-p', str(sim.port), '-a', '1', '-o', '2'] + list(args)
        p = subprocess.run(argv, capture_output=True, text=True, timeout=20)
        values = {int(m.group(1)): m.group(2)
                  for m in re.finditer(r'^\[(\d+)\]:\s+(\S+)', p.stdout, re.M)}
        return p.returncode, values, '$ %s\n%s%s' % (' '.join(argv), p.stdout, p.stderr)

    def number(text):
        try:
            return float(text)
        except (TypeError, ValueError):
            return None

    # ---- reads ----
    rc, v, out = mbpoll('-t', '4', '-r', '1', '-c', '4', '-1', '127.0.0.1')
    tap.ok(rc == 0 and v.get(1) == '220' and v.get(2) == '2',
           'mbpoll -t 4 -r 1 -c 4: setpoint raw 220 and mode 2', diag=out)
    tap.ok(v.get(3) == '0' and v.get(4) == '16928',
           'mbpoll -t 4: high_limit words are 0x0000 0x4220 (40.0, low word first)', diag=out)

    rc, v, out = mbpoll('-t', '4:float', '-r', '3', '-c', '1', '-1', '127.0.0.1')
    tap.ok(rc == 0 and number(v.get(3)) == 40.0,
           'mbpoll -t 4:float (low word first) reads high_limit 40', diag=out)
    rc, v, out = mbpoll('-t', '4:float', '-B', '-r', '3', '-c', '1', '-1', '127.0.0.1')
    tap.ok(rc == 0 and number(v.get(3)) is not None and abs(number(v.get(3)) - 40.0) > 1,
           'mbpoll -t 4:float -B (high word first) does not read 40: the order matters', diag=out)

    temperature = sim.get('temperature')
    rc, v, out = mbpoll('-t', '3:float', '-r', '1', '-c', '1', '-1', '127.0.0.1')
    tap.ok(rc == 0 and iop.close_to(number(v.get(1)), temperature, 0.5),
           'mbpoll -t 3:float -r 1 reads the temperature kankyo-sim reports (%.3f)' % temperature,
           diag=out)
    humidity = sim.get('humidity')
    rc, v, out = mbpoll('-t', '3', '-r', '3', '-c', '1', '-1', '127.0.0.1')
    tap.ok(rc == 0 and iop.close_to(number(v.get(3)), humidity * 10, 5),
           'mbpoll -t 3 -r 3 reads humidity x 10 (%.1f %%RH)' % humidity, diag=out)
    running = sim.get('heater_running')
    rc, v, out = mbpoll('-t', '1', '-r', '1', '-c', '1', '-1', '127.0.0.1')
    tap.ok(rc == 0 and number(v.get(1)) in (running, sim.get('heater_running')),
           'mbpoll -t 1 -r 1 reads heater_running as kankyo-sim has it (%g)' % running, diag=out)
    rc, v, out = mbpoll('-t', '0', '-r', '1', '-c', '1', '-1', '127.0.0.1')
    tap.ok(rc == 0 and v.get(1) == '0', 'mbpoll -t 0 -r 1 reads heater_command off', diag=out)

    rc, v, out = mbpoll('-t', '4', '-r', '100', '-c', '2', '-1', '127.0.0.1')
    tap.ok(rc != 0 and 'Illegal data address' in out and not v,
           'mbpoll reading holding 99..100 (outside the map) gets Illegal data address', diag=out)

    # ---- writes ----
    rc, v, out = mbpoll('-t', '4', '-r', '1', '127.0.0.1', '250')
    tap.ok(rc == 0 and 'Written 1 references' in out, 'mbpoll writes setpoint raw 250', diag=out)
    answer = sim.command('get test.thermostat setpoint')
    tap.ok(number(answer) == 25.0, 'kankyo-sim: get test.thermostat setpoint answers 25',
           diag='answer: %r' % answer)

    rc, v, out = mbpoll('-t', '4:float', '-r', '3', '127.0.0.1', '55.5')
    tap.ok(rc == 0 and 'Written 1 references' in out, 'mbpoll writes high_limit 55.5 as a float',
           diag=out)
    answer = sim.command('get test.thermostat high_limit')
    tap.ok(number(answer) == 55.5, 'kankyo-sim: get test.thermostat high_limit answers 55.5',
           diag='answer: %r' % answer)

    rc, v, out = mbpoll('-t', '0', '-r', '1', '127.0.0.1', '1')
    tap.ok(rc == 0 and 'Written 1 references' in out, 'mbpoll switches heater_command on', diag=out)
    answer = sim.command('get test.thermostat heater_command')
    tap.ok(number(answer) == 1, 'kankyo-sim: get test.thermostat heater_command answers 1',
           diag='answer: %r' % answer)

    # The third party's writes as Kankyo's client sees them.
    project = tools.project('thermostat.yaml', endpoint=sim.endpoint, unit=1, period='200ms')
    r = tools.run(['read', '--project', project, 'th.setpoint', 'th.high_limit', 'th.heater_command'])
    s = iop.parse_read(r.stdout)
    tap.ok(r.returncode == 0
           and iop.close_to(getattr(s.get('th.setpoint'), 'number', None), 25.0, 1e-9)
           and iop.close_to(getattr(s.get('th.high_limit'), 'number', None), 55.5, 1e-6)
           and getattr(s.get('th.heater_command'), 'value', None) == 'true',
           'kankyoctl read sees what mbpoll wrote: setpoint 25, high_limit 55.5, heater on',
           diag=r.describe())

    sim.stop()
    tap.check_stderr('kankyo-sim', sim.err.text())


iop.main(body)
