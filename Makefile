# Makefile -- `make` builds everything, `make test` tests everything.
#
# Layout of a build tree (build/, or build/san/ with SAN=1 so the two never
# share objects):
#   lib/libstore.a   all of common/: protocol, placement, erasure code, client
#   bin/             every program: store-mds, store-osd, storefs, storectl,
#                    crushsim, ecbench, ...
#   tests/           cmocka unit tests, one per tests/unit/test_*.c
#   fuzz/            libFuzzer targets, one per tests/fuzz/fuzz_*.c (clang)
#
# The public targets (all, test, run, bench, fuzz) first run `deps`, which
# installs missing Debian packages, then re-enter make: pkg-config is only
# asked for flags after the packages exist, so a fresh Debian 12 machine needs
# nothing but `make test`.

SAN ?= 0
ifeq ($(SAN),1)
  B := build/san
  SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer \
              -fno-sanitize-recover=all
else
  B := build
  SANFLAGS :=
endif

CC       := gcc
FUZZCC   := clang
PKGS     := liburing libisal libsodium nanomsg fuse3 lmdb
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
WARN     := -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter
CFLAGS   := -O2 -g -std=gnu11 $(WARN) -D_GNU_SOURCE -pthread -Icommon \
            $(PKG_CFLAGS) $(SANFLAGS) -MMD -MP
LDFLAGS  := -pthread $(SANFLAGS)
LDLIBS   := $(PKG_LIBS) -lm

# Packages `make deps` installs when missing.  Build: compilers and -dev
# libraries.  Tests: cmocka, bats, fio (benchmarks), fuse3 (fusermount3),
# iproute2 (network namespaces), jq (JSON in cluster tests), attr (xattr
# tools), rsync, psmisc, procps, clang + its runtime (libFuzzer).
DEPS := build-essential pkg-config clang libclang-rt-14-dev \
        liburing-dev libisal-dev libsodium-dev libnanomsg-dev libfuse3-dev \
        fuse3 liblmdb-dev libcmocka-dev bats fio iproute2 jq attr rsync \
        psmisc procps xxd

