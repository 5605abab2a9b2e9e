# pymodbus_server.py: an independent Modbus TCP server for the interop tests.
#
# Kankyo's own simulator shares the codec with the client, so a word-order or
# scaling mistake would be made the same way on both ends and go unnoticed.
# This server is pymodbus (Debian's python3-pymodbus 3.0.0): it knows nothing
# of Kankyo. It serves the registers given as JSON on the command line,
#   {"hr": {"0": 0, "1": 16814}, "ir": {...}, "co": {"3": true}, "di": {...}}
# with 0-based protocol addresses (zero_mode), binds a free port on loopback,
# prints "serving PORT" and serves until it is terminated.
#
# Run by /usr/bin/python3: python3 on PATH may lack pymodbus.

import asyncio
import json
import logging
import sys

from pymodbus.datastore import ModbusServerContext, ModbusSequentialDataBlock, ModbusSlaveContext
from pymodbus.server.async_io import ModbusTcpServer

TABLE_SIZE = 100


def block(values):
    data = [0] * TABLE_SIZE
    for address, value in values.items():
        data[int(address)] = int(value)
    return ModbusSequentialDataBlock(0, data)


async def serve(spec):
    slave = ModbusSlaveContext(di=block(spec.get('di', {})), co=block(spec.get('co', {})),
                               hr=block(spec.get('hr', {})), ir=block(spec.get('ir', {})),
                               zero_mode=True)
    server = ModbusTcpServer(ModbusServerContext(slaves=slave, single=True),
                             address=('127.0.0.1', 0), allow_reuse_address=True)
    task = asyncio.create_task(server.serve_forever())
    await server.serving
    print('serving %d' % server.server.sockets[0].getsockname()[1], flush=True)
    await task


def main():
    logging.basicConfig(level=logging.ERROR)
    asyncio.run(serve(json.loads(sys.argv[1])))


if __name__ == '__main__':
    main()
