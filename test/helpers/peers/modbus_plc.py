"""A stand-in PLC for the Modbus bridge test: a Modbus TCP server (pymodbus, an independent
implementation) with 100 coils and 100 holding registers, addresses from 0, on 127.0.0.1.

Usage: python3 modbus_plc.py <port>
It prints "listening <port>" once it accepts connections, then reads commands on stdin,
one per line, and answers each on stdout:
  set co|hr <address> <value>   ->  ok
  get co|hr <address>           ->  <value>   (a coil as 0 or 1)
It stops at the end of stdin (its parent went away) or on SIGTERM.
"""
import asyncio
import sys

from pymodbus.datastore import ModbusSequentialDataBlock, ModbusServerContext, ModbusSlaveContext
from pymodbus.server.async_io import ModbusTcpServer

FUNCTION_CODES = {"co": 1, "hr": 3}


def answer(store, line):
    parts = line.split()
    if len(parts) < 3 or parts[1] not in FUNCTION_CODES:
        return "error: expected 'set co|hr <address> <value>' or 'get co|hr <address>'"
    code, address = FUNCTION_CODES[parts[1]], int(parts[2])
    if parts[0] == "set" and len(parts) == 4:
        store.setValues(code, address, [int(parts[3])])
        return "ok"
    if parts[0] == "get" and len(parts) == 3:
        return str(int(store.getValues(code, address, 1)[0]))
    return "error: unknown command"


async def main(port):
    store = ModbusSlaveContext(
        co=ModbusSequentialDataBlock(0, [0] * 100),
        hr=ModbusSequentialDataBlock(0, [0] * 100),
        zero_mode=True,
    )
    server = ModbusTcpServer(ModbusServerContext(slaves=store, single=True), address=("127.0.0.1", port))
    serving = asyncio.create_task(server.serve_forever())
    await server.serving
    print(f"listening {port}", flush=True)
    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if line == "":
            break
        if line.strip():
            print(answer(store, line.strip()), flush=True)
    await server.server_close()
    serving.cancel()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
