# latchkey — what a person types. Meson/Ninja do the building underneath.
#   make          build build/latchkey
#   make run      install what is missing, build, start the server on the embedded SQLite database
#   make test     install what is missing, build (-Werror, and ASan+UBSan), run every test
#   make fuzz     every libFuzzer target for FUZZ_SECONDS (default 60) each
#   make deps     install missing Debian packages (apt-get), silent when all are present
#   make install  build a release and install it (PREFIX=/usr/local, DESTDIR): docs/operations.md
#   make deb      build the Debian package into build-deb/
#   make package-test  lintian, then the package installed with apt into a new Debian 12 (root)
#   make bench    build, install nginx/wrk if missing, print requests/s against nginx (docs/benchmarks.md)
#   make clean    remove build folders
# Every target is safe under make -j: each build folder is set up only after `deps`, every
# other package group (deps-package, bench-deps) installs after it, and scripts/deps.sh takes
# a lock besides, so that two make runs never start apt-get at once either. `clean` with other
# goals (make -j clean test) makes the whole run serial: the goals then go in the order given.

BUILD      := build
ASAN_BUILD := build-asan
FUZZ_BUILD := build-fuzz
RELEASE_BUILD := build-release
FUZZ_SECONDS ?= 60
MESON_OPTS := --buildtype=debugoptimized -Dwerror=true

# make install: where things go. The installed binary reads SYSCONFDIR/latchkey/latchkey.conf
# and keeps its database in /var/lib/latchkey (the systemd unit's StateDirectory).
PREFIX     ?= /usr/local
SYSCONFDIR ?= $(if $(filter /usr,$(PREFIX)),/etc,$(PREFIX)/etc)
RELEASE_OPTS := -Doptimization=2 -Ddebug=false -Dwerror=true -Dtests=disabled --prefix=$(PREFIX) \
    --sysconfdir=$(SYSCONFDIR) -Ddefault_config=$(SYSCONFDIR)/latchkey/latchkey.conf \
    -Ddefault_db=/var/lib/latchkey/latchkey.db

.PHONY: all deps deps-package bench-deps build build-asan build-fuzz run test fuzz install deb \
        package-test bench clean

ifneq ($(filter clean,$(MAKECMDGOALS)),)
.NOTPARALLEL:
endif

all: build

deps:
	@sh scripts/deps.sh

deps-package: deps
	@sh scripts/deps.sh package

# a build folder is set up only once the packages it looks for are there (order-only)
$(BUILD)/build.ninja: | deps
	@meson setup $(BUILD) $(MESON_OPTS) >/dev/null

$(ASAN_BUILD)/build.ninja: | deps
	@meson setup $(ASAN_BUILD) --buildtype=debug -Dwerror=true \
	    -Db_sanitize=address,undefined -Db_lundef=false >/dev/null

$(FUZZ_BUILD)/build.ninja: | deps
	@CC=clang meson setup $(FUZZ_BUILD) --buildtype=debug -Dwerror=true -Dfuzz=true -Dtests=disabled \
	    -Db_sanitize=address,undefined -Db_lundef=false >/dev/null

build: deps $(BUILD)/build.ninja
	@ninja -C $(BUILD) --quiet

build-asan: deps $(ASAN_BUILD)/build.ninja
	@ninja -C $(ASAN_BUILD) --quiet

build-fuzz: deps $(FUZZ_BUILD)/build.ninja
	@ninja -C $(FUZZ_BUILD) --quiet

run: build
	./$(BUILD)/latchkey serve

test: build build-asan build-fuzz
	@FUZZ_BUILD=$(FUZZ_BUILD) sh tests/run.sh $(ASAN_BUILD)

# every fuzz target for FUZZ_SECONDS each (make test runs them for a few seconds); the
# executables only, not meson's fuzz_*.p object folders. Seeded with tests/fuzz/corpus/NAME;
# new inputs go to build-fuzz/corpus/NAME and crashes to build-fuzz/ (copy the inputs worth
# keeping into the committed corpus by hand)
fuzz: build-fuzz
	@for f in $(FUZZ_BUILD)/fuzz_*; do \
	    [ -f "$$f" ] && [ -x "$$f" ] || continue; \
	    n=$${f##*/fuzz_}; mkdir -p $(FUZZ_BUILD)/corpus/$$n; \
	    echo "== $$f ($(FUZZ_SECONDS) s)"; \
	    $$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 -artifact_prefix=$(FUZZ_BUILD)/ \
	        $(FUZZ_BUILD)/corpus/$$n tests/fuzz/corpus/$$n || exit 1; \
	done

# a release build with the installation's defaults, set up again when PREFIX or SYSCONFDIR change
install: deps
	@if [ -f $(RELEASE_BUILD)/build.ninja ]; then meson configure $(RELEASE_BUILD) $(RELEASE_OPTS) >/dev/null; \
	 else meson setup $(RELEASE_BUILD) $(RELEASE_OPTS) >/dev/null; fi
	@ninja -C $(RELEASE_BUILD) --quiet
	@meson install -C $(RELEASE_BUILD) --no-rebuild --quiet $(if $(DESTDIR),--destdir $(DESTDIR))

deb: deps-package
	@sh scripts/deb.sh

# needs root and a few minutes (a new Debian 12 root, booted with systemd-nspawn)
package-test: deb
	@sh tests/package/run.sh

# the reference server, the load tool and friends, installed only if missing; after `deps`,
# so that make -j never starts two apt-get at once
bench-deps: deps
	@sh scripts/deps.sh bench

# a few minutes on a 2-core machine; BENCH_SECONDS=N per case (default 8)
bench: build bench-deps
	@BENCH_BIN=$(BUILD)/latchkey bash bench/run.sh

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD) $(RELEASE_BUILD) build-deb
