# latchkey — what a person types. Meson/Ninja do the building underneath.
#   make          build build/latchkey
#   make run      install what is missing, build, start the server on the embedded SQLite database
#   make test     install what is missing, build (-Werror, and ASan+UBSan), run every test
#   make deps     install missing Debian packages (apt-get), silent when all are present
#   make bench    build, install nginx/wrk if missing, print requests/s against nginx (docs/benchmarks.md)
#   make clean    remove build folders

BUILD      := build
ASAN_BUILD := build-asan
FUZZ_BUILD := build-fuzz
FUZZ_SECONDS ?= 60
MESON_OPTS := --buildtype=debugoptimized -Dwerror=true

.PHONY: all deps bench-deps build build-asan build-fuzz run test fuzz bench clean

all: build

deps:
	@sh scripts/deps.sh

$(BUILD)/build.ninja:
	@meson setup $(BUILD) $(MESON_OPTS) >/dev/null

$(ASAN_BUILD)/build.ninja:
	@meson setup $(ASAN_BUILD) --buildtype=debug -Dwerror=true \
	    -Db_sanitize=address,undefined -Db_lundef=false >/dev/null

$(FUZZ_BUILD)/build.ninja:
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

# every fuzz target for FUZZ_SECONDS each (make test runs them for a few seconds)
fuzz: build-fuzz
	@for f in $(FUZZ_BUILD)/fuzz_*; do \
	    n=$${f##*/fuzz_}; mkdir -p tests/fuzz/corpus/$$n; \
	    echo "== $$f ($(FUZZ_SECONDS) s)"; \
	    $$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 tests/fuzz/corpus/$$n || exit 1; \
	done

# the reference server, the load tool and friends, installed only if missing
bench-deps:
	@sh scripts/deps.sh bench

# a few minutes on a 2-core machine; BENCH_SECONDS=N per case (default 8)
bench: build bench-deps
	@BENCH_BIN=$(BUILD)/latchkey bash bench/run.sh

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
