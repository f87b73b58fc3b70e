# Two commands for a newcomer: `make run` and `make test`. Each installs the
# Debian packages it lacks (scripts/deps.sh), builds with CMake, then acts.
BUILD ?= build
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=RelWithDebInfo

.PHONY: all deps build test test-deb run asan fuzz bench bench-agent clean format deb

all: build

deps:
	@scripts/deps.sh

$(BUILD)/CMakeCache.txt: | deps
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS)

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

test: build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS) -LE deb

# The Debian packages built and installed into a scratch root (label deb).
test-deb: build
	@scripts/deps.sh deb
	ctest --test-dir $(BUILD) --output-on-failure -L deb

# The whole suite again under AddressSanitizer + UBSan.
asan:
	$(MAKE) test BUILD=build-asan CMAKE_FLAGS="-DCMAKE_BUILD_TYPE=Debug -DTOCSIN_SANITIZE=ON"

# libFuzzer on the decoders, parsers and config loaders, FUZZ_SECONDS each.
FUZZ_SECONDS ?= 30
fuzz:
	@scripts/deps.sh fuzz
	cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug \
	  -DTOCSIN_FUZZ=ON -DTOCSIN_TESTS=OFF
	cmake --build build-fuzz -j $(JOBS)
	scripts/fuzz.sh build-fuzz/bin $(FUZZ_SECONDS)

run: build
	@scripts/run.sh $(BUILD)/bin

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

# Debian packages into build-deb/ (dpkg-buildpackage -us -uc -b, then lintian).
deb:
	@scripts/deps.sh
	@scripts/deps.sh deb
	scripts/deb.sh build-deb

clean:
	rm -rf $(BUILD) build-asan build-fuzz build-deb

# Ingest throughput and replay time of the real coordinator on 127.0.0.1.
bench: build
	$(BUILD)/bin/bench_ingest 8 5000 256 1000000
	@scripts/deps.sh bench
	bench/agent_vs_monit.sh $(BUILD)/bin 30

# tocsin-agent and monit side by side on the same 10 checks (BENCH_SECONDS,
# default 60): CPU seconds per minute and RSS of each.
BENCH_SECONDS ?= 60
bench-agent: build
	@scripts/deps.sh bench
	bench/agent_vs_monit.sh $(BUILD)/bin $(BENCH_SECONDS)
