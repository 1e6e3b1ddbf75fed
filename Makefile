# vmroam build.  "make deps" installs what the build needs (Debian packages
# and a cached static libopenvswitch); "make" builds bin/; "make check" runs
# every test; "make check SANITIZE=1" runs them on an ASan/UBSan build.

OVS := $(shell cmd/deps.sh --dir 2>/dev/null)

ifeq ($(notdir $(OVS)),ovs-)
# A fresh machine: openvswitch-source is not installed yet, so where its
# build will live is not known.  Install everything first, then run the
# same goals again.
GOALS := $(or $(MAKECMDGOALS),all)
.PHONY: $(GOALS) bootstrap
$(GOALS): bootstrap
	@:
bootstrap:
	cmd/deps.sh
	@$(MAKE) --no-print-directory $(GOALS)
else
ifeq ($(SANITIZE),1)
B := build/asan
BIN := build/asan/bin
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer \
	     -fno-sanitize-recover=undefined
else
B := build/default
BIN := bin
SAN_FLAGS :=
endif

CC ?= gcc
WARN := -Wall -Wextra -Werror -Wno-unused-parameter \
	-Wno-sign-compare -Wno-missing-field-initializers
CFLAGS ?= -O2 -g
CFLAGS += $(WARN) $(SAN_FLAGS) -std=gnu11
CPPFLAGS += -I. -Ibuild/gen -I$(OVS) -I$(OVS)/include -I$(OVS)/lib \
	    $(shell pkg-config --cflags libnl-route-3.0 libvirt libxml-2.0 2>/dev/null)
LDFLAGS += $(SAN_FLAGS)
OVS_LIBS := $(OVS)/lib/.libs/libopenvswitch.a -lssl -lcrypto -lcap-ng \
	    -lunbound -latomic -lm -lpthread -lrt -lnl-route-3 -lnl-3 -lvirt -lxml2 -llz4
OVS_STAMP := $(OVS)/.vmroam-built

PYTHONPATH_IDL := $(OVS)/python
IDLC := PYTHONPATH=$(PYTHONPATH_IDL) python3 $(OVS)/ovsdb/ovsdb-idlc

