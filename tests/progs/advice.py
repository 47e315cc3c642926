# Refusals in a Python program for overshim's advice tests (tests/integ/test_advice.c).
# Usage: advice.py fork|thread (as root: RLIMIT_NPROC 1, then uid 65534) | mmap PAGES | malloc PAGES
import ctypes
import mmap
import os
import resource
import sys
import threading

mode = sys.argv[1]
if mode in ('fork', 'thread'):
    resource.setrlimit(resource.RLIMIT_NPROC, (1, 1))
    os.setgid(65534)
    os.setuid(65534)
    if mode == 'fork':
        try:
            pid = os.fork()
            if pid == 0:
                os._exit(0)
            print('fork: ok')
        except OSError as e:
            print('fork:', e.strerror)
    else:
        try:
            threading.Thread(target=lambda: None).start()
            print('thread: ok')
        except RuntimeError as e:
            print('thread:', e)
elif mode == 'mmap':  # a private writable mapping through ctypes, as a reservation would be made
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mmap.restype = ctypes.c_void_p
    libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
    p = libc.mmap(None, int(sys.argv[2]) * 4096, mmap.PROT_READ | mmap.PROT_WRITE,
                  mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS, -1, 0)
    print('mmap:', 'refused' if p in (None, ctypes.c_void_p(-1).value) else 'ok')
elif mode == 'malloc':  # libc's malloc from Python (ctypes): never touches what it gets, unlike
    # bytearray(n), which older Pythons fill with memset (a request that passes then takes the RAM)
    libc = ctypes.CDLL(None, use_errno=True)
    libc.malloc.restype = ctypes.c_void_p
    libc.malloc.argtypes = [ctypes.c_size_t]
    p = libc.malloc(int(sys.argv[2]) * 4096)
    print('malloc:', 'ok' if p else 'MemoryError')
