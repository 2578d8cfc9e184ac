# SPDX-License-Identifier: Apache-2.0
# Build for lcf: lcnode (the city node daemon) and lcctl (its admin CLI).

CC       ?= cc
CFLAGS   ?= -O2 -g
PREFIX   ?= /usr/local
DESTDIR  ?=
BUILD    ?= build
PKGS     := libuv libprotobuf-c libsodium lmdb inih jansson yajl libh2o libutf8proc \
            libsystemd

ifeq ($(SANITIZE),1)
CFLAGS   += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS  += -fsanitize=address,undefined
BUILD    := build-san
endif

# Warnings are errors in CI (CI=true) and `make check`, or with WERROR=1; not in a
# plain `make`, so that a newer compiler does not break a user's build.
ifeq ($(CI),true)
WERROR   ?= 1
endif
CFLAGS   += -std=gnu11 -Wall -Wextra -Wshadow -Wstrict-prototypes \
            -Wformat=2 -Wno-format-nonliteral -MMD -MP -D_GNU_SOURCE
ifeq ($(WERROR),1)
CFLAGS   += -Werror
endif
# No build path in the binaries, debug information included (the install test
# checks): the source tree is "." in file names and DW_AT_comp_dir.
CFLAGS   += -ffile-prefix-map=$(CURDIR)=.
CPPFLAGS += -I$(BUILD)/gen -Inode $(shell pkg-config --cflags $(PKGS))
LDLIBS   += $(shell pkg-config --libs $(PKGS)) -lcsv -lstemmer -lpthread -lm

ifneq ($(V),1)
Q = @
quiet = @printf '  %-7s %s\n' "$(1)" "$(2)";
endif

