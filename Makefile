# haze - one non-recursive Makefile (STYLE.md "Makefile and flags").
#
#   make            bin/haze-*          make check   every test (README's command)
#   make asan       check under ASan+UBSan, fails on any sanitizer report
#   make fuzz       libFuzzer targets (clang), FUZZ_SECONDS each
#   make bench      benchmarks (not part of check)      make deps   install packages
#   make soak       traffic under faults (SOAK_SECONDS, default 600; not part of check)
#   make unit / fuzz-replay / integration / e2e   one suite of check at a time
#
# Every goal that builds first makes build/config.mk (scripts/config.sh:
# install missing packages, then ask pkg-config), so a new machine needs
# nothing before `make check`.
#
# Variants build into their own folder: BUILD=build/asan never mixes with build/release.

SHELL    := /bin/bash
# Libraries (pkg-config names), and the ones each program links: the
# internet-facing collector has no LMDB, the dashboard no Redis (lint checks).
PKGS      := libevent libevent_pthreads libevent_openssl libssl libcrypto hiredis lmdb liburing \
             libmaxminddb inih jansson libpcre2-8 criterion
TLS_LIBS  := libevent_openssl libssl libcrypto
NEEDS_collector  := libevent libevent_pthreads $(TLS_LIBS) hiredis libmaxminddb inih jansson \
                    libpcre2-8 liburing
NEEDS_ua         := libpcre2-8
NEEDS_geo        := libmaxminddb inih
NEEDS_aggregator := hiredis lmdb inih
NEEDS_dashboard  := libevent $(TLS_LIBS) lmdb inih jansson libpcre2-8
NEEDS_loadgen    := libevent jansson
# Sources without pkg-config: llhttp (Node.js's HTTP parser, the
# collector's front) is compiled from Debian's node-llhttp package where it
# is installed, never copied into the tree (scripts/config.sh checks it).
LLHTTP_DIR := /usr/share/llhttp
LLHTTP_INC := /usr/share/include/llhttp
LLHTTP_SRC := $(LLHTTP_DIR)/api.c $(LLHTTP_DIR)/http.c $(LLHTTP_DIR)/llhttp.c
# package:file pairs scripts/config.sh checks (the collector's sources).
SRC_DEPS   := $(foreach f,$(LLHTTP_SRC) $(LLHTTP_INC)/llhttp.h,node-llhttp:$(f))
# The part archives each program links (libhz<folder>.a).
PARTS_collector  := collector geo common
PARTS_ua         := collector common
PARTS_geo        := geo common
PARTS_aggregator := aggregator common
PARTS_dashboard  := dashboard common
PARTS_loadgen    := common
BUILD    ?= build/release
BIN      ?= bin
CC       ?= cc
CSTD     := -std=c11 -D_GNU_SOURCE
WARN     := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
            -Wpointer-arith -Wformat=2 -Wwrite-strings -Wcast-align -Wundef -Wvla \
            -Wno-format-nonliteral
WERROR   ?= -Werror
OPT      ?= -O2 -g
HARDEN   ?= -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fstack-clash-protection
SAN      ?=
CFLAGS   := $(CSTD) $(WARN) $(WERROR) $(OPT) $(HARDEN) $(SAN) -fPIE -MMD -MP -pthread
CPPFLAGS  = -I. -I$(BUILD)/gen $(PC_CFLAGS) -I$(LLHTTP_INC)
LDFLAGS  := $(SAN) -pie -Wl,-z,relro,-z,now -pthread
pclibs    = $(foreach p,$(1),$(PC_LIBS_$(p)))
LDLIBS    = $(call pclibs,$(filter-out criterion,$(PKGS))) -lm
TESTLIBS  = $(PC_LIBS_criterion)

# build/config.mk holds the pkg-config flags. It is made (by scripts/config.sh,
# which first installs missing packages with scripts/deps.sh) before anything
# else, and make then starts over with it read: so the first `make check` on a
# new machine installs, then builds, with -j too. Goals that build nothing do
# not need it.
CONFIG_MK := build/config.mk
NOCONFIG  := clean deps lint format format-check
ifneq ($(filter-out $(NOCONFIG),$(or $(MAKECMDGOALS),all)),)
include $(CONFIG_MK)
endif
$(CONFIG_MK): Makefile scripts/config.sh scripts/deps.sh
	@HZ_SRC_DEPS="$(SRC_DEPS)" sh scripts/config.sh $@ $(PKGS)

# Program entry points: main.c per folder, plus the small operator tools.
MAINS    := collector/main.c collector/ua_main.c geo/main.c aggregator/main.c \
            dashboard/main.c tests/loadgen/main.c
