/* Compiler hints the library's sys/ and shim/ objects share: branch hints, and where
 * start-time code and data go (a start faults in as few of the shim's pages as it can). */
#ifndef OVERSHIM_COMPILER_H
#define OVERSHIM_COMPILER_H

#define OSH_LIKELY(x) __builtin_expect(!!(x), 1)
#define OSH_UNLIKELY(x) __builtin_expect(!!(x), 0)

/* Data that process start writes (the constructor's path, the exit check): together
 * in .data, whose page the loader's relocations have copied already, so that a start
 * faults in no other page of the shim's data (its bss is touched by calls only). */
#define OSH_HOT __attribute__((section(".data.overshim_hot")))
/* Code only process start runs (the constructor's path): next to the constructor in
 * .text.startup, so that start faults in one window of the shim's text. */
#define OSH_START_TEXT __attribute__((section(".text.startup")))

#endif
