# kiln — see README.md.  `make` builds bin/kiln; `make report` writes out/;
# `make check` runs every test suite; `make bench` measures; `make asan` /
# `make debug` build with sanitizers / without optimisation into build/<mode>.

MODE     ?= release
CC       ?= cc

# The libraries' flags come from pkg-config, asked only once src/scripts/deps.sh
# has installed the packages: build/pkg.mk is made by a rule that needs the
# deps, and make reads its makefiles again after remaking one, so the very
# first `make` on a bare machine installs, then compiles with every flag.
# (A $(shell pkg-config ...) here would run before deps.sh.) `make clean` and
# `make uninstall` need none of it.
.DEFAULT_GOAL := all
DEPS_SH  ?= src/scripts/deps.sh
ifneq ($(filter-out clean uninstall,$(or $(MAKECMDGOALS),all)),)
include build/pkg.mk
endif
build/pkg.mk: build/.deps-ok src/scripts/pkg-flags.sh
	@sh src/scripts/pkg-flags.sh > $@.tmp && mv $@.tmp $@

# The data: MNIST in the per-user cache, or wherever KILN_DATA says (the
# same variable kiln reads; KILN_DATA_DIR is its older name).
XDG_CACHE ?= $(if $(filter /%,$(XDG_CACHE_HOME)),$(XDG_CACHE_HOME),$(HOME)/.cache)
KILN_DATA ?= $(if $(KILN_DATA_DIR),$(KILN_DATA_DIR),$(XDG_CACHE)/kiln/mnist)
export KILN_DATA

WARN      = -Wall -Wextra -Wshadow -Wno-unused-parameter
OPT_release = -O3 -march=native -fno-math-errno -ffp-contract=off
OPT_debug   = -O0 -g3 -march=native -ffp-contract=off
OPT_asan    = -O1 -g -march=native -ffp-contract=off -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDOPT_asan  = -fsanitize=address,undefined
# make fuzz: the libraries for libFuzzer (clang), instrumented for coverage
OPT_fuzz    = -O1 -g -march=native -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDOPT_fuzz  = -fsanitize=address,undefined
OPT       = $(OPT_$(MODE))
BUILD     = build/$(MODE)
BIN       = $(if $(filter release,$(MODE)),bin/kiln,bin/kiln-$(MODE))

CPPFLAGS += -Iinclude -Isrc -I$(BUILD)/gen -D_GNU_SOURCE
CFLAGS   += -std=c11 $(WARN) $(OPT) -fopenmp $(PKG_CFLAGS)
LDFLAGS  += -fopenmp $(LDOPT_$(MODE))

