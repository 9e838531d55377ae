# latchkey — what a person types. Meson/Ninja do the building underneath.
#   make          build build/latchkey
#   make run      install what is missing, build, start the server on the embedded SQLite database
#   make test     install what is missing, build (-Werror, and ASan+UBSan), run every test
#   make deps     install missing Debian packages (apt-get), silent when all are present
#   make clean    remove build folders

BUILD      := build
ASAN_BUILD := build-asan
MESON_OPTS := --buildtype=debugoptimized -Dwerror=true

.PHONY: all deps build build-asan run test clean

all: build

deps:
	@sh scripts/deps.sh

$(BUILD)/build.ninja:
	@meson setup $(BUILD) $(MESON_OPTS) >/dev/null

$(ASAN_BUILD)/build.ninja:
	@meson setup $(ASAN_BUILD) --buildtype=debug -Dwerror=true \
	    -Db_sanitize=address,undefined -Db_lundef=false >/dev/null

build: deps $(BUILD)/build.ninja
	@ninja -C $(BUILD) --quiet

build-asan: deps $(ASAN_BUILD)/build.ninja
	@ninja -C $(ASAN_BUILD) --quiet

run: build
	./$(BUILD)/latchkey serve

test: build build-asan
	@sh tests/run.sh $(ASAN_BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