COMMON_SRC := $(sort $(wildcard common/*.c))
COMMON_OBJ := $(COMMON_SRC:%.c=$(B)/obj/%.o)
LIB        := $(B)/lib/libstore.a

# One program per daemon directory: DIR/main.c holds main(), every other
# DIR/*.c goes into build/lib/libNAME.a, which unit tests link too.
DAEMON_DIRS := mds:store-mds osd:store-osd fuse:storefs tools/storectl:storectl
DAEMON_LIBS :=
define daemon_rule
$(1)_SRC := $$(sort $$(wildcard $(1)/*.c))
$(1)_LIBSRC := $$(filter-out $(1)/main.c,$$($(1)_SRC))
ifneq ($$($(1)_LIBSRC),)
DAEMON_LIBS += $(B)/lib/lib$(2).a
$(B)/lib/lib$(2).a: $$($(1)_LIBSRC:%.c=$(B)/obj/%.o)
	@mkdir -p $$(@D)
	@rm -f $$@
	ar rcs $$@ $$^
endif
ifneq ($$(wildcard $(1)/main.c),)
PROGS += $(B)/bin/$(2)
$(B)/bin/$(2): $(B)/obj/$(1)/main.o $$(if $$($(1)_LIBSRC),$(B)/lib/lib$(2).a) $(LIB)
	@mkdir -p $$(@D)
	$$(CC) $$(LDFLAGS) -o $$@ $$^ $$(LDLIBS)
endif
endef
$(foreach d,$(DAEMON_DIRS),$(eval $(call daemon_rule,$(word 1,$(subst :, ,$(d))),$(word 2,$(subst :, ,$(d))))))

# Every tools/NAME.c is a one-file program NAME.
TOOL_SRC := $(sort $(wildcard tools/*.c))
PROGS    += $(TOOL_SRC:tools/%.c=$(B)/bin/%)

UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNITS    := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)

FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZERS  := $(FUZZ_SRC:tests/fuzz/%.c=$(B)/fuzz/%)
FUZZ_LIB_OBJ := $(COMMON_SRC:%.c=$(B)/fuzzobj/%.o)
FUZZFLAGS := -O1 -g -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter \
             -D_GNU_SOURCE -pthread -Icommon $(PKG_CFLAGS) \
             -fsanitize=fuzzer-no-link,address,undefined

.PHONY: all build deps test test-long test-long-only check-build units fuzz fuzz-build \
        run bench clean help
.DEFAULT_GOAL := all

all: deps
	@$(MAKE) --no-print-directory build

help:
	@echo "make            build everything into $(B)/"
	@echo "make test       install what is missing, build, run every test"
	@echo "make SAN=1 test the same under ASan/UBSan (build/san/)"
	@echo "make test-long  also the slow tests and 60 s per fuzz target"
	@echo "make run        start a local cluster and show it working"
	@echo "make bench      benchmarks, as ratios to this machine's limits"
	@echo "make fuzz       build the libFuzzer targets"

# deps: install the Debian packages that are missing, and nothing else.
deps:
	@missing=""; for p in $(DEPS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' \
	    || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "deps: installing$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq \
	    --no-install-recommends $$missing >/dev/null || \
	  { echo "deps: apt-get install failed for:$$missing" >&2; exit 1; }; \
	fi

build: $(LIB) $(DAEMON_LIBS) $(PROGS)

$(LIB): $(COMMON_OBJ)
	@mkdir -p $(@D)
	@rm -f $@
	ar rcs $@ $^

$(B)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c -o $@ $<

$(B)/bin/%: tools/%.c $(LIB)
	@mkdir -p $(@D) $(B)/obj/tools
	$(CC) $(CFLAGS) -MF $(B)/obj/tools/$*.d -MT $@ $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS)

$(B)/tests/%: tests/unit/%.c $(DAEMON_LIBS) $(LIB)
	@mkdir -p $(@D) $(B)/obj/tests
	$(CC) $(CFLAGS) -MF $(B)/obj/tests/$*.d -MT $@ $(LDFLAGS) -o $@ $< $(DAEMON_LIBS) $(LIB) $(LDLIBS) -lcmocka

units: $(UNITS)

$(B)/fuzzobj/%.o: %.c
	@mkdir -p $(@D)
	$(FUZZCC) $(FUZZFLAGS) -MMD -MP -c -o $@ $<

$(B)/fuzz/%: tests/fuzz/%.c $(FUZZ_LIB_OBJ)
	@mkdir -p $(@D)
	$(FUZZCC) $(FUZZFLAGS) -fsanitize=fuzzer -MF $(B)/fuzzobj/$*.d -MT $@ -o $@ $^ $(LDLIBS)

fuzz-build: $(FUZZERS)

fuzz: deps
	@$(MAKE) --no-print-directory fuzz-build

check-build: build units fuzz-build

# test: everything a change must pass; ends with one summary line.
test: deps
	@$(MAKE) --no-print-directory check-build
	@STORE_BUILD=$(B) SAN=$(SAN) tests/run.sh

test-long: deps
	@$(MAKE) --no-print-directory check-build
	@STORE_BUILD=$(B) SAN=$(SAN) tests/run.sh --long

# test-long-only: just what test-long adds (for CI after `make test`).
test-long-only: deps
	@$(MAKE) --no-print-directory check-build
	@STORE_BUILD=$(B) SAN=$(SAN) tests/run.sh --long-only

run: deps
	@$(MAKE) --no-print-directory build
	@STORE_BUILD=$(B) tools/run-demo

bench: deps
	@$(MAKE) --no-print-directory build
	@STORE_BUILD=$(B) tools/bench

clean:
	rm -rf build

-include $(shell find $(B)/obj $(B)/fuzzobj -name '*.d' 2>/dev/null)