# One static library per folder of src/, listed so that each needs only the
# ones after it: preview (the server, over the orchestrator) -> report (the
# orchestrator) -> diff, html, pdf -> resolve -> run -> doc -> math, cite,
# plot, stats -> base, train. A program that wants one stage links it and the
# libraries after it.
LIB_DIRS   := preview report diff html pdf resolve run doc math cite plot stats base train
TRAIN_SRC  := $(sort $(wildcard src/train/*.c))
CLI_SRC    := src/main.c $(sort $(wildcard src/cli/*.c))
TEST_SRC   := $(sort $(wildcard tests/check_*.c))
CLI_OBJ    := $(CLI_SRC:%.c=$(BUILD)/%.o)
LIBS       := $(foreach l,$(LIB_DIRS),$(BUILD)/libkiln_$(l).a)
TESTS      := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)

# make install PREFIX=/usr/local DESTDIR=...: the binary, the templates (the
# installed kiln reads them from PREFIX, wherever it is run) and kiln(1)
PREFIX   ?= /usr/local
BINDIR    = $(PREFIX)/bin
KILNDIR   = $(PREFIX)/share/kiln
MANDIR    = $(PREFIX)/share/man

.PHONY: all deps data report preview browser-deps check check-only check-browser check-isa check-slurm check-setup bench asan debug clean diff smoke install uninstall FORCE fuzz fuzz-build reseal-cache
all: deps $(BIN)

# --- set-up: Debian packages and the data -----------------------------------
deps: build/.deps-ok
build/.deps-ok: $(DEPS_SH) $(wildcard content/*.md)
	@sh $(DEPS_SH) content
	@mkdir -p build && touch $@
data: deps
	@sh src/scripts/fetch-data.sh "$(KILN_DATA)"

# --- the trainer fingerprint: a hash of the trainer's code without comments,
# plus what the build resolves to: the compiler, the flags, the instruction-set
# macros the trainer's code tests (-march=native turns them on or off: AVX-512
# and AVX2 pick different kernels) and the C library, whose libm computes
# exp/log/pow. Only the macros the code tests enter, so two CPUs that build
# the same kernels (an Intel and an AMD with AVX-512) share a fingerprint and
# a cache. The trainer is compiled with -ffp-contract=off (GCC's default for
# -std=c11, stated), so the compiler never fuses a*b+c on its own. ------------
FP_INPUTS := $(TRAIN_SRC) $(wildcard src/train/*.h) include/kiln/train.h
$(BUILD)/gen/kiln_fingerprint.h: $(FP_INPUTS) Makefile
	@mkdir -p $(dir $@)
	@isa=$$(for m in $$(cat $(FP_INPUTS) | grep -oE '__(AVX|FMA|SSE|F16C|BMI)[A-Z0-9_]*__' | sort -u); do \
	          printf '%s=%s ' $$m $$(echo "$$m" | $(CC) $(OPT) -E -P -x c - 2>/dev/null | grep -q "^$$m\$$" && echo 0 || echo 1); done); \
	 build="$$($(CC) --version | head -1); $$(getconf GNU_LIBC_VERSION 2>/dev/null || echo libc unknown); isa $${isa% }; flags $(OPT) -fopenmp"; \
	 fp=$$( { for f in $(FP_INPUTS); do echo "== $$f"; $(CC) -fpreprocessed -dD -E -P $$f 2>/dev/null | tr -s ' \t' ' ' | grep -v '^ *$$'; done; \
	          echo "$$build"; } | sha256sum | cut -c1-16 ); \
	 printf '#define KILN_TRAINER_FINGERPRINT "%s"\n#define KILN_TRAINER_BUILD "%s"\n' "$$fp" "$$build" > $@.tmp && \
	 if cmp -s $@.tmp $@; then rm $@.tmp; else mv $@.tmp $@; fi

# where an installed kiln finds its templates (src/cli/common.c); rewritten
# only when PREFIX changes, so a PREFIX at install time rebuilds the binary
$(BUILD)/gen/kiln_paths.h: FORCE
	@mkdir -p $(dir $@)
	@printf '#define KILN_TEMPLATE_DIR "%s"\n' "$(KILNDIR)/templates" > $@.tmp && \
	 if cmp -s $@.tmp $@; then rm $@.tmp; else mv $@.tmp $@; fi

$(BUILD)/%.o: %.c | $(BUILD)/gen/kiln_fingerprint.h $(BUILD)/gen/kiln_paths.h
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

# libkiln_DIR.a from src/DIR/*.c
define lib_rule
$$(BUILD)/libkiln_$(1).a: $$(patsubst %.c,$$(BUILD)/%.o,$$(sort $$(wildcard src/$(1)/*.c)))
	@rm -f $$@; ar rcs $$@ $$^
endef
$(foreach l,$(LIB_DIRS),$(eval $(call lib_rule,$(l))))

$(BIN): $(CLI_OBJ) $(LIBS)
	@mkdir -p bin
	$(CC) $(LDFLAGS) -o $@ $(CLI_OBJ) $(LIBS) $(PKG_LIBS)

$(BUILD)/tests/%: tests/%.c $(wildcard tests/*.h) $(LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Itests $(CFLAGS) $(CHECK_CFLAGS) -o $@ $< $(LIBS) $(PKG_LIBS) $(CHECK_LIBS) $(LDFLAGS)

# check_diff makes a trainer change of its own (one ulp in Adam's beta1, for
# kiln diff --quick): the trainer's calls of kiln_optimizer_init go through
# its wrapper. Test binary only; the shipped trainer has no hook.
$(BUILD)/tests/check_diff: LDFLAGS += -Wl,--wrap=kiln_optimizer_init

# --- the article ---------------------------------------------------------------
# The data is fetched only when a run must train: kiln build exits 3 when it
# stopped for want of it (a build served from the cache reads no data).
report: all
	@./$(BIN) build; rc=$$?; if [ $$rc = 3 ]; then \
	  echo "kiln: a run must train: fetching the data (make data), then building again"; \
	  $(MAKE) --no-print-directory data && ./$(BIN) build; else exit $$rc; fi

# make preview [PREVIEW_ARGS="--port 8080 --smoke"]: the site on
# http://127.0.0.1:8000/, rebuilt and reloaded on every save (README,
# "Previewing while you write")
preview: all
	./$(BIN) preview $(PREVIEW_ARGS)

# make diff DIFF_ARGS="HEAD~3 --acc-tol 0.001" (see README, "What changed");
# make diff QUICK=1 [STEPS=N]: the first steps of every run, retrained and
# compared bit for bit with the committed history (kiln diff --quick)
diff: all
	./$(BIN) diff $(if $(QUICK),--quick $(if $(STEPS),--steps $(STEPS))) $(DIFF_ARGS)

# --- tests: every Check suite, then the smoke build of the real content -------
# (and the Slurm tests: a two-node cluster on this machine, as root; they say
# SKIP where Slurm cannot be installed or started)
check: all data browser-deps $(TESTS)
	@$(MAKE) --no-print-directory check-only MODE=$(MODE)
	@$(if $(filter release,$(MODE)),sh tests/check_isa.sh "$(KILN_DATA)")
check-isa: all data
	@sh tests/check_isa.sh "$(KILN_DATA)"
check-only:
	@fail=0; for t in $(TESTS); do \
	  echo "== $$t"; OMP_WAIT_POLICY=passive KILN_BIN=$(BIN) KILN_MODE=$(MODE) CK_DEFAULT_TIMEOUT=600 \
	    XDG_CACHE_HOME=$(CURDIR)/build/test-cache $$t || fail=1; done; \
	  echo "== tests/slurm/test.sh"; KILN_BIN=$(BIN) sh tests/slurm/test.sh || fail=1; \
	  echo "== tests/check_setup.sh"; sh tests/check_setup.sh || fail=1; \
	  echo "== tests/browser/preview.mjs"; KILN_BIN=$(BIN) node tests/browser/preview.mjs || fail=1; \
	  echo "== tests/browser/site.mjs"; KILN_BIN=$(BIN) node tests/browser/site.mjs || fail=1; \
	  exit $$fail
# the browser tests (tests/browser/): Debian's chromium and npm, and the npm
# packages they pin (playwright-core, axe-core), set up like every other
# dependency (src/scripts/deps.sh browser); make check runs them
browser-deps:
	@sh src/scripts/deps.sh browser
check-browser: all browser-deps
	@fail=0; KILN_BIN=$(BIN) node tests/browser/preview.mjs || fail=1; \
	  KILN_BIN=$(BIN) node tests/browser/site.mjs || fail=1; exit $$fail
check-slurm: all data
	@KILN_BIN=$(BIN) sh tests/slurm/test.sh

# the set-up on a machine without the packages, simulated (tests/check_setup.sh)
check-setup:
	@sh tests/check_setup.sh

asan:
	@$(MAKE) --no-print-directory MODE=asan check
debug:
	@$(MAKE) --no-print-directory MODE=debug all

# make reseal-cache: format-1 cache entries (check over the result only) ->
# format 2 (check over the whole entry), keys and results kept
reseal-cache: $(BUILD)/tools/reseal_cache
	$(BUILD)/tools/reseal_cache $(wildcard content/cache/*.json)
$(BUILD)/tools/%: tests/tools/%.c $(LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(LIBS) $(PKG_LIBS) $(LDFLAGS)

# --- fuzzing (libFuzzer, ASan + UBSan): each target FUZZ_TIME seconds from its
# seed corpus tests/fuzz/corpus/NAME; what it adds goes to build/fuzz/corpus,
# a crash to build/fuzz/crash-NAME-* (and make fails) ----------------------------
FUZZ_CC      ?= clang-14
FUZZ_TIME    ?= 60
FUZZ_TARGETS := content cache idx plot math
FUZZ_BINS    := $(FUZZ_TARGETS:%=build/fuzz/fuzz_%)
fuzz-build:
	@$(MAKE) --no-print-directory MODE=fuzz CC=$(FUZZ_CC) $(FUZZ_BINS)
build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(LIBS)
	$(CC) $(CPPFLAGS) -DKILN_FUZZ_TEMPLATES='"$(CURDIR)/templates"' $(CFLAGS) -fsanitize=fuzzer -o $@ $< $(LIBS) $(PKG_LIBS) $(LDFLAGS)
fuzz: deps fuzz-build
	@fail=0; for t in $(FUZZ_TARGETS); do mkdir -p build/fuzz/corpus/$$t; \
	  echo "== fuzz_$$t for $(FUZZ_TIME) s"; \
	  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 build/fuzz/fuzz_$$t -max_total_time=$(FUZZ_TIME) -timeout=20 \
	    -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 -artifact_prefix=build/fuzz/crash-$$t- \
	    build/fuzz/corpus/$$t tests/fuzz/corpus/$$t 2>&1 | grep -E '^(#[0-9]+ +DONE|stat::number_of_executed_units|==[0-9]+==ERROR|SUMMARY|artifact_prefix|Test unit written)' || true; \
	  if ls build/fuzz/crash-$$t-* >/dev/null 2>&1; then echo "fuzz_$$t: FOUND a crash: build/fuzz/crash-$$t-*"; fail=1; fi; \
	done; exit $$fail

bench: all data
	@sh src/scripts/deps.sh bench
	@sh tests/bench.sh

# --- install ------------------------------------------------------------------
TEMPLATE_FILES := $(filter-out templates/new,$(wildcard templates/*))
install: $(BIN)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(KILNDIR)/templates/new $(DESTDIR)$(MANDIR)/man1
	install -m 755 $(BIN) $(DESTDIR)$(BINDIR)/kiln
	install -m 644 $(TEMPLATE_FILES) $(DESTDIR)$(KILNDIR)/templates/
	install -m 644 templates/new/*.md $(DESTDIR)$(KILNDIR)/templates/new/
	install -m 644 src/man/kiln.1 $(DESTDIR)$(MANDIR)/man1/kiln.1
uninstall:
	rm -f $(DESTDIR)$(BINDIR)/kiln $(DESTDIR)$(MANDIR)/man1/kiln.1
	rm -rf $(DESTDIR)$(KILNDIR)

clean:
	rm -rf build bin

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
