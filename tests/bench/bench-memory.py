# bench-memory.py: resident memory of the operator HMI over one simulated hour.
#
# Starts `kankyo` on the embedded demo plant with its simulated devices at
# --speed 60 (one hour of plant time per minute) under a private Xvfb, samples
# the resident set size from /proc every second, and prints the mean of the
# first and last quarter and the peak. The goal: under 200 MB, and no growth
# from the first quarter to the last (the last quarter within 5 % of the
# first; a leak of one sample per poll shows up as steady growth).
#
#   bench-memory.py KANKYO [SECONDS]     (default 60 s = 1 h at --speed 60)

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

TARGET_MB = 200.0
GROWTH_LIMIT = 1.05


def rss_mb(pid):
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1]) / 1024.0
    return None


def free_display():
    for n in range(90, 200):
        if not os.path.exists('/tmp/.X11-unix/X%d' % n) and not os.path.exists('/tmp/.X%d-lock' % n):
            return n
    raise RuntimeError('no free X display number')


def main():
    kankyo = sys.argv[1]
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else float(os.environ.get('KANKYO_BENCH_MEMORY_SECONDS', 60))
    if shutil.which('Xvfb') is None:
        print('Xvfb is not installed; cannot run the HMI', file=sys.stderr)
        return 77
    display = free_display()
    xvfb = subprocess.Popen(['Xvfb', ':%d' % display, '-screen', '0', '1280x1024x24', '-nolisten', 'tcp'],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    data = tempfile.mkdtemp(prefix='kankyo-bench-memory-')
    app = None
    try:
        for _ in range(100):
            if os.path.exists('/tmp/.X11-unix/X%d' % display):
                break
            time.sleep(0.05)
        env = dict(os.environ, DISPLAY=':%d' % display, GDK_BACKEND='x11', KANKYO_DATA_DIR=data,
                   GSK_RENDERER='cairo')
        env.pop('WAYLAND_DISPLAY', None)
        app = subprocess.Popen([kankyo, '--speed', '60'], env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, start_new_session=True)
        samples = []
        start = time.monotonic()
        while time.monotonic() - start < seconds:
            time.sleep(1.0)
            if app.poll() is not None:
                print('kankyo exited early with status %d:\n%s' % (app.returncode, app.stderr.read().decode()),
                      file=sys.stderr)
                return 1
            samples.append(rss_mb(app.pid))
        q = max(1, len(samples) // 4)
        first = sum(samples[:q]) / q
        last = sum(samples[-q:]) / q
        peak = max(samples)
        print('hmi_rss_first_quarter_mb: %.1f (target < %.0f)' % (first, TARGET_MB))
        print('hmi_rss_last_quarter_mb: %.1f (target < %.0f)' % (last, TARGET_MB))
        print('hmi_rss_peak_mb: %.1f (target < %.0f)' % (peak, TARGET_MB))
        print('hmi_rss_growth_ratio: %.3f (target <= %.2f)' % (last / first, GROWTH_LIMIT))
        print('simulated_hours: %.2f (target 1)' % (seconds * 60 / 3600))
        ok = peak < TARGET_MB and last / first <= GROWTH_LIMIT
        return 0 if ok else 1
    finally:
        for p in (app, xvfb):
            if p is not None and p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    os.killpg(p.pid, signal.SIGKILL)
        shutil.rmtree(data, ignore_errors=True)


if __name__ == '__main__':
    sys.exit(main())