libsrc    = $(filter-out $(MAINS) common/bin2c.c,$(wildcard $(1)/*.c))
objs      = $(patsubst %.c,$(BUILD)/%.o,$(1))

FOLDERS  := dashboard aggregator collector geo common
LIBS     := $(foreach f,$(FOLDERS),$(if $(call libsrc,$(f)),$(BUILD)/libhz$(f).a))

# Embedded assets (bin2c): collector/assets/*, dashboard/assets/*.
COLLECTOR_ASSETS := $(wildcard collector/assets/*.js)
DASHBOARD_ASSETS := $(wildcard dashboard/assets/*.html dashboard/assets/*.js \
                      dashboard/assets/*.css dashboard/assets/vendor/*.js dashboard/assets/vendor/*.css)
ASSET_SRC := $(if $(COLLECTOR_ASSETS),$(BUILD)/gen/collector_assets.c) \
             $(if $(DASHBOARD_ASSETS),$(BUILD)/gen/dashboard_assets.c)

main_src = $(if $(filter collector,$(1)),collector/main.c,$(if $(filter ua,$(1)),collector/ua_main.c,$(if $(filter loadgen,$(1)),tests/loadgen/main.c,$(1)/main.c)))
PROGS := $(foreach p,collector ua geo aggregator dashboard loadgen,$(if $(wildcard $(call main_src,$(p))),$(BIN)/haze-$(p)))

.PHONY: all check test asan fuzz bench soak clean deps lint format format-check run unit integration fuzz-replay e2e testdata
.DEFAULT_GOAL := all

all: $(PROGS)

V ?= 0
Q := $(if $(filter 1,$(V)),,@)

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(BUILD)/gen/%.o: $(BUILD)/gen/%.c
	$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(foreach f,$(FOLDERS),$(eval $(BUILD)/libhz$(f).a: $(call objs,$(call libsrc,$(f))) $(if $(filter collector,$(f)),$(if $(COLLECTOR_ASSETS),$(BUILD)/gen/collector_assets.o)) $(if $(filter dashboard,$(f)),$(if $(DASHBOARD_ASSETS),$(BUILD)/gen/dashboard_assets.o)) ; @rm -f $$@ && ar rcs $$@ $$^))

# bin2c is a host tool, built without sanitizers.
$(BUILD)/tools/bin2c: common/bin2c.c
	@mkdir -p $(@D)
	$(CC) -std=c11 -D_DEFAULT_SOURCE -O2 -Wall -o $@ $<

$(BUILD)/gen/collector_assets.c: $(COLLECTOR_ASSETS) $(BUILD)/tools/bin2c
	@mkdir -p $(@D)
	$(BUILD)/tools/bin2c collector $(COLLECTOR_ASSETS) > $@.tmp && mv $@.tmp $@
$(BUILD)/gen/dashboard_assets.c: $(DASHBOARD_ASSETS) $(BUILD)/tools/bin2c
	@mkdir -p $(@D)
	$(BUILD)/tools/bin2c dashboard $(DASHBOARD_ASSETS) > $@.tmp && mv $@.tmp $@

parts = $(foreach f,$(PARTS_$(1)),$(filter $(BUILD)/libhz$(f).a,$(LIBS)))
# llhttp's generated C is not ours: its own flags, no -Werror.
LLHTTP_OBJ := $(patsubst $(LLHTTP_DIR)/%.c,$(BUILD)/llhttp/%.o,$(LLHTTP_SRC))
$(BUILD)/llhttp/%.o: $(LLHTTP_DIR)/%.c
	@mkdir -p $(@D)
	$(CC) -std=c11 $(OPT) $(HARDEN) $(SAN) -fPIE -I$(LLHTTP_INC) -c $< -o $@
# User agent databases (collector/ua_db.h): npm packages pinned in
# scripts/uadb/package.json, fetched into build/uadb (shared by every
# BUILD variant), turned into C by scripts/uadb/gen.mjs. UADB_UAP picks
# another uap-core regexes.yaml (e.g. Debian's /usr/share/uap-core/regexes.yaml).
UADB     := build/uadb
UADB_UAP ?= $(UADB)/node_modules/uap-core/regexes.yaml
UADB_FIX := $(UADB)/fixtures/uap_ua.tsv
ASSET_SRC += $(BUILD)/gen/ua_db.c
$(UADB)/node_modules/.haze-stamp: scripts/uadb/package.json scripts/uadb/package-lock.json
	@mkdir -p $(UADB)
	cp scripts/uadb/package.json scripts/uadb/package-lock.json $(UADB)/
	cd $(UADB) && npm ci --no-audit --no-fund --loglevel=error
	@touch $@
$(BUILD)/gen/ua_db.c: scripts/uadb/gen.mjs scripts/uadb/prefilter.mjs tests/data/ua-bench.txt \
                      $(UADB)/node_modules/.haze-stamp
	@mkdir -p $(@D)
	node scripts/uadb/gen.mjs db $(UADB)/node_modules $(UADB_UAP) > $@.tmp && mv $@.tmp $@
$(BUILD)/libhzcollector.a: $(BUILD)/gen/ua_db.o $(LLHTTP_OBJ)
# Labelled sets for the accuracy tests, from the packages' own fixtures
# (uap-core's tests from Debian's uap-core package).
$(UADB_FIX): scripts/uadb/gen.mjs $(UADB)/node_modules/.haze-stamp
	node scripts/uadb/gen.mjs fixtures $(UADB)/node_modules /usr/share/uap-core/tests $(UADB)/fixtures

define prog_rule
$(BIN)/haze-$(1): $(call objs,$(call main_src,$(1))) $(call parts,$(1))
	@mkdir -p $$(@D)
	$$(CC) $$(LDFLAGS) -o $$@ $$< $(call parts,$(1)) $$(call pclibs,$(NEEDS_$(1))) -lm
endef
$(foreach p,collector ua geo aggregator dashboard loadgen,$(eval $(call prog_rule,$(p))))

# ---------------------------------------------------------------- tests
UNIT_DIRS  := $(sort $(dir $(wildcard tests/unit/*/*_test.c)))
UNIT_BINS  := $(foreach d,$(UNIT_DIRS),$(BUILD)/tests/unit_$(notdir $(d:/=)))
INTEG_SRC  := $(wildcard tests/integration/*.c)
INTEG_BIN  := $(if $(INTEG_SRC),$(BUILD)/tests/integration_tests)
FUZZ_SRC   := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_NAMES := $(patsubst tests/fuzz/fuzz_%.c,%,$(FUZZ_SRC))
REPLAY_BINS:= $(foreach n,$(FUZZ_NAMES),$(BUILD)/tests/replay_$(n))

define unit_rule
$(BUILD)/tests/unit_$(1): $(call objs,$(wildcard tests/unit/$(1)/*.c)) $(LIBS)
	@mkdir -p $$(@D)
	$$(CC) $$(LDFLAGS) -o $$@ $(call objs,$(wildcard tests/unit/$(1)/*.c)) $(LIBS) $$(LDLIBS) $$(TESTLIBS)
endef
$(foreach d,$(UNIT_DIRS),$(eval $(call unit_rule,$(notdir $(d:/=)))))

$(BUILD)/tests/integration_tests: $(call objs,$(INTEG_SRC)) $(LIBS)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(call objs,$(INTEG_SRC)) $(LIBS) $(LDLIBS) $(TESTLIBS)

$(BUILD)/tests/replay_%: $(BUILD)/tests/fuzz/fuzz_%.o $(BUILD)/tests/fuzz/replay.o $(LIBS)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $< $(BUILD)/tests/fuzz/replay.o $(LIBS) $(LDLIBS)

# Geo fixtures are generated by our own script with Debian's MaxMind DB writer.
TESTDATA := $(BUILD)/testdata/haze-test-city.mmdb
testdata: $(TESTDATA)
$(BUILD)/testdata/haze-test-city.mmdb: tests/data/make-mmdb.pl tests/data/geo-fixture.tsv
	@mkdir -p $(@D)
	perl tests/data/make-mmdb.pl tests/data/geo-fixture.tsv $@

CRITERION_FLAGS ?= --jobs 2
export HZ_BUILD := $(BUILD)
export HZ_BIN := $(BIN)
export HZ_SAN := $(SAN)

check: all $(UNIT_BINS) $(INTEG_BIN) $(REPLAY_BINS) $(if $(wildcard tests/data/make-mmdb.pl),$(TESTDATA)) $(UADB_FIX)
	@sh scripts/lint.sh
	@if [ -z "$(SAN)" ]; then echo "== first-run build"; sh tests/firstrun/run.sh; fi
	@set -e; for t in $(UNIT_BINS); do echo "== $$t"; sh tests/criterion-run.sh $$t $(CRITERION_FLAGS); done
	@if [ -n "$(REPLAY_BINS)" ]; then sh tests/fuzz/replay.sh $(BUILD) $(FUZZ_NAMES); fi
	@if [ -f tests/js/haze-smoke.mjs ]; then echo "== tracker smoke test"; node tests/js/haze-smoke.mjs; fi
	@if [ -n "$(INTEG_BIN)" ]; then sh tests/integration/run.sh $(INTEG_BIN) $(CRITERION_FLAGS); fi
	@if [ -f tests/e2e/run.sh ]; then sh tests/e2e/run.sh; fi
test: check

# The suites of check one by one (what check runs, in the same way).
unit: all $(UNIT_BINS) $(if $(wildcard tests/data/make-mmdb.pl),$(TESTDATA)) $(UADB_FIX)
	@set -e; for t in $(UNIT_BINS); do echo "== $$t"; sh tests/criterion-run.sh $$t $(CRITERION_FLAGS); done
fuzz-replay: $(REPLAY_BINS)
	@if [ -n "$(REPLAY_BINS)" ]; then sh tests/fuzz/replay.sh $(BUILD) $(FUZZ_NAMES); fi
integration: all $(INTEG_BIN) $(if $(wildcard tests/data/make-mmdb.pl),$(TESTDATA))
	@if [ -n "$(INTEG_BIN)" ]; then sh tests/integration/run.sh $(INTEG_BIN) $(CRITERION_FLAGS); fi
e2e: all
	@if [ -f tests/e2e/run.sh ]; then sh tests/e2e/run.sh; fi

# ASan+UBSan: Criterion passes a test that leaks, and the daemons that the
# integration tests start write their reports to their own logs, so every
# process reports into build/asan/san/ and the target fails on any report.
SAN_DIR := $(CURDIR)/build/asan/san
asan:
	@rm -rf $(SAN_DIR) && mkdir -p $(SAN_DIR)
	ASAN_OPTIONS=log_path=$(SAN_DIR)/asan:detect_leaks=1:abort_on_error=0 \
	UBSAN_OPTIONS=log_path=$(SAN_DIR)/ubsan:print_stacktrace=1 \
	LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0 \
	$(MAKE) BUILD=build/asan BIN=build/asan/bin OPT='-O1 -g' HARDEN= \
	  SAN='-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer' \
	  check 2>&1 | tee build/asan.log; test $${PIPESTATUS[0]:-0} = 0
	@if grep -Eq 'ERROR: (Leak|Address)Sanitizer|runtime error:' build/asan.log || \
	    grep -lqsE 'ERROR: |runtime error' $(SAN_DIR)/*; then \
	  echo "asan: sanitizer reports:"; head -50 $(SAN_DIR)/* 2>/dev/null; exit 1; fi
	@echo "asan: clean"

FUZZ_SECONDS ?= 30
FUZZ_CFLAGS := -std=c11 -D_DEFAULT_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined -pthread
fuzz: $(TESTDATA) $(ASSET_SRC)
	@mkdir -p build/fuzz
	@set -e; for n in $(FUZZ_NAMES); do \
	  clang $(FUZZ_CFLAGS) $(CPPFLAGS) -o build/fuzz/fuzz_$$n tests/fuzz/fuzz_$$n.c \
	    $(filter-out %main.c %ua_main.c common/bin2c.c,$(wildcard common/*.c collector/*.c geo/*.c aggregator/*.c dashboard/*.c)) \
	    $(LLHTTP_SRC) $(ASSET_SRC) $(LDLIBS) || { echo "fuzz: build of $$n failed"; exit 1; }; \
	  mkdir -p build/fuzz/corpus_$$n; \
	  build/fuzz/fuzz_$$n -max_total_time=$(FUZZ_SECONDS) \
	    $$( [ -f tests/fuzz/dict/$$n.dict ] && echo -dict=tests/fuzz/dict/$$n.dict ) \
	    build/fuzz/corpus_$$n tests/fuzz/corpus/$$n; \
	done

bench: all
	sh tests/bench/run.sh

# make soak: scripts/soak.sh on an ASan+UBSan build (SOAK_ASAN=0: this
# build). SOAK_SECONDS, SOAK_RATE, SOAK_EACH, SOAK_SEED: see the script.
SOAK_ASAN ?= 1
$(BUILD)/tests/soak_audit: $(BUILD)/tests/soak/audit.o $(LIBS)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $< $(LIBS) $(LDLIBS)
soak:
ifeq ($(SOAK_ASAN),1)
	$(MAKE) BUILD=build/asan BIN=build/asan/bin OPT='-O1 -g' HARDEN= \
	  SAN='-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer' \
	  all build/asan/tests/soak_audit build/asan/testdata/haze-test-city.mmdb
	HZ_BIN=build/asan/bin HZ_BUILD=build/asan SOAK_ASAN=1 bash scripts/soak.sh
else
	$(MAKE) all $(BUILD)/tests/soak_audit $(TESTDATA)
	HZ_BIN=$(BIN) HZ_BUILD=$(BUILD) SOAK_ASAN=0 bash scripts/soak.sh
endif

deps:
	@sh scripts/deps.sh

run: all
	sh scripts/run.sh

lint:
	@sh scripts/lint.sh

format:
	clang-format -i $$(git ls-files '*.c' '*.h')
format-check:
	clang-format --dry-run -Werror $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build bin

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
