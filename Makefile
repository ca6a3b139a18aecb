# Entry points for people and CI. CMake does the real work; this file only strings the steps
# together so that a clean clone needs one command: `make demo`, `make test`.
#
#   make deps           install the missing Debian packages (as root; otherwise says what to run)
#   make build          configure and build build/ (RelWithDebInfo)
#   make test           build, then run every test in build/
#   make test-sanitize  the same in build-asan/ with AddressSanitizer + UBSan (Debug, asserts on)
#   make demo           build, then three slow poetry servers and get-poetry against them
#   make bench          build, then every benchmark against its peers (about half an hour)
#   make bench-quick    the same in quick mode (a few minutes); see bench/README.md
#   make clean          remove build/ and build-asan/

SHELL := /bin/bash

# One step at a time (each build runs its compiler jobs in parallel itself): two deps steps must
# not run apt-get side by side.
.NOTPARALLEL:

BUILD_DIR  ?= build
ASAN_DIR   ?= build-asan
BUILD_TYPE ?= RelWithDebInfo
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
TEST_JOBS  ?= 2

# A test run that finds no test is a broken run, not a green one.
CTEST_FLAGS = --output-on-failure -j$(TEST_JOBS) --no-tests=error

# Sanitizer reports stop the test that triggers them, with a stack trace.
SANITIZER_ENV = ASAN_OPTIONS=$${ASAN_OPTIONS:-detect_leaks=1} \
                UBSAN_OPTIONS=$${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

.PHONY: all deps deps-bench build test build-sanitize test-sanitize demo bench bench-quick clean

all: build

deps:
	@bash scripts/deps.sh

# The build packages plus the benchmarks' peers (Asio, libuv, libevent, Twisted) and python3.
deps-bench:
	@bash scripts/deps.sh bench

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

test-sanitize: build-sanitize
	$(SANITIZER_ENV) ctest --test-dir $(ASAN_DIR) $(CTEST_FLAGS)

demo: build
	@bash scripts/demo.sh $(BUILD_DIR)

# Side-by-side benchmarks against raw epoll, Asio, libuv, libevent and Twisted (bench/README.md).
# deps-bench runs first, so `build` configures with the peers' libraries present.
bench: deps-bench build
	python3 bench/run.py --build-dir $(BUILD_DIR)

bench-quick: deps-bench build
	python3 bench/run.py --build-dir $(BUILD_DIR) --quick

clean:
	rm -rf $(BUILD_DIR) $(ASAN_DIR)
