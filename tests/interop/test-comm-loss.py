# test-comm-loss.py: a device that goes away is shown Bad fast, and comes back.
#
# What an operator relies on when a cable is pulled or a device restarts:
# within two poll periods every tag of the device turns
# Bad_CommunicationError while still showing its last good value with the
# time it was true (the value is stale, not zero and not gone), the device's
# _online status goes false with a reason in _last_error, and within two poll
# periods of the device answering again everything is Good. Both ways a
# device goes away are covered: kankyo-sim closing every connection and
# refusing new ones (fault drop / fault none), and the process being killed
# and restarted on the same port. kankyoctl run is read live and the times
# are measured from the moment of the fault and printed.

import datetime
import os
import signal
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kankyo_interop as iop  # noqa: E402

PERIOD = 0.5                    # poll-period in the project
MARGIN = 0.3                    # process scheduling, the simulator's 100 ms tick
LIMIT = 2 * PERIOD + MARGIN
STATUS = ('th._online', 'th._last_error')


def stamp_to_wall(stamp):
    """kankyoctl prints local time with milliseconds."""
    return datetime.datetime.strptime(stamp, '%Y-%m-%d %H:%M:%S.%f').timestamp()


def body(tap, tools):
    sim = iop.Sim(tools, 'tcp://127.0.0.1:0')
    port = sim.port
    project = tools.project('thermostat.yaml', endpoint=sim.endpoint, unit=1, period='500ms')
    run = iop.Proc('kankyoctl run', [tools.kankyoctl, 'run', '--project', project,
                                     '--duration', '20'], env=tools.env, stdin=False)
    log = run.out

    def sample_at(i):
        return iop.parse_line(log.snapshot()[i][1])

    def wait_sample(tag, predicate, start, timeout):
        """Index of the first line for @tag at or after @start matching @predicate."""
        def match(line):
            s = iop.parse_line(line)
            return s is not None and s.tag == tag and predicate(s)
        return log.wait_for(match, timeout, start)

    def wait_all(checks, start, timeout):
        """Waits for each (tag, predicate); returns their indexes or None."""
        found = []
        for tag, predicate in checks:
            i = wait_sample(tag, predicate, start, timeout)
            if i is None:
                return None
            found.append(i)
        return found

    def is_device_good(s):
        """A Good line of a process tag (_online and _last_error are always Good)."""
        return s is not None and s.tag not in STATUS and s.good

    def good(s):
        return s.good

    def comm_error(s):
        return s.quality == 'Bad_CommunicationError'

    def online(s):
        return s.value == 'true'

    def offline(s):
        return s.value == 'false'

    def last_good_before(tag, end):
        for i in range(end - 1, -1, -1):
            s = sample_at(i)
            if s is not None and s.tag == tag and s.good:
                return s
        return None

    def outage(what, cause, start, t0):
        """Checks the Bad side of an outage that began at @t0 (monotonic)."""
        found = wait_all([('th.temperature', comm_error), ('th.setpoint', comm_error),
                          ('th._online', offline)], start, LIMIT + 5)
        if not tap.ok(found is not None, '%s: temperature and setpoint turn Bad_CommunicationError, '
                      '_online false' % what, diag=log.text()[-3000:]):
            raise iop.Failed()
        lines = log.snapshot()
        took = max(lines[i][0] for i in found) - t0
        tap.diag('%s: Bad %.3f s after %s (limit %.2f s = 2 poll periods + %.1f s)'
                 % (what, took, cause, LIMIT, MARGIN))
        tap.ok(took <= LIMIT, '%s: Bad within 2 poll periods (%.3f s)' % (what, took))
        for tag, i in zip(('th.temperature', 'th.setpoint'), found):
            bad = sample_at(i)
            before = last_good_before(tag, i)
            tap.ok(before is not None and bad.value == before.value,
                   '%s: %s keeps its last good value %s while Bad'
                   % (what, tag, before.value if before else '?'),
                   diag='last good: %r\nbad: %r' % (before, bad))
        # The value is stale: it carries the time of the last good poll, a
        # poll period before the failure was seen, not the time of the failure.
        bad = sample_at(found[0])
        age = time.time() - (time.monotonic() - lines[found[0]][0]) - stamp_to_wall(bad.stamp)
        tap.ok(age >= PERIOD / 2, '%s: the Bad temperature is stamped with its last good time '
               '(%.3f s before the Bad line)' % (what, age), diag=lines[found[0]][1])
        err = wait_sample('th._last_error', lambda s: s.body.strip() != '', start, 2)
        tap.ok(err is not None, '%s: _last_error says why' % what, diag=log.text()[-2000:])
        if err is not None:
            tap.diag('%s: %s' % (what, log.snapshot()[err][1]))
        return max(found) + 1

    def recovery(what, cause, start, t0):
        found = wait_all([('th.temperature', good), ('th.setpoint', good), ('th._online', online)],
                         start, LIMIT + 5)
        if not tap.ok(found is not None, '%s: temperature and setpoint Good again, _online true' % what,
                      diag=log.text()[-3000:]):
            raise iop.Failed()
        took = max(log.snapshot()[i][0] for i in found) - t0
        tap.diag('%s: Good %.3f s after %s (limit %.2f s)' % (what, took, cause, LIMIT))
        tap.ok(took <= LIMIT, '%s: Good within 2 poll periods (%.3f s)' % (what, took))
        setpoint = sample_at(found[1])
        tap.ok(iop.close_to(setpoint.number, 22.0, 1e-9), '%s: setpoint reads 22 again' % what,
               diag=repr(setpoint))
        return max(found) + 1

    # ---- steady state ----
    found = wait_all([('th.temperature', good), ('th.setpoint', good), ('th._online', online)], 0, 10)
    iop.require(tap, found is not None, 'kankyoctl run shows the thermostat Good and online',
                diag=log.text() + run.err.text())
    time.sleep(PERIOD * 1.5)            # a few Good polls, so "last good" is a poll ago

    # ---- the simulator drops every connection and refuses new ones ----
    n = len(log.snapshot())
    t0 = time.monotonic()
    tap.ok(sim.command('fault drop') == 'ok', 'kankyo-sim accepts fault drop')
    next_line = outage('fault drop', 'the fault', n, t0)

    # Nothing of the device may look Good while it is gone.
    time.sleep(2 * PERIOD)
    relapse = [l for _, l in log.snapshot()[next_line:]
               if is_device_good(iop.parse_line(l))]
    tap.ok(not relapse, 'fault drop: no tag turns Good while the device is gone', diag='\n'.join(relapse))

    n = len(log.snapshot())
    t0 = time.monotonic()
    tap.ok(sim.command('fault none') == 'ok', 'kankyo-sim accepts fault none')
    recovery('fault none', 'the fault was cleared', n, t0)
    time.sleep(PERIOD * 1.5)

    # ---- the simulator process dies and is started again on the same port ----
    n = len(log.snapshot())
    t0 = time.monotonic()
    sim.stop(signal.SIGKILL)
    outage('kill -9', 'the kill', n, t0)
    time.sleep(PERIOD)

    n = len(log.snapshot())
    sim = iop.Sim(tools, 'tcp://127.0.0.1:%d' % port)
    ready = [t for t, l in sim.out.snapshot() if l == 'ready'][0]
    recovery('restart', 'the new kankyo-sim was ready', n, ready)

    # ---- kankyoctl run ends cleanly ----
    iop.require(tap, run.wait(0) is None, 'kankyoctl run is still running (--duration 20)',
                diag=run.err.text())
    run.kill_group(signal.SIGTERM)
    rc = run.wait(10)
    tap.ok(rc == 0, 'kankyoctl run exits 0 on SIGTERM', diag='exit %s\n%s' % (rc, run.err.text()))
    run.stop()
    tap.check_stderr('kankyoctl run', run.err.text())
    sim.stop()
    tap.check_stderr('kankyo-sim', sim.err.text())


iop.main(body)
