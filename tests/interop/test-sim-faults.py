# test-sim-faults.py: each fault kankyo-sim can inject is seen by kankyoctl
# as the quality the operator must get.
#
# The fault commands are what the other tests and the demos rely on to show
# a sick device, so each is checked end to end over Modbus TCP:
#   exception 4 -> the device answers, but with "server device failure":
#                 kankyoctl read exits 3, the tags are Bad, _last_error names
#                 the exception, and a write is refused (exit 1), not
#                 "confirmed";
#   nan         -> the float tags the model drives (temperature, energy) read
#                 Bad_SensorFailure while a float nobody faulted (high_limit)
#                 stays Good;
#   delay 2000  -> with the endpoint's ?timeout=300 the read is Bad after the
#                 300 ms timeout, long before the 2 s reply: no hang;
#   out-of-range-> values are read Good (the link is fine) but far outside the
#                 map's min/max; they are printed.
# Each read is timed and the times printed.

import math
import os
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kankyo_interop as iop  # noqa: E402

# min and max of plugins/testdev/thermostat.yaml
RANGES = {'th.temperature': (-40, 120), 'th.humidity': (0, 100)}


def wait_until(predicate, timeout=5.0, step=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


def body(tap, tools):
    sim = iop.Sim(tools, 'tcp://127.0.0.1:0')
    project = tools.project('thermostat.yaml', endpoint=sim.endpoint, unit=1, period='200ms')

    def read(*tags, path=project):
        r = tools.run(['read', '--project', path] + list(tags), timeout=30)
        tap.diag('read %s: exit %s after %.3f s' % (' '.join(tags), r.returncode, r.elapsed))
        for line in r.stdout.splitlines():
            tap.diag('    ' + line)
        return r, iop.parse_read(r.stdout)

    def fault(words):
        answer = sim.command('fault ' + words)
        iop.require(tap, answer == 'ok', 'kankyo-sim: fault %s -> ok' % words, diag=answer)

    r, s = read('th.temperature', 'th.setpoint')
    iop.require(tap, r.returncode == 0, 'before any fault: kankyoctl read exits 0', diag=r.describe())

    # ---- exception 4 ----
    fault('exception 4')
    r, s = read('th.temperature', 'th.setpoint', 'th._last_error')
    tap.ok(r.returncode == 3, 'exception 4: kankyoctl read exits 3', diag=r.describe())
    tap.ok(all(t in s and s[t].quality.startswith('Bad') for t in ('th.temperature', 'th.setpoint')),
           'exception 4: temperature and setpoint are Bad', diag=r.stdout)
    tap.ok('th._last_error' in s and 'exception 4' in s['th._last_error'].body,
           'exception 4: _last_error names exception 4', diag=r.stdout)
    w = tools.run(['write', '--project', project, '--reason', 'fault test', 'th.setpoint', '23'])
    tap.ok(w.returncode == 1 and 'exception 4' in w.stderr and 'confirmed' not in w.stdout,
           'exception 4: kankyoctl write exits 1 and says why', diag=w.describe())
    tap.ok(sim.get('setpoint') == 22.0, 'exception 4: the setpoint was not changed')
    tap.check_stderr('kankyoctl (exception 4)', r.stderr + w.stderr)
    fault('none')

    # ---- nan ----
    fault('nan')
    iop.require(tap, wait_until(lambda: math.isnan(sim.get('temperature'))),
                'nan: kankyo-sim serves NaN for the temperature')
    r, s = read('th.temperature', 'th.energy', 'th.high_limit', 'th.humidity', 'th.overtemp')
    tap.ok(r.returncode == 3, 'nan: kankyoctl read exits 3', diag=r.describe())
    for tag in ('th.temperature', 'th.energy'):
        tap.ok(tag in s and s[tag].quality == 'Bad_SensorFailure', 'nan: %s is Bad_SensorFailure' % tag,
               diag=r.stdout)
    tap.ok('th.high_limit' in s and s['th.high_limit'].good
           and iop.close_to(s['th.high_limit'].number, 40.0, 1e-6),
           'nan: high_limit, not driven by the model, stays 40 [Good]', diag=r.stdout)
    # The fault is for values, not for bits: the bit shares input register 3
    # with the 2-bit output_state, whose fault words overwrite all 16 bits.
    tap.ok('th.overtemp' in s and s['th.overtemp'].value == 'false',
           'nan: the bit overtemp keeps its real value (false, 20 degC < 40)', diag=r.stdout)
    tap.check_stderr('kankyoctl (nan)', r.stderr)
    fault('none')
    iop.require(tap, wait_until(lambda: math.isfinite(sim.get('temperature'))),
                'fault none: the temperature is a number again')

    # ---- delay 2000 with a 300 ms response timeout ----
    quick = tools.project('thermostat.yaml', name='timeout.yaml', endpoint=sim.endpoint + '?timeout=300',
                          unit=1, period='200ms')
    fault('delay 2000')
    r, s = read('th.temperature', 'th.setpoint', 'th._last_error', path=quick)
    tap.ok(r.returncode == 3, 'delay 2000, timeout 300: kankyoctl read exits 3', diag=r.describe())
    tap.ok(all(t in s and s[t].quality.startswith('Bad') for t in ('th.temperature', 'th.setpoint')),
           'delay 2000, timeout 300: the tags are Bad', diag=r.stdout)
    tap.ok('th._last_error' in s and 'no reply within 300 ms' in s['th._last_error'].body,
           'delay 2000, timeout 300: _last_error says no reply within 300 ms', diag=r.stdout)
    # process start, project load, connect and 300 ms: well under the 2 s delay
    tap.ok(r.elapsed < 1.5, 'delay 2000, timeout 300: Bad after %.3f s, not after the 2 s reply'
           % r.elapsed)
    tap.check_stderr('kankyoctl (delay)', r.stderr)
    fault('none')
    # The simulator serves its clients one request at a time, so the delayed
    # requests of the read above hold it up to 2 s more.
    iop.require(tap, wait_until(lambda: tools.run(['read', '--project', project,
                                                   'th.setpoint']).returncode == 0, 10),
                'fault none: the simulator answers again')

    # ---- out of range ----
    fault('out-of-range')
    iop.require(tap, wait_until(lambda: sim.get('temperature') > 1e6),
                'out-of-range: kankyo-sim serves 1e9 for the temperature')
    r, s = read('th.temperature', 'th.humidity', 'th.energy')
    tap.ok(r.returncode == 0 and all(t in s and s[t].good for t in ('th.temperature', 'th.humidity',
                                                                      'th.energy')),
           'out-of-range: kankyoctl read exits 0, the values are Good at the link level',
           diag=r.describe())
    for tag, (lo, hi) in RANGES.items():
        value = s[tag].number if tag in s else None
        tap.ok(value is not None and (value < lo - 100 or value > hi + 100),
               'out-of-range: %s = %s, far outside %g..%g' % (tag, value, lo, hi), diag=r.stdout)
    tap.check_stderr('kankyoctl (out-of-range)', r.stderr)
    fault('none')

    sim.stop()
    tap.check_stderr('kankyo-sim', sim.err.text())


iop.main(body)
