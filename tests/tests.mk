# Tests: Criterion unit tests (also under ASan+UBSan), integration tests that run
# programs under the shim, the helper programs they run, and the benchmarks.
TEST_CFLAGS := $(CFLAGS_BASE) $(INC) -Icli/lib
# Unit tests link core/, sys/ and the command's readers (cli/lib/) as they are.
CLI_LIB_SRC := $(wildcard cli/lib/*.c)
UNIT_CORE   := $(CORE_SRC) $(SYS_SRC) $(CLI_LIB_SRC)
UNIT_SRC    := $(wildcard tests/unit/*.c)
INTEG_SRC   := $(wildcard tests/integ/*.c) $(CLI_LIB_SRC) $(CORE_SRC) tests/lib/run.c
PROGS       := $(BUILD)/tests/refuse $(BUILD)/tests/refuse_tls $(BUILD)/tests/threads4 $(BUILD)/tests/forkstorm $(BUILD)/tests/stress \
               $(BUILD)/tests/spawny $(BUILD)/tests/nowipe $(BUILD)/tests/sigstorm $(BUILD)/tests/static_hello $(BUILD)/tests/churn \
               $(BUILD)/tests/ledger_tsan $(BUILD)/tests/hostile $(BUILD)/tests/guards \
               $(BUILD)/tests/jemalloc_user $(BUILD)/tests/Workload.class $(BUILD)/tests/advice \
               $(BUILD)/tests/Advice.class $(BUILD)/tests/libsummary_jni.so $(BUILD)/tests/shmem $(BUILD)/tests/arenas \
               $(BUILD)/tests/host_fds $(BUILD)/tests/sized_free $(BUILD)/tests/own_malloc $(BUILD)/tests/plt_canonical \
               $(BUILD)/tests/calls $(BUILD)/tests/timeline $(BUILD)/tests/libsumtrig.so $(BUILD)/tests/Holder.class \
               $(BUILD)/tests/libaudit_noop.so $(BUILD)/tests/dlopen_one $(BUILD)/tests/libie_tls512.so
SANITIZE    := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer

$(BUILD)/tests/unit: $(UNIT_SRC) $(UNIT_CORE) $(HDRS) | $(BUILD)/tests
	$(CC) $(TEST_CFLAGS) $(UNIT_SRC) $(UNIT_CORE) -o $@ -lcriterion -lm $(LIBIBERTY) -lpthread -ldl

$(BUILD)/tests/unit-asan: $(UNIT_SRC) $(UNIT_CORE) $(HDRS) | $(BUILD)/tests
	$(CC) $(TEST_CFLAGS) -O1 $(SANITIZE) $(UNIT_SRC) $(UNIT_CORE) -o $@ -lcriterion -lm $(LIBIBERTY) -lpthread -ldl

$(BUILD)/tests/integ: $(INTEG_SRC) tests/integ/*.h tests/lib/*.h cli/lib/*.h $(HDRS) | $(BUILD)/tests
	$(CC) $(TEST_CFLAGS) $(INTEG_SRC) -o $@ -lcriterion -lm -lpthread -ldl -lz $(LIBIBERTY)

# The ledger under ThreadSanitizer (tests/tsan); run by tests/integ/test_hardening.c. The
# timeline's hooks (shim/timeline.c) are stubbed: the driver links the ledger alone.
TSAN_SRC := tests/tsan/ledger_race.c tests/tsan/timeline_stub.c $(wildcard shim/ledger*.c) shim/reconcile.c \
            $(CORE_SRC) $(SYS_SRC)
$(BUILD)/tests/ledger_tsan: $(TSAN_SRC) $(HDRS) | $(BUILD)/tests
	$(CC) $(TEST_CFLAGS) -include shim/glibc_compat.h -O1 -fsanitize=thread $(TSAN_SRC) -o $@ -lpthread $(LIBIBERTY)

$(BUILD)/tests/%: tests/progs/%.c | $(BUILD)/tests
	$(CC) $(CFLAGS_BASE) -O1 $< -o $@ -lpthread -ldl

# refuse with a TLS variable of its own (the shim's other malloc fast path)
$(BUILD)/tests/refuse_tls: tests/progs/refuse.c | $(BUILD)/tests
	$(CC) $(CFLAGS_BASE) -O1 -DOWN_TLS $< -o $@ -lpthread -ldl

# shm_open is in librt before glibc 2.34
$(BUILD)/tests/calls: tests/progs/calls.c | $(BUILD)/tests
	$(CC) $(CFLAGS_BASE) -O1 $< -o $@ -lpthread -ldl -lrt

$(BUILD)/tests/static_hello: tests/progs/static_hello.c | $(BUILD)/tests
	$(CC) $(CFLAGS_BASE) -static $< -o $@

# Non-PIE and taking malloc's address: a canonical PLT entry, as in Debian's python3 and node.
$(BUILD)/tests/plt_canonical: tests/progs/plt_canonical.c | $(BUILD)/tests
	$(CC) $(CFLAGS_BASE) -fno-pie -no-pie $< -o $@

$(BUILD)/tests/jemalloc_user: tests/progs/jemalloc_user.c | $(BUILD)/tests
	$(CC) $(CFLAGS_BASE) $< -o $@ -ljemalloc

$(BUILD)/tests/Workload.class: tests/progs/Workload.java | $(BUILD)/tests
	javac -d $(BUILD)/tests $<

$(BUILD)/tests/Advice.class: tests/progs/Advice.java | $(BUILD)/tests
	javac -d $(BUILD)/tests $<

$(BUILD)/tests/Holder.class: tests/progs/Holder.java | $(BUILD)/tests
	javac -d $(BUILD)/tests $<

# Preloaded next to the shim in the JVM flight test: a summary on request (tests/progs/sumtrig.c).
$(BUILD)/tests/libsumtrig.so: tests/progs/sumtrig.c | $(BUILD)/tests
	$(CC) $(CFLAGS_BASE) -fPIC -shared $< -o $@ -lpthread -ldl

# An audit module that does nothing (LD_AUDIT: the shim's TLS then comes from the surplus).
$(BUILD)/tests/libaudit_noop.so: tests/progs/audit_noop.c | $(BUILD)/tests
	$(CC) $(CFLAGS_BASE) -fPIC -shared $< -o $@

$(BUILD)/tests/libie_tls512.so: tests/progs/ie_tls512.c | $(BUILD)/tests
	$(CC) $(CFLAGS_BASE) -fPIC -shared $< -o $@

# JNI headers of the JDK that javac belongs to
$(BUILD)/tests/libsummary_jni.so: tests/progs/summary_jni.c | $(BUILD)/tests
	inc="$$(dirname "$$(dirname "$$(readlink -f "$$(command -v javac)")")")/include"; \
	  $(CC) $(CFLAGS_BASE) -fPIC -shared -I"$$inc" -I"$$inc/linux" $< -o $@ -ldl

test: daemon-deps plot-deps all $(BUILD)/tests/unit $(BUILD)/tests/unit-asan $(BUILD)/tests/integ $(PROGS) $(EXAMPLES) \
      kernel-test-deps
	@bash tests/run.sh $(BUILD)/tests/unit $(BUILD)/tests/unit-asan $(BUILD)/tests/integ $(BUILD)/tests/kernels

# The VM suite on the oldest and newest kernel (tests/kernels; make kernels runs all four).
# qemu that cannot be installed makes those tests skip, saying so.
kernel-test-deps: $(BUILD)/tests/kernels $(BUILD)/vmprobe $(BUILD)/tests/timeline
	@bash scripts/deps.sh vm || echo "overshim: qemu cannot be installed: the VM tests will skip" >&2
$(BUILD)/tests/kernels: tests/kernels/test_kernels.c | $(BUILD)/tests
	$(CC) $(CFLAGS_BASE) $< -o $@ -lcriterion

daemon-deps:
	@bash scripts/deps.sh daemons

plot-deps:
	@bash scripts/deps.sh plot

unit: $(BUILD)/tests/unit $(BUILD)/tests/unit-asan
	@bash tests/run.sh $^

integ: all $(BUILD)/tests/integ $(PROGS) $(EXAMPLES)
	@bash tests/run.sh $(BUILD)/tests/integ

$(BUILD)/tests/bench: tests/bench/bench.c | $(BUILD)/tests
	$(CC) $(CFLAGS_BASE) $< -o $@ -lpthread

# The long stress run (the short one is part of make test).
stress: all $(BUILD)/tests/stress
	@cd $(BUILD) && OVERSHIM_OPTIONS=report_at_exit=1:verbosity=0:log=stress.log:json=stress.jsonl \
	  LD_PRELOAD=$$PWD/libovershim.so ./tests/stress 32 20 && python3 -c "import json; \
	  s=[json.loads(l) for l in open('stress.jsonl')]; p=[e for e in s if e['event']=='summary'][0]['process']; \
	  print('ledger committed', p['committed_bytes'], 'kernel ac inside ledger ranges', p['tracked_accountable_bytes'])"; \
	  rm -f stress.log stress.jsonl

bench: all $(BUILD)/tests/bench
	@bash scripts/deps.sh bench || echo "overshim: bench: context tools not installed; their rows are skipped" >&2
	@BUILD=$(BUILD) bash tests/bench/run.sh

# libFuzzer targets for every parser (clang). make fuzz runs each FUZZ_SECONDS (default 300)
# on its corpus in tests/fuzz/corpus; a crash leaves crash-* files in build/fuzz.
FUZZ_CORE := $(CORE_SRC) $(SYS_SRC)
FUZZ_TARGETS := options snapshot procfs inject smaps
FUZZ_SECONDS ?= 300
FUZZ_CC ?= $(shell command -v clang-14 || command -v clang)
$(BUILD)/fuzz:
	@mkdir -p $@
$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_CORE) $(HDRS) | $(BUILD)/fuzz
	$(FUZZ_CC) -std=gnu11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined $(INC) $< $(FUZZ_CORE) -o $@ $(LIBIBERTY) -lpthread
fuzz-deps:
	@bash scripts/deps.sh fuzz
fuzz: fuzz-deps $(foreach t,$(FUZZ_TARGETS),$(BUILD)/fuzz/fuzz_$(t))
	@BUILD=$(BUILD) FUZZ_SECONDS=$(FUZZ_SECONDS) bash tests/fuzz/run.sh $(FUZZ_TARGETS)