PROTOS    := $(wildcard proto/*.proto)
GEN_C     := $(patsubst proto/%.proto,$(BUILD)/gen/%.pb-c.c,$(PROTOS))
GEN_H     := $(GEN_C:.c=.h)
LAYERS    := base model store wire core write net view http admin
LIB_SRC   := $(foreach l,$(LAYERS),$(wildcard node/$(l)/*.c))
LIB_OBJ   := $(patsubst node/%.c,$(BUILD)/node/%.o,$(LIB_SRC)) \
             $(patsubst $(BUILD)/gen/%.c,$(BUILD)/gen/%.o,$(GEN_C))
CTL_SRC   := $(wildcard tools/lcctl/*.c)
CTL_OBJ   := $(patsubst tools/%.c,$(BUILD)/tools/%.o,$(CTL_SRC))
AUX_SRC   := $(wildcard tools/aux/*.c)
AUX_BIN   := $(patsubst tools/aux/%.c,$(BUILD)/%,$(AUX_SRC))
UNIT_SRC  := $(wildcard tests/unit/test_*.c)
UNIT_BIN  := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))

# The web dashboard (web/), bundled by esbuild into $(BUILD)/web/ when npm is
# here (WEB=0 leaves it out); its npm packages go into $(BUILD)/web-npm/ from
# the committed lockfile.
WEB      ?= $(if $(shell command -v npm 2>/dev/null),1,0)
WEB_NPM  := $(BUILD)/web-npm
WEB_SRC  := $(shell find web/src -type f 2>/dev/null) web/build.mjs
ifeq ($(WEB),1)
WEB_OUT  := $(BUILD)/web/index.html
endif

# The build tree mirrors the installed share/lcf (see sharedir.o below).
SHARE_OUT := $(BUILD)/share/lcf/catalog.json $(BUILD)/share/lcf/web

# Man pages, from scdoc sources in docs/man/ into $(BUILD)/man/ when scdoc is
# here (MAN=0 leaves them out; `make install` needs them).
MAN      ?= $(if $(shell command -v scdoc 2>/dev/null),1,0)
MAN_SRC  := $(wildcard docs/man/*.scd)
MAN_PAGES := $(patsubst docs/man/%.scd,$(BUILD)/man/%,$(MAN_SRC))
ifeq ($(MAN),1)
MAN_OUT  := $(MAN_PAGES)
endif

all: $(BUILD)/lcnode $(BUILD)/lcctl $(AUX_BIN) $(WEB_OUT) $(SHARE_OUT) $(MAN_OUT)

web: $(BUILD)/web/index.html

$(WEB_NPM)/node_modules/.package-lock.json: web/package.json web/package-lock.json
	@mkdir -p $(WEB_NPM)
	$(call quiet,NPM,$(WEB_NPM))
	$(Q)cp web/package.json web/package-lock.json web/.npmrc $(WEB_NPM)/ && \
	    cd $(WEB_NPM) && PUPPETEER_SKIP_DOWNLOAD=1 npm ci --prefer-offline \
	    --no-audit --no-fund --loglevel=error >&2

$(BUILD)/web/index.html: $(WEB_SRC) $(WEB_NPM)/node_modules/.package-lock.json
	$(call quiet,ESBUILD,$(BUILD)/web)
	$(Q)node web/build.mjs $(WEB_NPM)/node_modules $(BUILD)/web

# lcnode finds the catalog and the dashboard in share/lcf beside its own folder
# (PREFIX/bin/../share/lcf installed, $(BUILD)/share/lcf in the build tree,
# which make fills), else under the PREFIX it was compiled with
# (node/base/sharedir.c): a `make install PREFIX=...` after a plain `make`
# rebuilds what depends on it.
PREFIX_STAMP := $(BUILD)/prefix
$(shell mkdir -p $(BUILD) && { [ "$$(cat $(PREFIX_STAMP) 2>/dev/null)" = "$(PREFIX)" ] || \
    echo "$(PREFIX)" > $(PREFIX_STAMP); })
$(BUILD)/node/base/sharedir.o: $(PREFIX_STAMP)
$(BUILD)/node/base/sharedir.o: CPPFLAGS += -DLCF_DATADIR=\"$(PREFIX)/share/lcf\"

# The version: the VERSION file of a release tarball (tools/web-deps-tarball.sh
# writes it; a git checkout has none), else `git describe` (the commit when
# there is no tag); LCF_VERSION=... on the command line overrides both.
# $(BUILD)/gen/lcf_version.h is rewritten only when it changes, so that only
# what prints the version is rebuilt.
LCF_VERSION ?= $(shell cat VERSION 2>/dev/null || git describe --tags --always --dirty 2>/dev/null || echo unknown)
VERSION_H := $(BUILD)/gen/lcf_version.h
$(shell mkdir -p $(BUILD)/gen && { [ "$$(cat $(VERSION_H) 2>/dev/null)" = \
    '#define LCF_VERSION "$(LCF_VERSION)"' ] || \
    echo '#define LCF_VERSION "$(LCF_VERSION)"' > $(VERSION_H); })
ifneq ($(words $(LCF_VERSION)) $(shell printf %s '$(LCF_VERSION)' | wc -c | awk '{print ($$1 <= 32)}'),1 1)
$(error LCF_VERSION "$(LCF_VERSION)": one word of at most 32 characters (a beacon's software field))
endif

# The build tree mirrors the installed share/lcf: $(BUILD)/share/lcf holds the
# catalog and (a link to) the dashboard, so that $(BUILD)/lcnode runs as is.
$(BUILD)/share/lcf/catalog.json: config/catalog.json
	@mkdir -p $(dir $@)
	$(Q)cp $< $@
$(BUILD)/share/lcf/web:
	@mkdir -p $(dir $@)
	$(Q)ln -sfn ../../web $@

man: $(MAN_PAGES)

$(BUILD)/man/%: docs/man/%.scd
	@mkdir -p $(BUILD)/man
	$(call quiet,SCDOC,$@)
	$(Q)scdoc < $< > $@.tmp && mv $@.tmp $@

$(BUILD)/gen/%.pb-c.c $(BUILD)/gen/%.pb-c.h: proto/%.proto
	@mkdir -p $(BUILD)/gen
	$(call quiet,PROTOC,$<)
	$(Q)protoc-c --proto_path=proto --c_out=$(BUILD)/gen $<

$(BUILD)/gen/%.o: $(BUILD)/gen/%.c $(GEN_H)
	$(call quiet,CC,$<)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -Wno-shadow -c -o $@ $<

# The OpenAPI document, served at /api/v1/openapi.json, compiled in.
$(BUILD)/gen/openapi_doc.h: docs/openapi.json
	@mkdir -p $(BUILD)/gen
	$(call quiet,GEN,$@)
	$(Q){ echo 'static const char openapi_doc[] = {'; od -An -v -tx1 $< | \
	    sed 's/\([0-9a-f][0-9a-f]\)/0x\1,/g'; echo '0x00 };'; } > $@.tmp && mv $@.tmp $@
$(BUILD)/node/http/api.o: $(BUILD)/gen/openapi_doc.h
# Search scores are float sums that must not depend on the path taken (no
# fused multiply-add on targets that have one).
$(BUILD)/node/store/search.o: CFLAGS += -ffp-contract=off

$(BUILD)/node/%.o: node/%.c $(GEN_H)
	@mkdir -p $(dir $@)
	$(call quiet,CC,$<)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD)/tools/%.o: tools/%.c $(GEN_H)
	@mkdir -p $(dir $@)
	$(call quiet,CC,$<)
	$(Q)$(CC) $(CPPFLAGS) -Itools/lcctl $(CFLAGS) -c -o $@ $<

$(BUILD)/liblcf.a: $(LIB_OBJ)
	$(call quiet,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/lcnode: $(BUILD)/node/main.o $(BUILD)/liblcf.a
	$(call quiet,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/lcctl: $(CTL_OBJ) $(BUILD)/liblcf.a
	$(call quiet,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/%: $(BUILD)/tools/aux/%.o $(BUILD)/liblcf.a
	$(call quiet,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Unit tests find their fixtures in the source tree.
$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/liblcf.a
	@mkdir -p $(dir $@)
	$(call quiet,CC,$<)
	$(Q)$(CC) $(CPPFLAGS) -DLCF_SRCDIR=\"$(CURDIR)\" $(CFLAGS) -o $@ $< $(BUILD)/liblcf.a $(LDFLAGS) $(LDLIBS) -lcmocka

tests: all $(UNIT_BIN)

# The whole suite: the layer check, cmocka unit tests, then black-box tests on the
# real binaries.
test: tests
	$(Q)BUILD=$(BUILD) tests/run.sh

# node/'s folders are layers: includes and calls only point down (tools/check-layers.sh).
check-layers: all
	$(Q)tools/check-layers.sh $(BUILD)

bench: all
	$(Q)BUILD=$(BUILD) tests/bench/run.sh

# The conformance vectors of docs/vectors/, written by tools/aux/lcf-vectors
# from fixed keys (tests/blackbox/vectors.sh checks that they regenerate
# byte for byte).
vectors: $(BUILD)/lcf-vectors
	$(Q)$(BUILD)/lcf-vectors docs/vectors

# The network campaign (tests/net/): namespaces, nftables loss and
# partitions, a delaying relay, skewed clocks. Needs root; a few minutes.
test-net: all
	$(Q)if [ "$$(id -u)" != 0 ]; then echo "make test-net needs root: it creates network namespaces and nftables rules (run: sudo make test-net)" >&2; exit 2; fi
	$(Q)BUILD=$(BUILD) tests/run.sh net

# libFuzzer targets for every decoder (clang with compiler-rt: Debian's clang and
# libclang-rt-*-dev), under ASan and UBSan. The node's sources are compiled once
# into build-fuzz/obj/ and linked into each target. `make fuzz` builds them and
# runs each FUZZ_RUNS times (default 10 million) from its corpus in
# tests/fuzz/corpus/NAME/ (FUZZ=NAME runs one; FUZZ_JOBS targets at a time);
# `make fuzz-build` only builds; `make fuzz-merge` folds what a run found into
# the committed corpora, minimised (tests/fuzz/run.sh says more).
FUZZ_CC    ?= clang
FUZZ_FLAGS := -g -O1 -fno-omit-frame-pointer -D_GNU_SOURCE
FUZZ_SRC   := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN   := $(patsubst tests/fuzz/%.c,build-fuzz/%,$(FUZZ_SRC))
FUZZ_OBJ   := $(patsubst node/%.c,build-fuzz/obj/node/%.o,$(LIB_SRC)) \
              $(patsubst $(BUILD)/gen/%.c,build-fuzz/obj/gen/%.o,$(GEN_C))
FUZZ_RUNS  ?= 10000000
FUZZ_JOBS  ?= 2

fuzz: fuzz-build
	$(Q)FUZZ_RUNS=$(FUZZ_RUNS) FUZZ_JOBS=$(FUZZ_JOBS) tests/fuzz/run.sh run $(FUZZ)

fuzz-build: $(GEN_H) $(FUZZ_BIN)

fuzz-merge: fuzz-build
	$(Q)tests/fuzz/run.sh merge $(FUZZ)

build-fuzz/obj/node/%.o: node/%.c $(GEN_H)
	@mkdir -p $(dir $@)
	$(call quiet,FUZZCC,$<)
	$(Q)$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link,address,undefined \
	  $(CPPFLAGS) -c -o $@ $<

build-fuzz/obj/gen/%.o: $(BUILD)/gen/%.c $(GEN_H)
	@mkdir -p $(dir $@)
	$(call quiet,FUZZCC,$<)
	$(Q)$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link,address,undefined \
	  $(CPPFLAGS) -c -o $@ $<

build-fuzz/obj/node/http/api.o: $(BUILD)/gen/openapi_doc.h

# An archive, so that each target links only the objects it calls: fewer
# coverage counters for libFuzzer to scan after every input.
build-fuzz/libnode.a: $(FUZZ_OBJ)
	$(Q)rm -f $@ && ar rcs $@ $^

build-fuzz/fuzz_%: tests/fuzz/fuzz_%.c build-fuzz/libnode.a
	@mkdir -p build-fuzz
	$(call quiet,FUZZ,$@)
	$(Q)$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer,address,undefined \
	  $(CPPFLAGS) -o $@ $< build-fuzz/libnode.a $(LDLIBS)

# Static checks: a build with warnings as errors, the layers, cppcheck.
check:
	$(Q)$(MAKE) --no-print-directory WERROR=1 WEB=0 BUILD=build-check all
	$(Q)tools/check-layers.sh build-check
	cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
	  --suppress=missingIncludeSystem --inline-suppr -I node -I $(BUILD)/gen node tools

demo: all
	$(Q)BUILD=$(BUILD) tools/demo.sh

# Installs under DESTDIR/PREFIX: bin/, share/man/, the bash completion, share/lcf/
# (catalog, dashboard) and, from config/systemd/, the systemd units into
# SYSTEMDUNITDIR and the lcf user and state directory into SYSUSERSDIR and
# TMPFILESDIR. Nothing installed refers to the build tree.
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR    ?= $(PREFIX)/lib/sysusers.d
TMPFILESDIR    ?= $(PREFIX)/lib/tmpfiles.d
BASHCOMPDIR    ?= $(PREFIX)/share/bash-completion/completions
UNITS    := $(wildcard config/systemd/*.service config/systemd/*.timer)
install: all $(MAN_PAGES)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/lcf \
	    $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man5 \
	    $(DESTDIR)$(PREFIX)/share/man/man8 $(DESTDIR)$(BASHCOMPDIR)
	install -m 0755 $(BUILD)/lcnode $(BUILD)/lcctl $(DESTDIR)$(PREFIX)/bin/
	install -m 0644 config/catalog.json $(DESTDIR)$(PREFIX)/share/lcf/
	for m in $(MAN_PAGES); do install -m 0644 $$m \
	    $(DESTDIR)$(PREFIX)/share/man/man$${m##*.}/; done
	install -m 0644 tools/lcctl.bash-completion $(DESTDIR)$(BASHCOMPDIR)/lcctl
	if [ -f $(BUILD)/web/index.html ]; then rm -rf $(DESTDIR)$(PREFIX)/share/lcf/web && \
	    cp -RL $(BUILD)/web $(DESTDIR)$(PREFIX)/share/lcf/web && \
	    chmod -R u=rwX,go=rX $(DESTDIR)$(PREFIX)/share/lcf/web; fi
	if [ -n "$(UNITS)" ]; then install -d $(DESTDIR)$(SYSTEMDUNITDIR) && \
	    install -m 0644 $(UNITS) $(DESTDIR)$(SYSTEMDUNITDIR)/; fi
	if [ -f config/systemd/lcf.sysusers ]; then install -d $(DESTDIR)$(SYSUSERSDIR) && \
	    install -m 0644 config/systemd/lcf.sysusers $(DESTDIR)$(SYSUSERSDIR)/lcf.conf; fi
	if [ -f config/systemd/lcf.tmpfiles ]; then install -d $(DESTDIR)$(TMPFILESDIR) && \
	    install -m 0644 config/systemd/lcf.tmpfiles $(DESTDIR)$(TMPFILESDIR)/lcf.conf; fi

clean:
	rm -rf build build-san build-fuzz build-check

.PHONY: all tests test test-net bench check check-layers demo install clean fuzz fuzz-build fuzz-merge web man vectors
.SECONDARY:

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
