# overshim build. `make` builds build/libovershim.so and build/overshim;
# `make test` installs what is missing (Debian packages), builds and runs every test;
# `make demo` shows a real report; `make bench` prints ratios against running bare.
CC      ?= gcc
BUILD   := build
WARN    := -Wall -Wextra -Werror -Wno-unused-parameter
CFLAGS_BASE := -std=gnu11 -D_GNU_SOURCE -g -O2 $(WARN) -I/usr/include/x86_64-linux-gnu
# Three folders (README, Layout): core/ is pure (no I/O, no runtime globals), sys/ the
# system calls, /proc readers and the private heap, shim/ the LD_PRELOAD runtime. Each
# may include its own headers and those of the folders before it.
INC     := -Icore -Isys -Ishim -Iinclude
SHIM_CFLAGS := $(CFLAGS_BASE) -fPIC -fdata-sections -fvisibility=hidden -ftls-model=initial-exec -fno-builtin-malloc \
               -fno-builtin-free -fno-builtin-calloc -fno-builtin-realloc -fno-stack-protector $(INC) \
               -include shim/glibc_compat.h
CORE_SRC := $(wildcard core/*.c)
SYS_SRC  := $(wildcard sys/*.c)
SHIM_SRC := $(wildcard shim/*.c)
HDRS     := $(wildcard core/*.h core/*.def sys/*.h shim/*.h shim/*.def)
SHIM_OBJ := $(patsubst %.c,$(BUILD)/%.o,$(CORE_SRC) $(SYS_SRC) $(SHIM_SRC))
LIB     := $(BUILD)/libovershim.so
CLI     := $(BUILD)/overshim

.PHONY: all deps test unit integ demo bench clean examples fuzz stress install uninstall matrix kernels vm-deps
all: deps $(LIB) $(CLI)

deps:
	@bash scripts/deps.sh

$(BUILD) $(BUILD)/core $(BUILD)/sys $(BUILD)/shim $(BUILD)/tests $(BUILD)/asan:
	@mkdir -p $@

# The shim's private libunwind (scripts/libunwind.sh): Debian's source package of this
# suite, built once into build/libunwind as PIC static objects. Its mmap, munmap, malloc
# and free are renamed (shim/libunwind.syms): its memory comes from the shim's raw system
# calls, never through a wrapper or the program's allocator.
UNW     := $(BUILD)/libunwind
$(UNW)/lib/libunwind.a: | deps
	@CC="$(CC)" bash scripts/libunwind.sh $(BUILD)
$(BUILD)/libunwind-private.a: $(UNW)/lib/libunwind.a shim/libunwind.syms
	objcopy --redefine-syms=shim/libunwind.syms $< $@

# Export only the interposed names (from the one table) and the public API.
$(BUILD)/exports.map: shim/symbols.def | $(BUILD)/shim
	@{ echo '{ global:'; $(CC) -E -P -x c -D'OSH_SYM(r,n)=n;' shim/symbols.def; echo '  overshim_*;'; \
	   echo 'local: *; };'; } > $@

$(BUILD)/core/%.o: core/%.c $(HDRS) | $(BUILD)/core
	$(CC) $(SHIM_CFLAGS) -c $< -o $@
$(BUILD)/sys/%.o: sys/%.c $(HDRS) | $(BUILD)/sys
	$(CC) $(SHIM_CFLAGS) -c $< -o $@
$(BUILD)/shim/%.o: shim/%.c $(HDRS) | $(BUILD)/shim
	$(CC) $(SHIM_CFLAGS) -c $< -o $@

# The two users of libunwind's API, against its built headers (ahead of any in /usr/include).
$(BUILD)/shim/unwind.o $(BUILD)/shim/rstack.o: $(BUILD)/shim/%.o: shim/%.c $(HDRS) $(UNW)/lib/libunwind.a | $(BUILD)/shim
	$(CC) -I$(UNW)/include $(SHIM_CFLAGS) -c $< -o $@

# The demangler (core/demangle.h): libiberty's cp-demangle.o (libiberty-dev; PIC), with its
# malloc, realloc and free renamed to stubs that fail, its sprintf to the formatter and its __stack_chk_fail to a trap,
# joined with core/demangle.c into one
# object; the version script keeps all of it local.
# (expanded when used, after deps has installed libiberty-dev)
LIBIBERTY = $(shell $(CC) -print-file-name=libiberty.a)
$(BUILD)/core/demangle.o: core/demangle.c core/demangle.h | $(BUILD)/core
	$(CC) $(SHIM_CFLAGS) -c $< -o $@.own.o
	ar p $(LIBIBERTY) cp-demangle.o > $@.cpd.o
	objcopy --redefine-sym malloc=osh_demangle_no_malloc --redefine-sym realloc=osh_demangle_no_realloc \
	  --redefine-sym free=osh_demangle_no_free --redefine-sym __sprintf_chk=osh_demangle_sprintf_chk \
	  --redefine-sym __stack_chk_fail=osh_demangle_stack_chk_fail $@.cpd.o
	ld -r $@.own.o $@.cpd.o -o $@

# The fork path keeps source order, so that its code shares one page (interpose_fork.c).
$(BUILD)/shim/interpose_fork.o: SHIM_CFLAGS += -fno-toplevel-reorder -fno-reorder-functions

$(LIB): $(SHIM_OBJ) $(BUILD)/exports.map $(BUILD)/libunwind-private.a
	$(CC) -shared -nostartfiles -o $@ $(SHIM_OBJ) -Wl,--version-script=$(BUILD)/exports.map \
	  -Wl,--exclude-libs,ALL -Wl,-z,defs -Wl,--sort-section=alignment $(BUILD)/libunwind-private.a

# The command is one static-pie executable (no NEEDED library, no glibc symbol version), so
# the one built here runs on glibc 2.17 and later like the library: libdw, libelf, their
# compressors (pkg-config --static) and libstdc++ (__cxa_demangle) come from Debian's .a
# files. libdw's dlopen/dlsym/dlclose of libdebuginfod.so are renamed to stubs (cli/nodl.c):
# a static program cannot load another glibc's shared library. Before glibc 2.34 a static
# program needs all of libpthread.a (libdw's rwlocks misbehave with a part of it: its
# hash-table lookups spun forever on bullseye); from 2.34 on libpthread.a is empty.
$(BUILD)/cli/libdw.a: | deps
	@mkdir -p $(BUILD)/cli
	objcopy --redefine-sym dlopen=overshim_cli_dlopen --redefine-sym dlsym=overshim_cli_dlsym \
	  --redefine-sym dlclose=overshim_cli_dlclose "$$($(CC) -print-file-name=libdw.a)" $@

# What elfutils 0.192's libelf.a lacks (cli/compat/eu_search.c), taken only where it does.
$(BUILD)/cli/libeucompat.a: cli/compat/eu_search.c | deps
	@mkdir -p $(BUILD)/cli
	$(CC) $(CFLAGS_BASE) -c $< -o $(BUILD)/cli/eu_search.o
	rm -f $@ && ar rcs $@ $(BUILD)/cli/eu_search.o

# It links core/ and sys/ as they are (the demangler's libiberty part as the library has it).
$(CLI): cli/*.c cli/*.h cli/lib/*.c cli/lib/*.h $(CORE_SRC) $(SYS_SRC) $(HDRS) $(BUILD)/core/demangle.o $(BUILD)/cli/libdw.a $(BUILD)/cli/libeucompat.a | $(BUILD)
	$(CC) $(CFLAGS_BASE) $(INC) -Icli -Icli/lib -static-pie cli/*.c cli/lib/*.c $(filter-out core/demangle.c,$(CORE_SRC)) $(SYS_SRC) \
	  $(BUILD)/core/demangle.o -o $@ $(BUILD)/cli/libdw.a \
	  $$(pkg-config --static --libs libdw | tr ' ' '\n' | grep -vxE -- '-ldw|-pthread|-lpthread') \
	  $(BUILD)/cli/libeucompat.a -lstdc++ -lm -Wl,--whole-archive -lpthread -Wl,--no-whole-archive

# The seed examples (examples/README.md).
EXAMPLES := $(BUILD)/examples/fixed512 $(BUILD)/examples/bigfork $(BUILD)/examples/threads
$(BUILD)/examples:
	@mkdir -p $@
$(BUILD)/examples/%: examples/c/%.c | $(BUILD)/examples
	$(CC) $(CFLAGS_BASE) -O1 $< -o $@ -lpthread
examples: all $(EXAMPLES)

include tests/tests.mk

# Installation (PREFIX, DESTDIR). The command finds the library in ../lib.
PREFIX  ?= /usr/local
LIBDIR  ?= $(PREFIX)/lib
INSTALLED := $(LIBDIR)/libovershim.so $(PREFIX)/bin/overshim $(PREFIX)/include/overshim.h $(PREFIX)/include/overshim_flight.h \
             $(LIBDIR)/pkgconfig/overshim.pc $(PREFIX)/share/man/man1/overshim.1 $(PREFIX)/share/man/man7/overshim.7 \
             $(PREFIX)/share/overshim/valgrind.supp
install: all
	install -D -m 0755 $(LIB) $(DESTDIR)$(LIBDIR)/libovershim.so
	install -D -m 0755 $(CLI) $(DESTDIR)$(PREFIX)/bin/overshim
	install -D -m 0644 include/overshim.h $(DESTDIR)$(PREFIX)/include/overshim.h
	install -D -m 0644 include/overshim_flight.h $(DESTDIR)$(PREFIX)/include/overshim_flight.h
	install -D -m 0644 man/overshim.1 $(DESTDIR)$(PREFIX)/share/man/man1/overshim.1
	install -D -m 0644 man/overshim.7 $(DESTDIR)$(PREFIX)/share/man/man7/overshim.7
	install -D -m 0644 docs/valgrind.supp $(DESTDIR)$(PREFIX)/share/overshim/valgrind.supp
	mkdir -p $(DESTDIR)$(LIBDIR)/pkgconfig
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' man/overshim.pc.in > $(DESTDIR)$(LIBDIR)/pkgconfig/overshim.pc
uninstall:
	rm -f $(addprefix $(DESTDIR),$(INSTALLED))

clean:
	rm -rf $(BUILD)

# Every supported Debian suite in a chroot (scripts/matrix.sh): the source built and tested
# there, and these binaries' integration tests there. Not part of make test; needs root.
matrix:
	@BUILD=$(BUILD) bash scripts/matrix.sh $(SUITES)

# Debian's kernels in qemu (scripts/kernels.sh; README "Real kernels"): fetch, boot, run
# tests/vm/suite.sh, assert on the host. One VM at a time. KERNELS="bullseye sid" runs some.
KERNELS ?= bullseye bookworm trixie sid
$(BUILD)/vmprobe: tests/vm/vmprobe.c | $(BUILD)
	$(CC) $(CFLAGS_BASE) -O1 $< -o $@ -lpthread
vm-deps:
	@bash scripts/deps.sh vm
kernels: all vm-deps $(BUILD)/vmprobe $(BUILD)/tests/timeline
	@BUILD=$(BUILD) bash scripts/kernels.sh $(KERNELS)

demo: all $(EXAMPLES)
	@BUILD=$(BUILD) bash examples/demo.sh
