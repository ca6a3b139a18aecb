# Entry points for people and CI. CMake does the real work; this file only strings the steps
# together so that a clean clone needs one command: `make demo`, `make test`.
#
#   make deps           install the missing Debian packages (as root; otherwise says what to run)
#   make build          configure and build build/ (RelWithDebInfo)
#   make test           build, then run every test in build/
#   make test-sanitize  the same in build-asan/ with AddressSanitizer + UBSan (Debug, asserts on),
#                       then the threaded integration tests in build-tsan/ under ThreadSanitizer
#   make soak           10,000 connections streaming checksummed data both ways for 30 s
#                       (SOAK_CONNECTIONS=1000 SOAK_SECONDS=5 for the short run CI makes)
#   make demo           build, then three slow poetry servers and get-poetry against them
#   make bench          build, then every benchmark against its peers (about half an hour)
#   make bench-quick    the same in quick mode (a few minutes); see bench/README.md
#   make fuzz           build fuzz/ with clang into build-fuzz/, replay the seeds, then run each
#                       libFuzzer target for FUZZ_SECONDS (default 60); see fuzz/README.md
#   make clean          remove build/, build-asan/, build-tsan/ and build-fuzz/

SHELL := /bin/bash

# One step at a time (each build runs its compiler jobs in parallel itself): two deps steps must
# not run apt-get side by side.
.NOTPARALLEL:

BUILD_DIR  ?= build
ASAN_DIR   ?= build-asan
TSAN_DIR   ?= build-tsan
FUZZ_DIR   ?= build-fuzz
FUZZ_CXX   ?= clang++-16
FUZZ_SECONDS ?= 60
# Crash reports name functions and lines through clang 16's own symbolizer.
FUZZ_ENV = ASAN_SYMBOLIZER_PATH=$${ASAN_SYMBOLIZER_PATH:-/usr/lib/llvm-16/bin/llvm-symbolizer}
FUZZ_TARGETS = line_receiver line_only_receiver netstring_receiver int8_receiver int16_receiver \
               int32_receiver poetry_address transport_ops
BUILD_TYPE ?= RelWithDebInfo
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
TEST_JOBS  ?= 2
SOAK_CONNECTIONS ?= 10000
SOAK_SECONDS     ?= 30

# A test run that finds no test is a broken run, not a green one.
CTEST_FLAGS = --output-on-failure -j$(TEST_JOBS) --no-tests=error

# Sanitizer reports stop the test that triggers them, with a stack trace.
SANITIZER_ENV = ASAN_OPTIONS=$${ASAN_OPTIONS:-detect_leaks=1} \
                UBSAN_OPTIONS=$${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
TSAN_ENV = TSAN_OPTIONS=$${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}
# The test suites whose files start threads or call across them (std::thread, callFromThread,
# the resolver's thread pool, signals from another thread): what ThreadSanitizer can judge. The
# rest of the suite is single-threaded, and its big transfers would only race their watchdogs
# at TSan's speed.
TSAN_TESTS = ^(CallFromThread|ThreadedResolver|ReactorLifecycle|SystemEvents|ReactorTimers|$\
             ReactorDescriptors|SignalHandlers|SignalsOff|TermAndInt/Signals)\.
# TSan runs a signal's handler only at the receiving thread's next intercepted call, and
# epoll_wait is not one that delivers it: a kill() that lands just before the reactor waits is
# held back until the watchdog fires. Real delivery is immediate; the plain and ASan runs test it.
TSAN_SKIP  = ^SignalHandlers\.SignalSentFromAnotherThreadStopsTheReactor$$

.PHONY: all deps deps-bench build test build-sanitize build-tsan test-sanitize soak demo bench \
        bench-quick clean

all: build

deps:
	@bash scripts/deps.sh

# The build packages plus the benchmarks' peers (Asio, libuv, libevent, Twisted) and python3.
deps-bench:
	@bash scripts/deps.sh bench

# The build packages plus clang and libFuzzer's runtime.
deps-fuzz:
	@bash scripts/deps.sh fuzz

build: deps
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -DSPINDLE_BUILD_TESTS=ON
	cmake --build $(BUILD_DIR) -j$(JOBS)

test: build
	ctest --test-dir $(BUILD_DIR) $(CTEST_FLAGS)

# The benchmarks are not built here: timings under the sanitizers mean nothing.
build-sanitize: deps
	cmake -S . -B $(ASAN_DIR) -DCMAKE_BUILD_TYPE=Debug -DSPINDLE_BUILD_TESTS=ON -DSPINDLE_SANITIZE=ON \
	  -DSPINDLE_BUILD_BENCH=OFF
	cmake --build $(ASAN_DIR) -j$(JOBS)

# ThreadSanitizer cannot share a build with AddressSanitizer: build-tsan/ builds only the
# integration tests, which hold every test that starts a thread, and runs TSAN_TESTS of them.
build-tsan: deps
	cmake -S . -B $(TSAN_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSPINDLE_BUILD_TESTS=ON \
	  -DSPINDLE_TSAN=ON -DSPINDLE_BUILD_BENCH=OFF -DSPINDLE_BUILD_SOAK=OFF
	cmake --build $(TSAN_DIR) -j$(JOBS) --target spindle_integration_tests

test-sanitize: build-sanitize build-tsan
	$(SANITIZER_ENV) ctest --test-dir $(ASAN_DIR) $(CTEST_FLAGS)
	$(TSAN_ENV) ctest --test-dir $(TSAN_DIR) $(CTEST_FLAGS) -R '$(TSAN_TESTS)' -E '$(TSAN_SKIP)'

# Many connections for a while, every byte checked both ways (soak/README.md). Fails on any lost
# or corrupted byte, any error, or fewer connections held than asked.
soak: build
	$(BUILD_DIR)/soak/spindle-soak --connections $(SOAK_CONNECTIONS) --seconds $(SOAK_SECONDS)

.PHONY: deps-fuzz build-fuzz fuzz

# libFuzzer needs clang: a configuration of its own, with only the fuzz targets built.
build-fuzz: deps-fuzz
	cmake -S . -B $(FUZZ_DIR) -DCMAKE_CXX_COMPILER=$(FUZZ_CXX) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DSPINDLE_BUILD_FUZZ=ON -DSPINDLE_BUILD_TESTS=OFF -DSPINDLE_BUILD_BENCH=OFF
	cmake --build $(FUZZ_DIR) --target fuzz_targets -j$(JOBS)

# Replays the committed seeds (CTest), then fuzzes each target for FUZZ_SECONDS; a finding fails
# the run and leaves its reproducer in $(FUZZ_DIR)/fuzz/artifacts/.
fuzz: build-fuzz
	$(SANITIZER_ENV) $(FUZZ_ENV) ctest --test-dir $(FUZZ_DIR) $(CTEST_FLAGS) -R '^fuzz\.'
	@$(FUZZ_ENV) bash fuzz/run.sh $(FUZZ_DIR) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

demo: build
	@bash scripts/demo.sh $(BUILD_DIR)

# Side-by-side benchmarks against raw epoll, Asio, libuv, libevent and Twisted (bench/README.md).
# deps-bench runs first, so `build` configures with the peers' libraries present.
bench: deps-bench build
	python3 bench/run.py --build-dir $(BUILD_DIR)

bench-quick: deps-bench build
	python3 bench/run.py --build-dir $(BUILD_DIR) --quick

clean:
	rm -rf $(BUILD_DIR) $(ASAN_DIR) $(TSAN_DIR) $(FUZZ_DIR)
