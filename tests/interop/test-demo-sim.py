# test-demo-sim.py: kankyo-sim serves the demo cleanroom, and an independent
# master reads it.
#
# kankyo-sim --project runs the same plant the embedded demo runs: the AHU's
# physics and its sensors, each device on its own Modbus TCP port. mbpoll
# (not Kankyo) reads the differential pressure transmitters' input registers
# 2 and 3 as the HVAC map says (1-based register numbers, int16 Pa) and must
# find the cascade: fill +15 Pa to the corridor and +45 Pa to outside,
# corridor +15 Pa to gowning, gowning +15 Pa to outside. It also reads the
# T/RH transmitter's float (low word first) and its fixed -123.45 test value.

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
        tap.skip('mbpoll against the demo plant', 'mbpoll is not installed')
        return
    demo = os.path.join(iop.SOURCE_DIR, 'data', 'demo', 'demo.yaml')
    sim = iop.Proc('kankyo-sim', [tools.kankyo_sim, '--project', demo], env=tools.env)
    i = sim.out.wait_for(lambda l: l == 'ready', 20)
    iop.require(tap, i is not None, 'kankyo-sim --project serves the demo plant',
                diag=sim.out.text() + sim.err.text())
    ports = {}
    for _, line in sim.out.snapshot():
        m = re.match(r'serving (\S+) on tcp://127\.0\.0\.1:(\d+)$', line)
        if m:
            ports[m.group(1)] = int(m.group(2))
    iop.require(tap, {'ahu1', 'dp_fill', 'dp_gowning', 'th_fill', 'pc_fill'} <= set(ports),
                'every demo device is served on its own port', diag=repr(ports))

    def mbpoll(device, *args):
        argv = ['mbpoll', '-m', 'tcp', '-p', str(ports[device]), '-a', '1', '-o', '2', '-1'] + list(args)
        argv.append('127.0.0.1')
        p = subprocess.run(argv, capture_output=True, text=True, timeout=20)
        values = {int(m.group(1)): m.group(2) for m in re.finditer(r'^\[(\d+)\]:\s+(\S+)', p.stdout, re.M)}
        return p.returncode, values, '$ %s\n%s%s' % (' '.join(argv), p.stdout, p.stderr)

    # Input registers (-t 3), register numbers 2 and 3, int16.
    for device, a, b in (('dp_fill', 15, 45), ('dp_gowning', 15, 15)):
        rc, v, out = mbpoll(device, '-t', '3', '-r', '2', '-c', '2')
        tap.ok(rc == 0 and v.get(2) == str(a) and v.get(3) == str(b),
               'mbpoll reads %s pressure A = %d Pa, B = %d Pa' % (device, a, b), diag=out)

    # Holding registers as float32, low word first (mbpoll's default float order
    # is little-endian words), RH at 0 and T at 2; the test float at 0x1F01.
    rc, v, out = mbpoll('th_fill', '-t', '4:float', '-r', '1', '-c', '2')
    rh, temp = (float(v[k]) if k in v else None for k in (1, 3))
    tap.ok(rc == 0 and rh is not None and 40 < rh < 50 and temp is not None and 20 < temp < 22,
           'mbpoll reads th_fill RH %s %%RH and T %s degC as CDAB floats' % (rh, temp), diag=out)
    rc, v, out = mbpoll('th_fill', '-t', '4:float', '-r', str(0x1F01 + 1), '-c', '1')
    tap.ok(rc == 0 and abs(float(v.get(0x1F01 + 1, 'nan')) + 123.45) < 1e-3,
           'mbpoll reads the fixed -123.45 at 0x1F01 in the same word order', diag=out)

    sim.stop()
    tap.check_stderr('kankyo-sim', sim.err.text())


iop.main(body)
