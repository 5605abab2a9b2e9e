# test-install-tree.py: modules load from an installed tree, not only from
# the build tree.
#
# Every other test points KANKYO_DRIVER_PATH and KANKYO_PLUGIN_PATH at the
# build tree. Here the build is installed into a temporary staging folder
# (meson install --destdir, as a package build does), the two variables are
# removed, and the installed kankyo-sim and kankyoctl must find the driver and
# the device types in their own library folder: kankyo-sim --list names them
# (the HVAC types, the generic plugin, the test device), and kankyoctl reads
# the embedded demo cleanroom over Modbus through them.

import os
import shutil
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kankyo_interop as iop  # noqa: E402


def find(root, name):
    for folder, _, files in os.walk(root):
        if name in files:
            return os.path.join(folder, name)
    return None


def body(tap, tools):
    build = os.environ.get('KANKYO_BUILD_DIR')
    meson = shutil.which('meson')
    iop.require(tap, build is not None and meson is not None, 'meson and the build folder are known')
    stage = tempfile.mkdtemp(prefix='kankyo-install-')
    try:
        p = subprocess.run([meson, 'install', '-C', build, '--destdir', stage, '--no-rebuild', '--quiet'],
                           capture_output=True, text=True, timeout=120)
        iop.require(tap, p.returncode == 0, 'meson install into a staging folder',
                    diag=p.stdout + p.stderr)
        sim = find(stage, 'kankyo-sim')
        ctl = find(stage, 'kankyoctl')
        lib = find(stage, 'libkankyo-1.so')
        iop.require(tap, sim and ctl and lib, 'the programs and libkankyo are installed')

        env = {k: v for k, v in os.environ.items()
               if k not in ('KANKYO_DRIVER_PATH', 'KANKYO_PLUGIN_PATH')}
        env['LD_LIBRARY_PATH'] = os.path.dirname(lib)
        env['KANKYO_DATA_DIR'] = os.path.join(stage, 'data')

        r = subprocess.run([sim, '--list'], capture_output=True, text=True, env=env, timeout=30)
        listed = r.stdout.split()
        for name in ('hvac.ahu', 'hvac.thrh', 'hvac.dp', 'hvac.particle', 'generic', 'test.thermostat',
                     'modbus'):
            tap.ok(r.returncode == 0 and name in listed, 'installed kankyo-sim --list names %s' % name,
                   diag=r.stdout + r.stderr)
        tap.check_stderr('kankyo-sim --list', r.stderr)

        tags = ('th_fill.temperature', 'dp_fill.pressure_a', 'ahu1.supply_temp_setpoint')
        r = subprocess.run([ctl, 'read'] + list(tags), capture_output=True, text=True, env=env, timeout=30)
        s = iop.parse_read(r.stdout)
        tap.ok(r.returncode == 0 and all(t in s and s[t].good for t in tags),
               'installed kankyoctl reads the embedded demo plant [Good]', diag=r.stdout + r.stderr)
        tap.check_stderr('kankyoctl read', r.stderr)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


iop.main(body)