LIB_SRCS := $(wildcard policy/*.c overlay/*.c ipam/*.c migrator/*.c)
LIB_OBJS := $(LIB_SRCS:%.c=$(B)/%.o) $(B)/gen/policy/vmroam-idl.o \
	    $(B)/gen/policy/schema.o
GEN_HDRS := build/gen/policy/vmroam-idl.h build/gen/vmroam-version.h

CLI_SRCS := cmd/vmroam.c $(wildcard cmd/*-ctl.c)
UNIT_SRCS := $(wildcard tests/unit/test-*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(B)/tests/%)

.PHONY: all deps check bench fuzz demo clean install uninstall
all: $(BIN)/vmroam $(BIN)/vmroamd $(UNIT_BINS)

deps:
	@cmd/deps.sh

$(OVS_STAMP):
	cmd/deps.sh

build/gen/policy/vmroam.ovsidl: policy/vmroam.ovsschema policy/vmroam-idl.ann $(OVS_STAMP)
	@mkdir -p $(@D)
	$(IDLC) annotate policy/vmroam.ovsschema policy/vmroam-idl.ann > $@.tmp
	mv $@.tmp $@

build/gen/policy/vmroam-idl.h: build/gen/policy/vmroam.ovsidl
	$(IDLC) c-idl-header $< > $@.tmp && mv $@.tmp $@

build/gen/policy/vmroam-idl.c: build/gen/policy/vmroam.ovsidl
	$(IDLC) c-idl-source $< > $@.tmp && mv $@.tmp $@

# The build's version, which hosts compare before a VM moves between them.
build/gen/vmroam-version.h: VERSION
	@mkdir -p $(@D)
	printf '#define VMROAM_VERSION "%s"\n' "$$(cat $<)" > $@.tmp && mv $@.tmp $@

# The schema is compiled in, so that "vmroam db start" needs no data files.
build/gen/policy/schema.c: policy/vmroam.ovsschema
	@mkdir -p $(@D)
	{ echo 'const char policy_schema_json[] = {'; \
	  od -An -v -tx1 $< | sed 's/\([0-9a-f][0-9a-f]\)/0x\1,/g'; \
	  echo '0x00 };'; } > $@.tmp && mv $@.tmp $@

$(B)/%.o: %.c $(GEN_HDRS) $(OVS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

$(B)/gen/%.o: build/gen/%.c $(GEN_HDRS)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -Wno-error -c $< -o $@

$(B)/libvmroam.a: $(LIB_OBJS)
	rm -f $@ && ar rcs $@ $^

$(BIN)/vmroam: $(CLI_SRCS:%.c=$(B)/%.o) $(B)/libvmroam.a
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) $^ $(OVS_LIBS) -o $@

$(BIN)/vmroamd: $(B)/cmd/vmroamd.o $(B)/libvmroam.a
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) $^ $(OVS_LIBS) -o $@

$(B)/tests/%: $(B)/tests/unit/%.o $(B)/libvmroam.a
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) $^ $(OVS_LIBS) -lcmocka -o $@

# "make check" runs every test on the normal build, then again on an
# AddressSanitizer + UBSan build (the second half alone: "make check
# SANITIZE=1"), then the fuzzers for CHECK_FUZZ_TIME seconds each.  It
# builds the benchmark's program too, so that a change of the API it uses
# cannot leave "make bench" broken.
ifeq ($(SANITIZE),1)
check: deps all $(B)/bench/frame-bench
	@VMROAM_BIN=$(abspath $(BIN)) tests/run-all $(UNIT_BINS)
else
check: deps all $(B)/bench/frame-bench
	@VMROAM_BIN=$(abspath $(BIN)) tests/run-all $(UNIT_BINS)
	@echo "=== the same tests under AddressSanitizer and UBSan"
	@$(MAKE) --no-print-directory check SANITIZE=1
	@echo "=== the fuzzers, $(CHECK_FUZZ_TIME) s each"
	@$(MAKE) --no-print-directory fuzz FUZZ_TIME=$(CHECK_FUZZ_TIME)
endif

demo: deps all
	@labs/demo

# The framing micro-benchmark, which tests/bench/frame.sh runs.
$(B)/bench/frame-bench: $(B)/tests/bench/frame-bench.o $(B)/libvmroam.a
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) $^ $(OVS_LIBS) -o $@

bench: deps all $(B)/bench/frame-bench
	@VMROAM_BIN=$(abspath $(BIN)) VMROAM_BUILD=$(abspath $(B)) \
	    tests/bench/run

# The policy parser and the migration stream's frame decoder under
# libFuzzer (clang), for FUZZ_TIME seconds each; each run prints how many
# executions it did ("make check" runs them for CHECK_FUZZ_TIME seconds
# each).
FUZZ_CC ?= clang
FUZZ_TIME ?= 30
CHECK_FUZZ_TIME ?= 30
FUZZ_B := build/fuzz
FUZZ_FLAGS := -O1 -g -std=gnu11 $(WARN) -fno-omit-frame-pointer \
	      -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_OBJS := $(patsubst %.c,$(FUZZ_B)/%.o,$(wildcard policy/*.c)) \
	     $(FUZZ_B)/gen/policy/vmroam-idl.o $(FUZZ_B)/gen/policy/schema.o

$(FUZZ_B)/%.o: %.c $(GEN_HDRS) $(OVS_STAMP)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link \
	    -MMD -MP -c $< -o $@

$(FUZZ_B)/gen/%.o: build/gen/%.c $(GEN_HDRS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_FLAGS) -Wno-error -c $< -o $@

$(FUZZ_B)/fuzz-policy: $(FUZZ_B)/tests/fuzz/fuzz-policy.o $(FUZZ_OBJS)
	$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer $^ $(OVS_LIBS) -o $@

$(FUZZ_B)/fuzz-frame: $(FUZZ_B)/tests/fuzz/fuzz-frame.o \
		      $(FUZZ_B)/migrator/frame.o $(FUZZ_B)/migrator/compress.o \
		      $(FUZZ_B)/migrator/checksum.o
	$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer $^ $(OVS_LIBS) -o $@

fuzz: deps $(FUZZ_B)/fuzz-policy $(FUZZ_B)/fuzz-frame
	@tests/fuzz/run $(FUZZ_B)/fuzz-policy $(FUZZ_TIME) $(FUZZ_B)/policy \
	    tests/fuzz/corpus -max_len=4096 -dict=tests/fuzz/policy.dict \
	    $(FUZZ_ARGS)
	@tests/fuzz/run $(FUZZ_B)/fuzz-frame $(FUZZ_TIME) $(FUZZ_B)/frame \
	    tests/fuzz/frame-corpus -max_len=16384 $(FUZZ_ARGS)

# "make install" puts the programs, manual pages and systemd units under
# $(DESTDIR)$(PREFIX): vmroam in bin, the vmroamd daemon in sbin, the pages
# in share/man/man8, the units in lib/systemd/system (with the installed
# paths in them), and an example /etc/default/vmroamd unless there is one.
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
SBINDIR ?= $(PREFIX)/sbin
MAN8DIR ?= $(PREFIX)/share/man/man8
UNITDIR ?= $(PREFIX)/lib/systemd/system
SYSCONFDIR ?= /etc
UNITS := vmroamd.service vmroam-db.service
INSTALLED := $(BINDIR)/vmroam $(SBINDIR)/vmroamd $(MAN8DIR)/vmroam.8 \
	     $(MAN8DIR)/vmroamd.8 $(UNITS:%=$(UNITDIR)/%)

install: $(BIN)/vmroam $(BIN)/vmroamd
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MAN8DIR) \
	    $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSCONFDIR)/default
	install -m 755 $(BIN)/vmroam $(DESTDIR)$(BINDIR)/vmroam
	install -m 755 $(BIN)/vmroamd $(DESTDIR)$(SBINDIR)/vmroamd
	install -m 644 cmd/vmroam.8 cmd/vmroamd.8 $(DESTDIR)$(MAN8DIR)
	for u in $(UNITS); do \
	    sed -e 's|@bindir@|$(BINDIR)|g' -e 's|@sbindir@|$(SBINDIR)|g' \
	        cmd/$$u.in > $(DESTDIR)$(UNITDIR)/$$u && \
	    chmod 644 $(DESTDIR)$(UNITDIR)/$$u || exit 1; \
	done
	test -e $(DESTDIR)$(SYSCONFDIR)/default/vmroamd || \
	    install -m 644 cmd/vmroamd.default \
	        $(DESTDIR)$(SYSCONFDIR)/default/vmroamd

# Leaves /etc/default/vmroamd, which may hold the administrator's options.
uninstall:
	rm -f $(INSTALLED:%=$(DESTDIR)%)

clean:
	rm -rf build bin

-include $(shell find build -name '*.d' 2>/dev/null)
.SECONDARY:

endif
