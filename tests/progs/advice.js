// Refusals in a node program for overshim's advice tests (tests/integ/test_advice.c).
// Usage: node advice.js fork|thread (lowers its own RLIMIT_NPROC to 1 first: run it as an
// unprivileged uid) | wasm (a WebAssembly.Memory reservation) | buffer MIB (a malloc)
const cp = require('child_process');
const mode = process.argv[2];
if (mode === 'fork' || mode === 'thread') {
    cp.execFileSync('prlimit', ['--pid', String(process.pid), '--nproc=1:1']);
}
if (mode === 'fork') {
    const r = cp.spawnSync('true');
    console.log('spawn:', r.error ? r.error.code : 'ok');
} else if (mode === 'thread') {
    const { Worker } = require('worker_threads');
    try {
        const w = new Worker('0', { eval: true });
        w.on('error', (e) => console.log('worker:', e.code));
        w.on('exit', () => console.log('worker: exit'));
    } catch (e) {
        console.log('worker:', e.code || e.message);
    }
} else if (mode === 'wasm') {
    try {
        new WebAssembly.Memory({ initial: 1, maximum: 65536 });
        console.log('wasm: ok');
    } catch (e) {
        console.log('wasm:', e.message);
    }
} else if (mode === 'buffer') {
    try {
        // at most the largest Buffer this node makes (2 GiB - 1 on node 12, bullseye's)
        const { constants } = require('buffer');
        Buffer.allocUnsafeSlow(Math.min(Number(process.argv[3]) * 1024 * 1024, constants.MAX_LENGTH));
        console.log('buffer: ok');
    } catch (e) {
        console.log('buffer:', e.message);
    }
}
